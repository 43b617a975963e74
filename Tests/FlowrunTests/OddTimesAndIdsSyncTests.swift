import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// Issue 13 items 1 and 9 end to end, in real processes: users whose `updated_at` is a sentinel
/// outside int nanoseconds (9999-12-31, 0001-01-01, 2262-04-12) and whose ids are beyond 64 bits
/// (MOCK_CRM_EDGE_USERS) sync exactly; one such time in a request no longer kills `flowrun serve`.
/// These join the existing serialized suites (extensions), so they add no further chain of blocking
/// process tests running in parallel with the rest of the test run.
extension UserSyncFaultTests {
    @Test func sentinelTimesAndHugeIdsSyncExactlyIntoSQLite() throws {
        try syncEdgeUsers(databaseURL: nil)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil))
    func sentinelTimesAndHugeIdsSyncExactlyIntoPostgreSQL() throws {
        try syncEdgeUsers(databaseURL: try PostgresTesting.freshDatabase(prefix: "edge"))
    }

    func syncEdgeUsers(databaseURL: String?) throws {
        let e = try SyncEnvironment(databaseURL: databaseURL, faults: ["MOCK_CRM_EDGE_USERS": "1"])
        let first = try e.sync(["--set", "vars.syncType=full"])
        // u-nul's name holds a NUL byte: SQLite stores it exactly; PostgreSQL text cannot, so that one record
        // fails with a located error and goes to the dead-letter queue while the other 253 arrive.
        let postgres = databaseURL != nil
        #expect(first.status == (postgres ? 3 : 0), "\(first.stdout)\(first.stderr)")
        #expect(
            first.stdout.contains(
                postgres
                    ? "processed 254  created 253  updated 0  unchanged 0  skipped 0  failed 1"
                    : "processed 254  created 254  updated 0  unchanged 0  skipped 0  failed 0"),
            "\(first.stdout)")
        // Three distinct ids beyond 64 bits are three rows, each exact; the sentinel times pass through.
        let edge = try e.query(
            "SELECT external_id, email, name, metadata, updated_at FROM users WHERE external_id NOT LIKE 'u%' ORDER BY updated_at"
        )
        #expect(
            edge == [
                [
                    "18446744073709551614", "near@example.com", "Near Max",
                    #"{"source":"crm","original_id":18446744073709551614}"#, "0001-01-01T00:00:00.000Z",
                ],
                [
                    "-9223372036854775809", "min@example.com", "Min Int64",
                    #"{"source":"crm","original_id":-9223372036854775809}"#, "2262-04-12T00:00:00.000Z",
                ],
                [
                    "18446744073709551615", "max@example.com", "Max Uint64",
                    #"{"source":"crm","original_id":18446744073709551615}"#, "9999-12-31T00:00:00.000Z",
                ],
            ])
        let nul = try e.query("SELECT name FROM users WHERE external_id = 'u-nul'")
        let dead = try JSON.parse(try e.flowrun(["dlq", "list", "--format", "json"]).stdout).arrayValue ?? []
        if postgres {
            #expect(nul == [])
            #expect(try e.query("SELECT count(*) FROM users") == [[253]])
            #expect(dead.map { $0["key"] } == ["u-nul"], "\(dead)")
            let error = dead.first?["error"]
            #expect(error?["code"] == "pg_22021", "\(dead)")
            #expect(error?["message"].stringValue?.contains("NUL") == true, "\(dead)")
            #expect(error?["node"] != nil && error?["node"] != .null, "located: \(dead)")
        } else {
            #expect(nul == [["Ann Lee\u{0}-hidden-suffix"]])
            #expect(try e.query("SELECT count(*) FROM users") == [[254]])
            #expect(dead == [], "nothing failed, so nothing is parked")
        }

        // The next full run finds every stored row unchanged (exact comparison, not a rounded double).
        let again = try e.sync(["--set", "vars.syncType=full"])
        #expect(again.status == (postgres ? 3 : 0), "\(again.stdout)\(again.stderr)")
        #expect(
            again.stdout.contains(
                postgres ? "created 0  updated 0  unchanged 253" : "created 0  updated 0  unchanged 254"),
            "\(again.stdout)")
        guard !postgres else { return }
        // The cursor moved to the 9999 sentinel: an incremental run asks for later users and gets none.
        let incremental = try e.sync()
        #expect(incremental.status == 0, "\(incremental.stdout)\(incremental.stderr)")
        #expect(incremental.stdout.contains("processed 0  created 0"), "\(incremental.stdout)")
    }

}

extension ServeTests {
    /// `GET /users?updated_since=0001-01-01T00:00:00Z` to mock-crm under `flowrun serve` used to trap
    /// (SIGILL) and take the whole service down; now it answers, and a time that is not RFC 3339 is a
    /// 400 with a clear message, while the process stays up.
    @Test func aServedAPIAnswersTimesOutsideIntNanoseconds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-edge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(
            at: CLITests.repo.appendingPathComponent("flows/mock-crm.yaml"),
            to: dir.appendingPathComponent("mock-crm.yaml"))
        let port = freePort()
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = [
            "serve", dir.path, "--admin", "127.0.0.1:\(freePort())", "--state", dir.appendingPathComponent("s.db").path,
        ]
        var env = ProcessInfo.processInfo.environment
        env["MOCK_CRM_PORT"] = String(port)
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            p.terminate()
            _ = ChildProcess.exitStatus(p)
        }
        let auth = ["Authorization": "Bearer demo-token"]
        let base = "http://127.0.0.1:\(port)/users?limit=1&updated_since="
        #expect(
            try CLITests.waitFor {
                try CLITests.http("GET", base + "2024-01-01T00:00:00Z", headers: auth).status == 200
            })

        let zero = try CLITests.http("GET", base + "0001-01-01T00:00:00Z", headers: auth)
        #expect(zero.status == 200, "\(zero.body)")
        #expect(try JSON.parse(zero.body)["total"] == 250)
        let never = try CLITests.http("GET", base + "9999-12-31T23:59:59Z", headers: auth)
        #expect(never.status == 200, "\(never.body)")
        #expect(try JSON.parse(never.body)["total"] == 0)
        let bad = try CLITests.http("GET", base + "10000-01-01T00:00:00Z", headers: auth)
        #expect(bad.status == 400)
        #expect(bad.body.contains("is not an RFC 3339 time"), "\(bad.body)")
        #expect(p.isRunning, "the serve process survived every request")
        #expect(try CLITests.http("GET", base + "2024-01-01T00:00:00Z", headers: auth).status == 200)
    }
}
