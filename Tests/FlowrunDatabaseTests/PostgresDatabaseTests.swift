import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun

let postgresURL = ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"]

/// The database component against a real PostgreSQL server (scripts/test starts one).
@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct PostgresDatabaseTests {
    let schema = "t_" + UUID().uuidString.prefix(8).lowercased()

    func flow(_ body: String, dryRun: Bool = false) throws -> (FlowHarness, RunRecord) {
        let h = try FlowHarness(
            """
            flow: pg
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              ddl: {component: database, settings: {url: '\(postgresURL!)'}}
              db: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 2}}
              done: {component: modify}
              failed: {component: modify}
            edges:
              - from: start.out
                to: ddl.request
                data:
                  query: |
                    CREATE SCHEMA IF NOT EXISTS \(schema);
                    CREATE TABLE IF NOT EXISTS \(schema).users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL,
                      active BOOLEAN, score NUMERIC, meta JSONB, updated_at TIMESTAMPTZ);
              - {from: ddl.response, to: db.request, data: \(body)}
              - {from: db.response, to: done.in}
              - {from: db.error, to: failed.in}
              - {from: ddl.error, to: failed.in}
            """, dryRun: dryRun)
        return (h, h.run())
    }

    func upsert(_ rows: String, dryRun: Bool = false) throws -> Value {
        let (h, r) = try flow(
            "{operation: upsert, table: \(schema).users, key: external_id, rows: \(rows)}", dryRun: dryRun)
        #expect(r.status == .completed, "\(h.messages("failed.out"))")
        return h.messages("done.out").first ?? nil
    }

    @Test func upsertCountsCreatedUpdatedUnchangedAndDryRunRollsBack() throws {
        let first = try upsert(
            "[{external_id: u1, email: a@x, active: true, score: 1.5, meta: {n: 1}, updated_at: '2024-01-01T00:00:00Z'}, {external_id: u2, email: b@x, active: false, score: 2, meta: null, updated_at: null}]"
        )
        #expect(first["created"] == 2)
        let second = try upsert(
            "[{external_id: u1, email: a@x, active: true, score: 1.5, meta: {n: 1}, updated_at: '2024-01-01T00:00:00Z'}, {external_id: u2, email: changed, active: false, score: 2, meta: null, updated_at: null}, {external_id: u3, email: c@x, active: null, score: null, meta: null, updated_at: null}]"
        )
        #expect(second["created"] == 1)
        #expect(second["updated"] == 1)
        #expect(second["unchanged"] == 1)
        let dry = try upsert(
            "[{external_id: u4, email: d@x, active: null, score: null, meta: null, updated_at: null}]", dryRun: true)
        #expect(dry["created"] == 1)
        #expect(dry["dryRun"] == true)
        let (h, _) = try flow(
            "{query: 'SELECT external_id, active, score, meta, email FROM \(schema).users ORDER BY 1'}")
        let rows = try #require(h.messages("done.out").first)["rows"]
        #expect(rows.arrayValue?.count == 3)
        #expect(rows[0] == ["external_id": "u1", "active": true, "score": 1.5, "meta": ["n": 1], "email": "a@x"])
        #expect(rows[1]["email"] == "changed")
    }

    @Test func errorsCarryTheSQLState() throws {
        let (h, _) = try flow(
            "{operation: upsert, table: \(schema).users, key: external_id, rows: [{external_id: x, email: null}]}")
        let error = try #require(h.messages("failed.out").first)["error"]
        #expect(error["code"] == "pg_23502")  // not_null_violation
        #expect(error["retryable"] == false)
        let (h2, _) = try flow("{query: 'SELEC 1'}")
        #expect(h2.messages("failed.out").first?["error"]["code"] == "pg_42601")
    }

    @Test func batchAndParameters() throws {
        let (h, r) = try flow(
            """
            {operation: batch, query: 'INSERT INTO \(schema).users (external_id, email) VALUES ($1, $2)', parameters: [[b1, one], [b2, two]]}
            """)
        #expect(r.status == .completed)
        #expect(h.messages("done.out").first?["rowsAffected"] == 2)
    }

    @Test func unreachableServerIsARetryableConnectError() throws {
        let h = try FlowHarness(
            """
            flow: pg-down
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              db: {component: database, settings: {url: 'postgres://nobody@127.0.0.1:1/x?connect_timeout=2'}}
              failed: {component: modify}
            edges:
              - {from: start.out, to: db.request, data: {query: 'SELECT 1'}}
              - {from: db.error, to: failed.in}
            """)
        h.run()
        let error = try #require(h.messages("failed.out").first)["error"]
        #expect(error["code"] == "connect")
        #expect(error["retryable"] == true)
    }
}

extension PostgresDatabaseTests {
    @Test func hostileStringsAreBoundNotSpliced() throws {
        let hostile = #"'); DROP TABLE users; -- ünïcødé 🌍 "quote" \ back $1"#
        let quoted = hostile.replacingOccurrences(of: "'", with: "''")
        let created = try upsert(
            #"[{external_id: "x'1", email: '"# + quoted
                + #"', active: null, score: null, meta: null, updated_at: null}]"#)
        #expect(created["created"] == 1)
        let (h, _) = try flow(
            "{query: 'SELECT email FROM \(schema).users WHERE external_id = $1', parameters: [\"x'1\"]}")
        #expect(h.messages("done.out").first?["rows"] == [["email": .string(hostile)]])
    }
}

extension PostgresDatabaseTests {
    /// The pool's connection is killed between two reads of one run (as a server restart would):
    /// the second read reconnects and succeeds.
    @Test func readsSurviveABrokenConnection() throws {
        let killer = postgresURL! + (postgresURL!.contains("?") ? "&" : "?") + "application_name=killer"
        let h = try FlowHarness(
            """
            flow: reconnect
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              first: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 1}}
              kill: {component: database, settings: {url: '\(killer)'}}
              again: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 1}}
              failed: {component: modify}
            edges:
              - {from: start.out, to: first.request, data: {query: 'SELECT pg_backend_pid() AS pid'}}
              - {from: first.response, to: kill.request, data: {query: 'SELECT pg_terminate_backend($1, 5000)', parameters: [<<$.rows[0].pid>>]}}
              - {from: kill.response, to: again.request, data: {query: 'SELECT pg_backend_pid() AS pid'}}
              - {from: again.error, to: failed.in}
            """)
        let record = h.run()
        #expect(h.messages("failed.out").isEmpty, "\(h.messages("failed.out"))")
        let before = try #require(h.messages("first.response").first)["rows"][0]["pid"]
        let after = try #require(h.messages("again.response").first)["rows"][0]["pid"]
        #expect(before != after)
        #expect(record.status == .completed)
    }
}
