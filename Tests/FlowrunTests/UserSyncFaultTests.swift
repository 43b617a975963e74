import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// The user-sync job against a misbehaving API and interrupted runs, in real processes.
@Suite(.serialized) struct UserSyncFaultTests {
    /// Two users with no email: their batches are retried one record at a time, the 248 good users
    /// arrive, the two bad ones are parked after failing in 3 runs, and the cursor holds just before u7.
    @Test func poisonRecordsAreParkedAndEveryGoodRecordArrives() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_POISON": "u7,u120"])
        for attempt in 1...3 {
            let r = try e.sync()
            #expect(r.status == 3, "\(r.stdout)\(r.stderr)")  // completed_with_errors
            // The cursor holds before the oldest failure (run.cursorPolicy: hold): u0..u6 are passed, every
            // later run fetches u7..u249 again.
            #expect(
                r.stdout.contains(attempt == 1 ? "processed 250  created 248" : "processed 243  created 0"),
                "\(r.stdout)")
            #expect(r.stdout.contains("failed 2"))
        }
        #expect(try e.query("SELECT count(*) FROM users") == [[248]])
        #expect(try e.query("SELECT count(*) FROM users WHERE external_id IN ('u7', 'u120')") == [[0]])

        let list = try e.flowrun(["dlq", "list", "--format", "json"])
        let items = try JSON.parse(list.stdout).arrayValue ?? []
        #expect(Set(items.compactMap { $0["key"].stringValue }) == ["u7", "u120"])
        #expect(items.allSatisfy { $0["attempts"] == 3 && $0["status"] == "parked" })
        #expect(items.first?["error"]["message"] == "lower expects a string, got null")

        // A replay of unchanged bad data fails again and stays parked; skip closes it.
        let id = try #require(items.first?["id"].stringValue)
        let replay = try e.flowrun(["dlq", "replay", id])
        #expect(replay.status == 1, "\(replay.stdout)\(replay.stderr)")  // failed, not retried
        #expect(replay.stdout.contains("(retry of") == false)
        let skip = try e.flowrun(["dlq", "skip", id])
        #expect(skip.stdout == "\(id): skipped\n")
        let after = try JSON.parse(try e.flowrun(["dlq", "list", "--format", "json"]).stdout).arrayValue ?? []
        #expect(after.count == 1)
        let runs = try e.runs()
        #expect(runs.first?["trigger"] == "replay")
    }

    /// Page 2 answers truncated JSON: the run ends with the error collected and the cursor held; once
    /// the API is fixed the next incremental run brings everything, each user exactly once.
    @Test func aMalformedPageHoldsTheCursorUntilTheAPIRecovers() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_MALFORMED_PAGE": "2"])
        let first = try e.sync()
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("processed 100  created 100"), "\(first.stdout)")
        // sync_logs agrees with the run record: one page arrived, the second's error is logged.
        let log = try e.query("SELECT status, pages, errors FROM sync_logs")
        #expect(log.map { Array($0.prefix(2)) } == [["completed_with_errors", 1]])
        #expect(log.first?[2].stringValue?.contains(#""node":"fetch-page""#) == true)
        try e.startMock(faults: [:])
        let second = try e.sync()
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("processed 250  created 150  updated 0  unchanged 100"), "\(second.stdout)")
        #expect(try e.usersChecksum() == SyncEnvironment.expectedChecksum())
        let third = try e.sync()
        #expect(third.stdout.contains("processed 0"), "\(third.stdout)")
    }

    /// Garbage for every record: the circuit breaker fails the run instead of grinding through it.
    @Test func theCircuitBreakerTripsWhenEveryRecordIsBad() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_POISON": "*"])
        let r = try e.sync()
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("reason: circuit breaker"), "\(r.stdout)")
        #expect(!r.stdout.contains("processed 250"), "\(r.stdout)")  // it stopped early
        #expect(try e.query("SELECT count(*) FROM users") == [[0]])
    }

    /// `--input '{"userId": ...}'` syncs exactly that user and leaves the cursor alone; an unknown
    /// user is an error, not a silent success.
    @Test func singleRecordSync() throws {
        let e = try SyncEnvironment()
        let one = try e.sync(["--input", #"{"userId": "u5"}"#])
        #expect(one.status == 0, "\(one.stdout)\(one.stderr)")
        #expect(one.stdout.contains("processed 1  created 1  updated 0"), "\(one.stdout)")
        #expect(try e.query("SELECT external_id, email FROM users") == [["u5", "user5@example.com"]])
        let missing = try e.sync(["--input", #"{"userId": "nobody"}"#])
        #expect(missing.status == 1, "\(missing.stdout)\(missing.stderr)")
        #expect(missing.stdout.contains("failed 1"))
        let all = try e.sync()
        #expect(all.stdout.contains("processed 250  created 249  updated 0  unchanged 1"), "\(all.stdout)")
    }

    /// A webhook on the flow's own http-server triggers the same single-record path. In scheduled mode
    /// stdout summarises the scheduled runs only: webhook runs answer their caller and go to the history.
    @Test func aWebhookSyncsOneUser() throws {
        let e = try SyncEnvironment()
        let stdout = e.dir.appendingPathComponent("stdout.txt")
        let (p, banner) = try e.launch([e.flow, "--state", e.state], until: "webhook listening", stdout: stdout)
        var stopped = false
        defer {
            if !stopped {
                p.terminate()
                _ = ChildProcess.exitStatus(p)
            }
        }
        let url = "http://127.0.0.1:\(e.webhookPort)/sync/users/u42"
        let unauthorized = try CLITests.http("POST", url)
        #expect(unauthorized.status == 401, "\(unauthorized.body)")
        let accepted = try CLITests.http("POST", url, headers: ["Authorization": "Bearer demo-webhook-token"])
        #expect(accepted.status == 202, "\(accepted.body)")
        #expect(try JSON.parse(accepted.body)["userId"] == "u42")
        // Deadlines generous enough for a loaded CI machine; each poll runs `flowrun runs list`.
        let webhookRun = e.waitForRun {
            $0["trigger"] == "webhook" && $0["status"] != "running" && $0["flow"] == "user-sync"
        }
        #expect(webhookRun["status"] == "completed", "\(banner)")
        #expect(webhookRun["counters"]["processed"] == 1)

        let scheduledRun = e.waitForRun { $0["trigger"] == "scheduled" && $0["status"] != "running" }
        p.terminate()
        _ = ChildProcess.exitStatus(p)
        stopped = true
        let printed = try String(contentsOf: stdout, encoding: .utf8)
        let scheduledID = try #require(scheduledRun["id"].stringValue)
        let webhookID = try #require(webhookRun["id"].stringValue)
        #expect(printed.contains("run \(scheduledID)"), "\(printed)")
        #expect(!printed.contains(webhookID), "\(printed)")
    }

    /// SIGKILL in the middle of a run: the next run completes, nothing is lost or duplicated, and the
    /// killed run is recorded as abandoned.
    @Test func aKilledRunIsAbandonedAndTheNextRunCompletes() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_DELAY": "400ms"])
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = [e.flow, "--once", "--state", e.state]
        p.environment = e.env
        p.currentDirectoryURL = e.dir
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.0)  // page 1 or 2 of 3
        kill(p.processIdentifier, SIGKILL)
        _ = ChildProcess.exitStatus(p)
        let next = try e.sync()
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("processed 250"), "\(next.stdout)")
        #expect(try e.query("SELECT count(*) FROM users") == [[250]])
        #expect(try e.usersChecksum() == SyncEnvironment.expectedChecksum())
        let runs = try e.runs()
        #expect(runs.map { $0["status"] } == ["completed", "abandoned"])
        #expect(runs.last?["reason"].stringValue?.contains("ended without finishing it") == true)
    }

    /// A dry run after a change in the destination: reports the would-update with its column and leaves
    /// the database file byte for byte as it was.
    @Test func aDryRunReportsAndWritesNothing() throws {
        let e = try SyncEnvironment()
        #expect(try e.sync().status == 0)
        let db = try SQLiteConnection(path: e.sqlitePath)
        try db.exec(
            "UPDATE users SET email = 'changed@example.com' WHERE external_id = 'u1'; PRAGMA wal_checkpoint(TRUNCATE);")
        let before = try Data(contentsOf: URL(fileURLWithPath: e.sqlitePath))
        let stateBefore = try e.flowrun(["runs", "list", "--format", "json"]).stdout
        let dry = try e.sync(["--dry-run", "--set", "vars.syncType=full"])
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("would insert (missing in destination)  0"), "\(dry.stdout)")
        #expect(dry.stdout.contains("would update                           1  (email 1)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("unchanged                              249"), "\(dry.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: e.sqlitePath)) == before)
        let wal = e.sqlitePath + "-wal"
        if FileManager.default.fileExists(atPath: wal) {
            #expect((try Data(contentsOf: URL(fileURLWithPath: wal))).isEmpty)
        }
        #expect(try e.query("SELECT count(*) FROM sync_logs") == [[1]])
        // The cursor did not move: a live incremental run still sees nothing new.
        let runs = try e.runs()
        #expect(runs.first?["dryRun"] == true)
        #expect(runs.first?["changedColumns"] == ["email": 1])
        #expect(stateBefore != "")
    }
}

