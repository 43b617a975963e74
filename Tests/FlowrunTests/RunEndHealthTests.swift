import FlowrunTesting
import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// Issue 14 item 5: the flow's shared health is updated in the same fenced transaction as the run's final
/// record (it was a second write, after the record), on every backend.
@Suite struct RunEndHealthTests {
    @Test(arguments: StoreBackend.available) func theFinalRecordAndHealthCommitTogether(_ backend: StoreBackend) throws
    {
        let (one, two, cleanUp) = try backend.open()
        defer { cleanUp() }
        try one.set(flow: "f", key: "lock/", value: ["run": "ra", "fence": 3])
        try one.set(flow: "f", key: SharedHealth.key, value: ["consecutiveFailures": 2, "updatedAt": 1])
        let keeper = RunRecordKeeper(store: two, sleep: { _ in })
        var record = RunRecord(id: "ra", flow: "f", trigger: .scheduled, startedAt: 1)
        record.status = .failed
        let fence = Fence(key: "lock/", run: "ra", token: 3)
        #expect(keeper.save(record, fence: fence, healthAt: 5) == true)
        #expect(try one.run(id: "ra")?.status == .failed)
        #expect(try one.get(flow: "f", key: SharedHealth.key) == ["consecutiveFailures": 3, "updatedAt": 5])
        // A progress save (no health) leaves the count alone.
        #expect(keeper.save(record, fence: fence) == true)
        #expect(try SharedHealth.consecutiveFailures(one.get(flow: "f", key: SharedHealth.key)) == 3)
        // The lease was taken over: neither the record nor the health is written.
        try one.set(flow: "f", key: "lock/", value: ["run": "rb", "fence": 4])
        record.status = .completed
        #expect(keeper.save(record, fence: fence, healthAt: 9) == nil)
        #expect(try one.run(id: "ra")?.status == .failed)
        #expect(try SharedHealth.consecutiveFailures(one.get(flow: "f", key: SharedHealth.key)) == 3)
    }

    /// Every write a run makes, in order: the final record and the health are one commit.
    final class WriteLog: StateStore, @unchecked Sendable {
        let inner = MemoryStore()
        private let lock = NSLock()
        private(set) var writes: [String] = []
        func note(_ w: String) { lock.withLock { writes.append(w) } }

        func get(flow: String, key: String) throws -> Value? { try inner.get(flow: flow, key: key) }
        func set(flow: String, key: String, value: Value) throws {
            if key == SharedHealth.key { note("set \(key)") }
            try inner.set(flow: flow, key: key, value: value)
        }
        func delete(flow: String, key: String) throws { try inner.delete(flow: flow, key: key) }
        func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
            if key == SharedHealth.key { note("compareAndSet \(key)") }
            return try inner.compareAndSet(flow: flow, key: key, expected: expected, new: new)
        }
        func claim(flow: String, key: String, due: Int) throws -> Bool {
            try inner.claim(flow: flow, key: key, due: due)
        }
        func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
            try inner.entries(flow: flow, prefix: prefix)
        }
        func save(_ record: RunRecord) throws { try inner.save(record) }
        func runs(flow: String?, limit: Int) throws -> [RunRecord] { try inner.runs(flow: flow, limit: limit) }
        func run(id: String) throws -> RunRecord? { try inner.run(id: id) }
        func deleteRuns(olderThan: Int) throws -> Int { try inner.deleteRuns(olderThan: olderThan) }
        func commit(
            flow: String, fence: Fence, keys: [String], record: RunRecord?,
            update: ([String: Value]) -> [String: Value?]
        ) throws -> Bool {
            if let record, record.status != .running {
                note("commit \(keys) \(record.status.rawValue)")
            } else if record == nil {
                note("commit \(keys)")
            }
            return try inner.commit(flow: flow, fence: fence, keys: keys, record: record, update: update)
        }
    }

    @Test func aRunEndsWithOneCommitOfItsRecordAndHealth() throws {
        let store = WriteLog()
        let report = FlowChecker.check(
            path: "t.yaml",
            text: """
                flow: t
                run: {retries: 1, retryDelay: 1ms}
                nodes:
                  in: {component: modify}
                """, registry: .standard)
        let flow = try #require(report.flow)
        var options = FlowRuntime.Options()
        options.sleep = { _ in }
        let runtime = try FlowRuntime(flow: flow, factories: .standard, store: store, options: options)
        let records = try runtime.run(.input(["x": 1], entry: "in"), trigger: .manual)
        #expect(records.map(\.status) == [.completed])
        #expect(store.writes == ["commit [\"\(SharedHealth.key)\"] completed"], "\(store.writes)")
        #expect(try SharedHealth.consecutiveFailures(store.get(flow: "t", key: SharedHealth.key)) == 0)
    }
}
