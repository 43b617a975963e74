import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// The main job end to end, in real processes: the demo CRM served by flowrun, user-sync into SQLite.
@Suite(.serialized) struct UserSyncTests {
    @Test func syncsEveryUserThenNothingThenComparesAll() throws {
        try syncThreeTimes(databaseURL: nil)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil))
    func theSameFlowSyncsIntoPostgreSQL() throws {
        try syncThreeTimes(databaseURL: try PostgresTesting.freshDatabase(prefix: "e2e"))
    }

    /// 20% of the API's answers are 503 and 10% are 429 with Retry-After: every user still arrives once.
    @Test func survivesAFlakyAPI() throws {
        try syncThreeTimes(
            databaseURL: nil, faults: ["MOCK_CRM_FAIL_RATE": "0.2", "MOCK_CRM_THROTTLE_RATE": "0.1"],
            extra: ["--set", "vars.retryDelay=20ms", "--set", "vars.retryCount=8"])
    }

    func syncThreeTimes(databaseURL: String?, faults: [String: String] = [:], extra: [String] = []) throws {
        let e = try SyncEnvironment(databaseURL: databaseURL, faults: faults)
        func sync(_ more: [String] = []) throws -> CLITests.Result { try e.sync(extra + more) }

        let first = try sync()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(
            first.stdout.contains("processed 250  created 250  updated 0  unchanged 0  skipped 0  failed 0  pages 3"))
        let second = try sync()
        #expect(second.stdout.contains("processed 0  created 0"), "\(second.stdout)")
        #expect(second.stdout.contains("pages 1"), "the incremental run fetches one (empty) page: \(second.stdout)")
        let history = try JSON.parse(try e.flowrun(["runs", "list", "--format", "json"]).stdout).arrayValue ?? []
        #expect(history.map { $0["counters"]["pages"] } == [1, 3], "pages are kept in the run history")
        let full = try sync(["--set", "vars.syncType=full"])
        #expect(full.stdout.contains("processed 250  created 0  updated 0  unchanged 250"), "\(full.stdout)")

        guard databaseURL == nil else { return }
        let db = try SQLiteConnection(path: e.sqlitePath)
        #expect(try db.query("SELECT count(*) FROM users", []).rows == [[250]])
        #expect(
            try db.query("SELECT email, name, status FROM users WHERE external_id = 'u3'", []).rows
                == [["user3@example.com", "Dev Lee3", "inactive"]])
        let logs = try db.query("SELECT status, records_processed, pages FROM sync_logs ORDER BY completed_at", []).rows
        // sync_logs is written from the run record: the incremental run fetched one (empty) page.
        #expect(logs == [["completed", 250, 3], ["completed", 0, 1], ["completed", 250, 3]])
    }
}
