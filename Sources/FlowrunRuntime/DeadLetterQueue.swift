import FlowrunExpression
import FlowrunValue

/// The dead-letter queue, kept in the state store under `dlq/<id>` per flow: one item per failed key
/// with its payload, last error, the runs it failed in and its status.
///
/// Life cycle: a failing record is `open` (it failed in fewer than `maxAttempts` runs; the cursor holds
/// before it) or `parked` (failed `maxAttempts` times, or at once under `run.cursorPolicy: park`; the
/// cursor may pass it). Both are unresolved and listed by `flowrun dlq list`. An item is closed as
/// `replayed` (a replay passed), `resolved` (a later run synced the record) or `skipped` (an operator
/// gave it up: when the same version of the record fails again it counts as skipped and holds nothing;
/// a newer version is a new failure).
public struct DeadLetterQueue {
    public enum Status: String, Sendable, CaseIterable {
        case open, parked, replayed, skipped, resolved

        /// Open and parked items still need attention; the others are closed.
        public var isUnresolved: Bool { self == .open || self == .parked }
    }

    /// What recording a failure did.
    public enum Outcome: Sendable, Equatable {
        /// The failure was recorded (the item is open or parked).
        case recorded
        /// The item was skipped by an operator for this version of the record: nothing was recorded.
        case skipped
    }

    public struct Item: Sendable, Equatable {
        public var id: String
        public var flow: String
        public var key: String
        public var payload: Value
        /// The latest failure's error, and the first one of this life of the item (until it is closed).
        public var error: Value
        public var firstError: Value = nil
        public var attempts: Int
        public var status: Status
        /// `node.port` a replay delivers the payload to.
        public var entry: String?
        /// The flow file that parked it, for replay.
        public var flowFile: String?
        public var firstRun: String
        public var lastRun: String
        public var updatedAt: Int
        /// The version of the record that failed (e.g. its `updated_at`), when the flow gives one.
        public var version: Value = nil
        /// The dead-letter node's `maxAttempts` when the failure was recorded (`run.retryParked` retries
        /// a parked item while its attempts are fewer).
        public var maxAttempts: Int?

        /// A record changed on both sides of a bidirectional sync, parked for an operator's decision
        /// (its error's `code` is `conflict`; its payload holds both versions).
        public var isConflict: Bool { error["code"] == "conflict" }

        /// Whether `run.retryParked` may deliver it again: parked, with an entry and attempts left.
        public var isDueForRetry: Bool {
            status == .parked && entry != nil && attempts < (maxAttempts ?? 0)
        }

        public var value: Value {
            [
                "id": .string(id), "flow": .string(flow), "key": .string(key), "payload": payload, "error": error,
                "firstError": firstError, "attempts": .int(attempts), "status": .string(status.rawValue),
                "entry": entry.map { .string($0) } ?? .null, "flowFile": flowFile.map { .string($0) } ?? .null,
                "firstRun": .string(firstRun), "lastRun": .string(lastRun), "updatedAt": .int(updatedAt),
                "version": version, "maxAttempts": maxAttempts.map { .int($0) } ?? .null,
            ]
        }

        init?(_ v: Value) {
            guard let id = v["id"].stringValue, let flow = v["flow"].stringValue, let key = v["key"].stringValue
            else { return nil }
            self.id = id
            self.flow = flow
            self.key = key
            payload = v["payload"]
            error = v["error"]
            // Items stored before `firstError` existed: their one known error stands for both.
            firstError = v["firstError"].isNull ? v["error"] : v["firstError"]
            attempts = v["attempts"].intValue ?? 1
            status = Status(rawValue: v["status"].stringValue ?? "") ?? .open
            entry = v["entry"].stringValue
            flowFile = v["flowFile"].stringValue
            firstRun = v["firstRun"].stringValue ?? ""
            lastRun = v["lastRun"].stringValue ?? ""
            updatedAt = v["updatedAt"].intValue ?? 0
            version = v["version"]
            maxAttempts = v["maxAttempts"].intValue
        }

        init(id: String, flow: String, key: String, runID: String, now: Int) {
            self.id = id
            self.flow = flow
            self.key = key
            payload = nil
            error = nil
            attempts = 0
            status = .open
            firstRun = runID
            lastRun = runID
            updatedAt = now
        }
    }

    public let store: any StateStore
    static let prefix = "dlq/"

    public init(store: any StateStore) { self.store = store }

    /// A short stable id for a flow's key: `d` and 12 hex digits of SHA-256.
    public static func id(flow: String, key: String) -> String {
        "d" + Digest.hex(Array(Digest.sha256(Array((flow + "\u{0}" + key).utf8)).prefix(6)))
    }

