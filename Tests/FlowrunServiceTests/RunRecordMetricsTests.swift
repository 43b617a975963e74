import Flowrun
import Foundation
import Testing

@testable import FlowrunService

/// Failed saves of run records show on `/metrics`: each failed try counts, by flow.
@Suite struct RunRecordMetricsTests {
    /// The state store of an outage: every save of a run record fails with a lost connection.
    final class DownStore: StateStore, @unchecked Sendable {
        let inner = MemoryStore()
        func get(flow: String, key: String) throws -> Value? { try inner.get(flow: flow, key: key) }
        func set(flow: String, key: String, value: Value) throws { try inner.set(flow: flow, key: key, value: value) }
        func delete(flow: String, key: String) throws { try inner.delete(flow: flow, key: key) }
        func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
            try inner.compareAndSet(flow: flow, key: key, expected: expected, new: new)
        }
        func claim(flow: String, key: String, due: Int) throws -> Bool {
            try inner.claim(flow: flow, key: key, due: due)
        }
        func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
            try inner.entries(flow: flow, prefix: prefix)
        }
        func save(_ record: RunRecord) throws {
            throw NodeError("postgres: could not connect", code: "connect", retryable: true)
        }
        func runs(flow: String?, limit: Int) throws -> [RunRecord] { try inner.runs(flow: flow, limit: limit) }
        func run(id: String) throws -> RunRecord? { try inner.run(id: id) }
        func deleteRuns(olderThan: Int) throws -> Int { try inner.deleteRuns(olderThan: olderThan) }
    }

    @Test func failedSavesAreCountedByFlow() {
        let metrics = ServiceMetrics()
        let keeper = RunRecordKeeper(
            store: DownStore(), retry: SaveRetry(attempts: 3), telemetry: metrics, sleep: { _ in })
        var record = RunRecord(id: "r1", flow: "user-sync", trigger: .scheduled, startedAt: 1)
        record.status = .failed
        #expect(!keeper.save(record))
        #expect(keeper.pendingIDs == ["r1"])
        #expect(metrics.text().contains(#"flowrun_run_record_save_failures_total{flow="user-sync"} 3"#))
    }
}
