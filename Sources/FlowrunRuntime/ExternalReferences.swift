import FlowrunValue

/// Links a local record to its copy at a provider (seed 000's ExternalReference): the remote id, the
/// versions of both sides when they were last in step, and the hash of what was last synced. Kept by
/// namespace (e.g. `crm-contacts`), so an inbound and an outbound flow of the same records share them.
public struct ExternalReference: Sendable, Equatable {
    public var localID: String
    public var remoteID: String
    /// The remote record's version (e.g. its `updated_at`) when it was last synced.
    public var remoteVersion: String?
    /// The local record's version when it was last synced.
    public var localVersion: String?
    /// A hash of the record as last synced: an equal hash means there is nothing to send.
    public var hash: String?

    public init(
        localID: String, remoteID: String, remoteVersion: String? = nil, localVersion: String? = nil,
        hash: String? = nil
    ) {
        self.localID = localID
        self.remoteID = remoteID
        self.remoteVersion = remoteVersion
        self.localVersion = localVersion
        self.hash = hash
    }

    /// The reference as flows see it.
    public var value: Value {
        [
            "localId": .string(localID), "remoteId": .string(remoteID),
            "remoteVersion": remoteVersion.map { .string($0) } ?? .null,
            "localVersion": localVersion.map { .string($0) } ?? .null, "hash": hash.map { .string($0) } ?? .null,
        ]
    }

    /// The columns both SQL stores keep, after the namespace: local_id, remote_id, remote_version,
    /// local_version, hash.
    public var columns: [Value] {
        [
            .string(localID), .string(remoteID), remoteVersion.map { .string($0) } ?? .null,
            localVersion.map { .string($0) } ?? .null, hash.map { .string($0) } ?? .null,
        ]
    }

    /// Reads a reference from rows of (local_id, remote_id, remote_version, local_version, hash).
    public static func stored(_ row: [Value]) -> ExternalReference {
        ExternalReference(
            localID: row[0].stringValue ?? "", remoteID: row[1].stringValue ?? "", remoteVersion: row[2].stringValue,
            localVersion: row[3].stringValue, hash: row[4].stringValue)
    }

    /// Which id a batch lookup is by.
    public enum Side: String, Sendable, CaseIterable {
        case local, remote
    }

    /// How many ids one lookup statement carries (SQLite allows 32,766 parameters; PostgreSQL 65,535).
    public static let lookupChunk = 500

    /// A batch lookup as both SQL stores make it: one statement per `chunk` ids, `SELECT local_id, remote_id,
    /// remote_version, local_version, hash FROM <table> WHERE namespace = <1> AND <side's column> IN (<2>,
    /// ...)`, the namespace and the ids bound. `placeholder(n)` is the store's n-th parameter (1-based: `?`
    /// or `$n`); `table` comes from the store's code, never from input. `query` runs one statement.
    public static func lookUp(
        namespace: String, ids: [String], by side: Side, table: String, chunk: Int = lookupChunk,
        placeholder: (Int) -> String, query: (String, [Value]) throws -> [[Value]]
    ) rethrows -> [ExternalReference] {
        let column = side == .local ? "local_id" : "remote_id"
        var found: [ExternalReference] = []
        for start in stride(from: 0, to: ids.count, by: chunk) {
            let some = ids[start..<min(ids.count, start + chunk)]
            let marks = (0..<some.count).map { placeholder($0 + 2) }.joined(separator: ", ")
            let rows = try query(
                "SELECT local_id, remote_id, remote_version, local_version, hash FROM \(table) "
                    + "WHERE namespace = \(placeholder(1)) AND \(column) IN (\(marks))",
                [.string(namespace)] + some.map { .string($0) })
            found += rows.map(stored)
        }
        return found
    }
}

/// Raised by stores that keep no references (wrappers in tests).
public struct ReferencesUnsupported: Error, CustomStringConvertible {
    public var description: String { "this state store keeps no external references" }
}

extension StateStore {
    public func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws
        -> [ExternalReference]
    { throw ReferencesUnsupported() }

    public func storeReferences(
        flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?
    ) throws -> Bool { throw ReferencesUnsupported() }
}

/// The in-memory references of a `MemoryStore`.
struct ReferenceTable {
    private var byLocal: [String: ExternalReference] = [:]
    private var localByRemote: [String: String] = [:]

    func lookup(namespace: String, ids: [String], by side: ExternalReference.Side) -> [ExternalReference] {
        ids.compactMap { id in
            switch side {
            case .local: return byLocal["\(namespace)\u{0}\(id)"]
            case .remote: return localByRemote["\(namespace)\u{0}\(id)"].flatMap { byLocal["\(namespace)\u{0}\($0)"] }
            }
        }
    }

    mutating func store(namespace: String, _ references: [ExternalReference]) {
        for r in references {
            if let old = byLocal["\(namespace)\u{0}\(r.localID)"] {
                localByRemote["\(namespace)\u{0}\(old.remoteID)"] = nil
            }
            byLocal["\(namespace)\u{0}\(r.localID)"] = r
            localByRemote["\(namespace)\u{0}\(r.remoteID)"] = r.localID
        }
    }
}
