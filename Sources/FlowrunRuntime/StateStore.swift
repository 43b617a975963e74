import FlowrunValue

/// Durable per-flow key/value state and run records. SQLite by default; PostgreSQL in production.
public protocol StateStore: AnyObject, Sendable {
    func get(flow: String, key: String) throws -> Value?
    func set(flow: String, key: String, value: Value) throws
    /// Removes `key` of `flow`; no error when it is not there.
    func delete(flow: String, key: String) throws
    /// Atomically, across the processes sharing the store: when the stored value of `key` equals `expected`
    /// (nil: no value), stores `new` (nil: deletes it) and returns true; otherwise changes nothing and returns
    /// false. Values compare by their JSON serialization as stored, so `1` and `1.0` differ.
    func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool
    /// Claims the scheduled slot `due` under `key` for this process, atomically: true for exactly one of
    /// the processes sharing the store (serve replicas), false when the slot (or a later one) was claimed.
    func claim(flow: String, key: String, due: Int) throws -> Bool
    /// The values whose keys start with `prefix`, of one flow or of all.
    func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)]
    func save(_ record: RunRecord) throws
    func runs(flow: String?, limit: Int) throws -> [RunRecord]
    /// One page of the run history, newest first, filtered and limited by the store (SQL, not memory).
    func runs(matching query: RunQuery) throws -> [RunRecord]
    func run(id: String) throws -> RunRecord?
    /// Deletes the run records that started before `olderThan` (Unix nanoseconds) and are not `running`;
    /// returns how many.
    func deleteRuns(olderThan: Int) throws -> Int
    /// A fenced commit: atomically (one transaction), when the lease under `fence.key` still names
    /// `fence.run` with `fence.token`, reads the current values of `keys`, stores what `update` makes of
    /// them (nil deletes) and saves `record`; returns false and writes nothing when the lease is gone.
    func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool
    /// The external references of `namespace` whose local (or remote) id is among `ids`, in one or a few
    /// statements; ids without a reference are left out.
    func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws -> [ExternalReference]
    /// Inserts or replaces references by local id (the last one of a local id wins). With a `fence`, atomically
    /// only while the lease under `fence.key` of `flow` still names its run: false, and nothing written, when not.
    func storeReferences(flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?) throws
        -> Bool
}

extension StateStore {
    /// Not atomic: for stores that wrap another one in tests. The real stores check and write in one
    /// transaction.
    public func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool {
        guard fence.holds(try get(flow: flow, key: fence.key)) else { return false }
        var current: [String: Value] = [:]
        for key in keys { current[key] = try get(flow: flow, key: key) }
        for (key, value) in update(current) {
            if let value { try set(flow: flow, key: key, value: value) } else { try delete(flow: flow, key: key) }
        }
        if let record { try save(record) }
        return true
    }
}

/// A store in memory (tests, `--state memory`).
public final class MemoryStore: StateStore, @unchecked Sendable {
    private let lock = NSLockLite()
    private var values: [String: Value] = [:]
    private var records: [RunRecord] = []
    private var referenceTable = ReferenceTable()

    public init() {}

    public func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws
        -> [ExternalReference]
    { lock.withLock { referenceTable.lookup(namespace: namespace, ids: ids, by: side) } }

    public func storeReferences(
        flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?
    ) throws -> Bool {
        lock.withLock {
            if let fence, !fence.holds(values["\(flow)\u{0}\(fence.key)"]) { return false }
            referenceTable.store(namespace: namespace, references)
            return true
        }
    }

    public func get(flow: String, key: String) throws -> Value? { lock.withLock { values["\(flow)\u{0}\(key)"] } }

    public func set(flow: String, key: String, value: Value) throws {
        lock.withLock { values["\(flow)\u{0}\(key)"] = value }
    }

    public func delete(flow: String, key: String) throws {
        _ = lock.withLock { values.removeValue(forKey: "\(flow)\u{0}\(key)") }
    }

    public func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        lock.withLock {
            let k = "\(flow)\u{0}\(key)"
            guard values[k].map(JSON.serialize) == expected.map(JSON.serialize) else { return false }
            values[k] = new
            return true
        }
    }

    public func claim(flow: String, key: String, due: Int) throws -> Bool {
        lock.withLock {
            let k = "\(flow)\u{0}\(key)"
            if let held = values[k]?.intValue, held >= due { return false }
            values[k] = .int(due)
            return true
        }
    }

    public func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        lock.withLock {
            values.compactMap { k, v in
                let parts = k.split(separator: "\u{0}", maxSplits: 1).map(String.init)
                guard parts.count == 2, flow == nil || parts[0] == flow, parts[1].hasPrefix(prefix) else { return nil }
                return (parts[0], parts[1], v)
            }
        }
    }

    public func save(_ record: RunRecord) throws {
        lock.withLock {
            if let i = records.firstIndex(where: { $0.id == record.id }) {
                records[i] = record
            } else {
                records.append(record)
            }
        }
    }

    public func runs(flow: String?, limit: Int) throws -> [RunRecord] {
        lock.withLock { Array(records.filter { flow == nil || $0.flow == flow }.reversed().prefix(limit)) }
    }

    public func runs(matching query: RunQuery) throws -> [RunRecord] {
        lock.withLock {
            Array(
                records.filter(query.matches).sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
                    .prefix(query.limit))
        }
    }

    public func run(id: String) throws -> RunRecord? { lock.withLock { records.first { $0.id == id } } }

    public func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool {
        lock.withLock {
            guard fence.holds(values["\(flow)\u{0}\(fence.key)"]) else { return false }
            var current: [String: Value] = [:]
            for key in keys { current[key] = values["\(flow)\u{0}\(key)"] }
            for (key, value) in update(current) { values["\(flow)\u{0}\(key)"] = value }
            if let record {
                if let i = records.firstIndex(where: { $0.id == record.id }) {
                    records[i] = record
                } else {
                    records.append(record)
                }
            }
            return true
        }
    }

    public func deleteRuns(olderThan: Int) throws -> Int {
        lock.withLock {
            let before = records.count
            records.removeAll { $0.startedAt < olderThan && $0.status != .running }
            return before - records.count
        }
    }
}
