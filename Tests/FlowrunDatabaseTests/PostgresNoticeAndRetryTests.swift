import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunDatabase

/// libpq notices as log lines, and the safe-retry classifier of `operation: query`: a data-modifying CTE is a write (issue 14 review: it was
/// taken for a read and sent again after the connection broke under it).
@Suite struct StatementKindTests {
    @Test(arguments: [
        ("SELECT 1", true),
        ("  select * from t where a = $1;", true),
        ("WITH x AS (SELECT 1) SELECT * FROM x", true),
        ("VALUES (1), (2)", true),
        ("SELECT 'insert into t' AS text, \"update\" FROM t", true),  // literals and quoted names
        ("SELECT 1 -- delete from t\n", true),
        ("SELECT /* update /* nested */ t */ 1", true),
        ("SELECT $$ delete $$, $tag$ insert ; $tag$", true),
        ("WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved", false),
        ("WITH n AS (INSERT INTO t (v) VALUES (1) RETURNING v) SELECT v FROM n", false),
        ("with u as (update t set v = 2 returning v) select * from u", false),
        ("WITH m AS (MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING) SELECT 1", false),
        ("SELECT * INTO new_table FROM t", false),
        ("SELECT * FROM t FOR UPDATE", false),
        ("INSERT INTO t VALUES (1) RETURNING *", false),
        ("SELECT 1; DELETE FROM t", false),
        ("CALL proc()", false),
        ("", false),
    ])
    func writesAreNotReads(sql: String, read: Bool) {
        #expect(StatementKind.isRead(sql) == read, "\(sql)")
    }

    @Test(arguments: [
        (
            "NOTICE:  relation \"t\" already exists, skipping\n", LogLevel.info,
            "relation \"t\" already exists, skipping"
        ),
        ("WARNING:  careful\n", .warning, "careful"),
        ("DEBUG:  x", .debug, "x"),
        ("no severity", .info, "no severity"),
    ])
    func noticeLevels(text: String, level: LogLevel, message: String) {
        let notice = PostgresNotice.parse(text)
        #expect(notice.level == level)
        #expect(notice.message == message)
    }
}

/// Against a real server (skipped without FLOWRUN_TEST_DATABASE_URL): notices reach the run's logger, and a
/// query whose session ends under it is sent again only when it is a read.
@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct PostgresNoticeAndRetryTests {
    let name = "notice_" + UUID().uuidString.prefix(8).lowercased()

    func run(_ connection: PostgresDriver.Connection, _ message: Value) throws -> DatabaseResult {
        try connection.run(DatabaseRequest(message, boolsAsInts: false), dryRun: false)
    }

    /// Each statement ends its own session after taking a number from a sequence (not rolled back): the
    /// sequence counts how many times it was sent.
    @Test func aDataModifyingCTEIsNotSentAgainAfterItsSessionEnded() throws {
        let driver = PostgresDriver(url: postgresURL!, size: 1)
        let c = driver.connections[0]
        _ = try run(c, ["query": .string("CREATE TABLE \(name) (v BIGINT); CREATE SEQUENCE \(name)_seq")])
        defer { _ = try? run(c, ["query": .string("DROP TABLE \(name); DROP SEQUENCE \(name)_seq")]) }
        let write =
            "WITH n AS (INSERT INTO \(name) (v) VALUES (nextval('\(name)_seq')) RETURNING v) "
            + "SELECT v, pg_terminate_backend(pg_backend_pid()) FROM n"
        #expect(throws: NodeError.self) { try run(c, ["operation": "query", "query": .string(write)]) }
        let afterWrite = try run(c, ["operation": "query", "query": .string("SELECT last_value FROM \(name)_seq")])
        #expect(afterWrite.rows.first?["last_value"] == 1)  // sent once
        // A read (as far as the text shows) is sent once more on a new session.
        let read = "SELECT nextval('\(name)_seq'), pg_terminate_backend(pg_backend_pid())"
        #expect(throws: NodeError.self) { try run(c, ["operation": "query", "query": .string(read)]) }
        let afterRead = try run(c, ["operation": "query", "query": .string("SELECT last_value FROM \(name)_seq")])
        #expect(afterRead.rows.first?["last_value"] == 3)
        #expect(
            try run(c, ["operation": "query", "query": .string("SELECT count(*) AS n FROM \(name)")]).rows[0]["n"] == 0)
    }

    @Test func noticesGoToTheRunsLoggerWithTheNode() throws {
        let h = try FlowHarness(
            """
            flow: notices
            vars: {url: ''}
            nodes:
              db: {component: database, settings: {url: <<vars.url>>}}
              failed: {component: log}
            edges:
              - {from: db.error, to: failed.in}
            """, vars: ["url": .string(postgresURL!)])
        let record = h.run(
            input: [
                "operation": "execute",
                "query": "DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful'; END $$",
            ], entry: "db")
        #expect(record.status == .completed, "\(record.errors)")
        #expect(h.logs.contains("info db: postgres: hello 42"), "\(h.logs)")
        #expect(h.logs.contains("warning db: postgres: careful"), "\(h.logs)")
    }
}