/// The same job into PostgreSQL with every fault at once, and a dead letter replayed after the cause
/// is fixed.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil))
struct UserSyncPostgresFaultTests {
    /// 20% 503s, 10% 429 with Retry-After, slow pages and a poison record: every good record arrives
    /// exactly once (the table's checksum), the poison record is parked after three runs; the cursor stops
    /// just before it (run.cursorPolicy: hold), so later runs fetch u77..u249 again.
    @Test func everyFaultAtOnce() throws {
        let e = try SyncEnvironment(
            databaseURL: try PostgresTesting.freshDatabase(prefix: "faults"),
            faults: [
                "MOCK_CRM_FAIL_RATE": "0.2", "MOCK_CRM_THROTTLE_RATE": "0.1", "MOCK_CRM_DELAY": "30ms",
                "MOCK_CRM_POISON": "u77",
            ])
        for attempt in 1...3 {
            let r = try e.sync(["--set", "vars.retryCount=10"])
            #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains(attempt == 1 ? "processed 250" : "processed 173"), "\(r.stdout)")
            #expect(r.stdout.contains("failed 1  "), "\(r.stdout)")
        }
        #expect(try e.query("SELECT count(*) FROM users") == [[249]])
        #expect(try e.usersChecksum() == SyncEnvironment.expectedChecksum(without: ["u77"]))
        let items = try JSON.parse(try e.flowrun(["dlq", "list", "--format", "json"]).stdout).arrayValue ?? []
        #expect(items.map { $0["key"] } == ["u77"])
    }