    /// Records one failure of `key`. Failures in the same run count once; the item is parked when it
    /// has failed in `maxAttempts` runs (at once with `parkAtOnce`). A new failure after a replay or a
    /// resolution opens it again; after a skip it does so only for a newer `version` of the record.
    @discardableResult
    public func record(
        flow: String, key: String, payload: Value, error: Value, runID: String, entry: String?, flowFile: String?,
        maxAttempts: Int, now: Int, version: Value = nil, parkAtOnce: Bool = false
    ) throws -> (item: Item, outcome: Outcome) {
        let id = Self.id(flow: flow, key: key)
        let stored = try store.get(flow: flow, key: Self.prefix + id).flatMap(Item.init)
        if let stored, stored.status == .skipped, version.isNull || stored.version.isNull || stored.version == version {
            return (stored, .skipped)
        }
        var item = stored ?? Item(id: id, flow: flow, key: key, runID: runID, now: now)
        if let stored, !stored.status.isUnresolved {
            // Closed before: a new failure starts a new life.
            item.attempts = 0
            item.firstRun = runID
        }
        if item.attempts == 0 || item.lastRun != runID { item.attempts += 1 }
        item.payload = payload
        // A new item, or a closed one failing again (a new life): this failure is its first.
        if stored.map({ !$0.status.isUnresolved }) ?? true { item.firstError = error }
        item.error = error
        item.lastRun = runID
        item.entry = entry ?? item.entry
        item.flowFile = flowFile ?? item.flowFile
        item.updatedAt = now
        item.version = version
        item.maxAttempts = max(1, maxAttempts)
        item.status = parkAtOnce || item.attempts >= max(1, maxAttempts) ? .parked : .open
        try store.set(flow: flow, key: Self.prefix + id, value: item.value)
        return (item, .recorded)
    }

    /// Closes the unresolved items of these keys as `resolved` (a later run synced their records);
    /// returns the closed items.
    @discardableResult
    public func resolve(flow: String, keys: [String], now: Int) throws -> [Item] {
        var closed: [Item] = []
        for key in keys {
            let id = Self.id(flow: flow, key: key)
            guard var item = try store.get(flow: flow, key: Self.prefix + id).flatMap(Item.init),
                item.status.isUnresolved
            else { continue }
            item.status = .resolved
            item.updatedAt = now
            try store.set(flow: flow, key: Self.prefix + id, value: item.value)
            closed.append(item)
        }
        return closed
    }

    /// Items, newest first: the unresolved ones (open and parked), or every item with `all`.
    public func list(flow: String? = nil, all: Bool = false) throws -> [Item] {
        try store.entries(flow: flow, prefix: Self.prefix).compactMap { Item($0.value) }
            .filter { all || $0.status.isUnresolved }
            .sorted { ($0.updatedAt, $0.id) > ($1.updatedAt, $1.id) }
    }

    public func item(id: String) throws -> Item? {
        try store.entries(flow: nil, prefix: Self.prefix + id).compactMap { Item($0.value) }.first { $0.id == id }
    }

    /// After a replay of `item` ended `completed`: closes it as `replayed` (a conflict resolution as
    /// `resolved`), unless the replay failed it again (the dead-letter node recorded a newer run).
    /// Returns whether it was closed.
    public func closeReplayed(_ item: Item, now: Int, as status: Status = .replayed) throws -> Bool {
        let current = try self.item(id: item.id) ?? item
        guard current.lastRun == item.lastRun || current.status == .resolved else { return false }
        try setStatus(current, status, now: now)
        return true
    }

    /// Which version of a conflict wins: `local` is applied to the remote side, `remote` to the local one.
    public enum Take: String, Sendable, CaseIterable {
        case local, remote
    }

    /// Why an item cannot be resolved as a conflict.
    public struct NotAConflict: Error, CustomStringConvertible {
        public let description: String
    }

    /// What `flowrun dlq resolve ID --take SIDE` replays into the item's `entry`: its payload (an object)
    /// with `take` set to the chosen side; the flow applies that side to the other one.
    public static func resolution(of item: Item, take: Take) throws(NotAConflict) -> Value {
        guard item.isConflict else {
            throw NotAConflict(description: "\(item.id) is not a conflict (replay or skip it instead)")
        }
        guard item.status.isUnresolved else {
            throw NotAConflict(description: "\(item.id) is \(item.status.rawValue), not open")
        }
        guard item.entry != nil, case .object(var payload) = item.payload else {
            throw NotAConflict(description: "\(item.id): the dead-letter node has no `entry` to resolve into")
        }
        payload["take"] = .string(take.rawValue)
        return .object(payload)
    }

    public func setStatus(_ item: Item, _ status: Status, now: Int) throws {
        var item = item
        item.status = status
        item.updatedAt = now
        try store.set(flow: item.flow, key: Self.prefix + item.id, value: item.value)
    }
}
