import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunRuntime
import FlowrunDatabase

private let postgresURL = ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"]

/// PostgreSQL as the state store: the same behaviour as the SQLite store.
@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct PostgresStoreTests {
    func freshDatabase() throws -> String { try PostgresTesting.freshDatabase(prefix: "store") }

    @Test func storesStateAndRunsAndReopens() throws {
        let url = try freshDatabase()
        do {
            let store = try PostgresStore(url: url)
            try store.set(flow: "f", key: "cursor", value: ["at": "2024-01-01", "n": 3.5])
            var r = RunRecord(id: "r1", flow: "f", trigger: .scheduled, startedAt: 1_000)
            r.status = .completedWithErrors
            r.counters = [.processed: 10, .failed: 2]
            r.errors = [.init(node: "calc", port: "in", location: "f.yaml:3:4", message: "boom", input: "{}")]
            r.completedAt = 5_000
            r.dryRun = true
            try store.save(r)
            r.status = .failed
            try store.save(r)  // saving again updates the record
        }
        let reopened = try PostgresStore(url: url)  // migrations are not re-applied
        #expect(try reopened.get(flow: "f", key: "cursor") == ["at": "2024-01-01", "n": 3.5])
        let r = try #require(try reopened.run(id: "r1"))
        #expect(r.status == .failed)
        #expect(r[.processed] == 10)
        #expect(r.dryRun)
        #expect(r.errors.first?.message == "boom")
        #expect(try reopened.runs(flow: "f", limit: 5).map(\.id) == ["r1"])
        // Slot claims (serve replicas), dead letters and key listing behave as in SQLite.
        let other = try PostgresStore(url: url)
        #expect(try reopened.claim(flow: "f", key: "slot/tick", due: 100))
        #expect(try !other.claim(flow: "f", key: "slot/tick", due: 100))
        #expect(try !other.claim(flow: "f", key: "slot/tick", due: 50))
        #expect(try other.claim(flow: "f", key: "slot/tick", due: 160))
        let queue = DeadLetterQueue(store: reopened)
        try queue.record(
            flow: "f", key: "k1", payload: ["x": 1], error: ["message": "bad"], runID: "r1", entry: "a.in",
            flowFile: nil, maxAttempts: 1, now: 7)
        #expect(try DeadLetterQueue(store: other).list(flow: "f").map(\.key) == ["k1"])
        #expect(try other.entries(flow: nil, prefix: "dlq/").count == 1)
        // The dry-run diagnostics and the owner survive a round trip.
        var d = RunRecord(id: "r2", flow: "f", trigger: .manual, startedAt: 2_000)
        d.changedColumns = ["email": 3]
        d.counters[.deadLettered] = 2
        d.owner = "42@host"
        try other.save(d)
        let back = try #require(try reopened.run(id: "r2"))
        #expect(back.changedColumns == ["email": 3])
        #expect(back[.deadLettered] == 2)
        #expect(back.owner == "42@host")
    }

    @Test func runsAndCheckpointsLiveInPostgreSQL() throws {
        let url = try freshDatabase()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-pgstore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try writeFile(
            dir, "cursor.yaml",
            """
            flow: cursor
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {t: '2024-05-01'}}}
              cursor: {component: state, settings: {key: since}}
            edges:
              - {from: start.out, to: cursor.checkpoint, data: {value: <<$.t>>}}
            """)
        let r = try CLITests.run([file, "--once", "--state", url])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try PostgresStore(url: url).get(flow: "cursor", key: "since") == "2024-05-01")
        let runs = try JSON.parse(try CLITests.run(["runs", "--state", url, "--format", "json"]).stdout)
        #expect(runs[0]["flow"] == "cursor")
        #expect(runs[0]["status"] == "completed")
    }
}