    /// A constraint rejects one user; after the constraint is dropped, `flowrun dlq replay` writes it
    /// and closes the item.
    @Test func aParkedRecordIsReplayedOnceTheCauseIsFixed() throws {
        let url = try PostgresTesting.freshDatabase(prefix: "replay")
        let e = try SyncEnvironment(databaseURL: url)
        _ = try e.query(
            "CREATE TABLE users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT, status TEXT, metadata TEXT, updated_at TEXT, CONSTRAINT no_u5 CHECK (external_id <> 'u5'))"
        )
        for _ in 1...3 {
            let r = try e.sync()
            #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
        }
        let items = try JSON.parse(try e.flowrun(["dlq", "list", "--format", "json"]).stdout).arrayValue ?? []
        #expect(items.map { $0["key"] } == ["u5"])
        #expect(items.first?["error"]["code"] == "pg_23514")  // check_violation, with its SQLSTATE
        _ = try e.query("ALTER TABLE users DROP CONSTRAINT no_u5")
        let id = try #require(items.first?["id"].stringValue)
        let replay = try e.flowrun(["dlq", "replay", id])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("created 1"), "\(replay.stdout)")
        #expect(replay.stdout.contains("\(id): replayed"))
        #expect(try e.query("SELECT email FROM users WHERE external_id = 'u5'") == [["user5@example.com"]])
        #expect(try e.usersChecksum() == SyncEnvironment.expectedChecksum())
        let all = try JSON.parse(try e.flowrun(["dlq", "list", "--all", "--format", "json"]).stdout).arrayValue ?? []
        #expect(all.first?["status"] == "replayed")
    }
}
