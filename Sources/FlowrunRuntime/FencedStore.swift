import FlowrunValue

/// The state store as the components of a run with a lease see it: reads pass through, and every write
/// (state `set`, dead-letter changes, compare-and-set) is a fenced commit, so a run that lost its lease
/// changes nothing (the write throws `LeaseLost`).
final class FencedStore: StateStore, @unchecked Sendable {
    struct LeaseLost: Error, CustomStringConvertible {
        let key: String
        var description: String { "lease lost: the write of '\(key)' was refused by the run's fencing token" }
    }

    let inner: any StateStore
    let lease: RunLock

    init(inner: any StateStore, lease: RunLock) {
        self.inner = inner
        self.lease = lease
    }

    private func fenced(
        _ flow: String, _ key: String, _ update: @escaping ([String: Value]) -> [String: Value?]
    ) throws {
        let committed = try inner.commit(flow: flow, fence: lease.fence, keys: [key], record: nil, update: update)
        guard committed else {
            Telemetry.sink?.cluster(.fencedCommit, flow: flow)
            throw LeaseLost(key: key)
        }
    }

    func get(flow: String, key: String) throws -> Value? { try inner.get(flow: flow, key: key) }

    func set(flow: String, key: String, value: Value) throws { try fenced(flow, key) { _ in [key: value] } }

    func delete(flow: String, key: String) throws { try fenced(flow, key) { _ in [key: nil] } }

    func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        final class Outcome: @unchecked Sendable { var swapped = false }
        let outcome = Outcome()
        try fenced(flow, key) { current in
            guard current[key].map(JSON.serialize) == expected.map(JSON.serialize) else { return [:] }
            outcome.swapped = true
            return [key: new]
        }
        return outcome.swapped
    }

    func claim(flow: String, key: String, due: Int) throws -> Bool { try inner.claim(flow: flow, key: key, due: due) }

    func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        try inner.entries(flow: flow, prefix: prefix)
    }

    func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws
        -> [ExternalReference]
    { try inner.references(namespace: namespace, ids: ids, by: side) }

    /// Fenced by the run's lease in the store's own transaction.
    func storeReferences(
        flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?
    ) throws -> Bool {
        guard try inner.storeReferences(flow: flow, namespace: namespace, references, fence: fence ?? lease.fence)
        else {
            Telemetry.sink?.cluster(.fencedCommit, flow: flow)
            throw LeaseLost(key: "references/\(namespace)")
        }
        return true
    }

    func save(_ record: RunRecord) throws { try inner.save(record) }
    func runs(flow: String?, limit: Int) throws -> [RunRecord] { try inner.runs(flow: flow, limit: limit) }
    func run(id: String) throws -> RunRecord? { try inner.run(id: id) }
    func deleteRuns(olderThan: Int) throws -> Int { try inner.deleteRuns(olderThan: olderThan) }

    func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool {
        try inner.commit(flow: flow, fence: fence, keys: keys, record: record, update: update)
    }
}
