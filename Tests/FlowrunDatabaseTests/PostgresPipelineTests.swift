import Dispatch
import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun

/// Pipelined batches, the prepared-statement cache, dry-run comparisons and a server restart in the
/// middle of a run, against real PostgreSQL servers.
extension PostgresDatabaseTests {
    @Test func batchesArePipelinedAndAtomic() throws {
        let sets = (0..<1_000).map { "[p\($0), 'e\($0)']" }.joined(separator: ", ")
        let (h, r) = try flow(
            "{operation: batch, query: 'INSERT INTO \(schema).users (external_id, email) VALUES ($1, $2)', parameters: [\(sets)]}"
        )
        #expect(r.status == .completed)
        #expect(h.messages("done.out").first?["rowsAffected"] == 1_000)
        // The third set violates NOT NULL: the whole batch is rolled back, the error names the SQLSTATE.
        let (h2, _) = try flow(
            "{operation: batch, query: 'INSERT INTO \(schema).users (external_id, email) VALUES ($1, $2)', parameters: [[q1, a], [q2, b], [q3, null], [q4, d]]}"
        )
        #expect(h2.messages("failed.out").first?["error"]["code"] == "pg_23502")
        let (h3, _) = try flow("{query: 'SELECT count(*) AS n FROM \(schema).users'}")
        #expect(h3.messages("done.out").first?["rows"] == [["n": 1_000]])
    }

    @Test func statementsArePreparedOncePerConnection() throws {
        let h = try FlowHarness(
            """
            flow: prepared
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              items: {component: iterator}
              db: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 1}}
              count: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 1}}
            edges:
              - {from: start.out, to: items.in, data: {array: <<range(300)>>}}
              - {from: items.item, to: db.request, data: {query: 'SELECT $1::int + 1 AS n', parameters: [<<$.item>>]}}
              - {from: items.done, to: count.request, data: {query: 'SELECT 1 AS one'}}
            """)
        let r = h.run()
        #expect(r.status == .completed)
        #expect(h.messages("db.response").count == 300)
        #expect(h.messages("db.response").last?["rows"] == [["n": 300]])
        // 300 distinct statements on one connection: more than the cache holds, so it was recycled.
        let h2 = try FlowHarness(
            """
            flow: many-statements
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              items: {component: iterator}
              db: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 1}}
              check: {component: database, settings: {url: '\(postgresURL!)', maxOpenConns: 1}}
            edges:
              - {from: start.out, to: items.in, data: {array: <<range(300)>>}}
              - {from: items.item, to: db.request, data: {query: <<'SELECT ' + $.item + ' AS n WHERE $1::int = 1'>>, parameters: [1]}}
              - {from: items.done, to: db.request, data: {query: 'SELECT count(*) AS prepared FROM pg_prepared_statements WHERE $1::int = 1', parameters: [1]}}
            """)
        let r2 = h2.run()
        #expect(r2.status == .completed)
        let responses = h2.messages("db.response")
        #expect(responses.count == 301)
        #expect(responses[299]["rows"] == [["n": 299]])
        let prepared = responses.last?["rows"][0]["prepared"].intValue ?? 0
        #expect(prepared >= 1 && prepared <= 256)
    }

    @Test func dryRunUpsertReportsChangedColumnsAndWritesNothing() throws {
        _ = try upsert(
            "[{external_id: u1, email: a@x, active: true, score: 1.5, meta: {n: 1}, updated_at: '2024-01-01T00:00:00Z'}, {external_id: u2, email: b@x, active: false, score: 2, meta: null, updated_at: null}]"
        )
        let dry = try upsert(
            "[{external_id: u1, email: a@x, active: true, score: 1.50, meta: {n: 1}, updated_at: '2024-01-01T00:00:00+00:00'}, {external_id: u2, email: B@x, active: true, score: 2, meta: null, updated_at: null}, {external_id: u3, email: c@x, active: null, score: null, meta: null, updated_at: null}]",
            dryRun: true)
        #expect(dry["dryRun"] == true)
        #expect(dry["created"] == 1)
        #expect(dry["updated"] == 1)
        #expect(dry["unchanged"] == 1)  // same values in another spelling are unchanged
        #expect(dry["changedColumns"] == ["active": 1, "email": 1])
        #expect(
            dry["changes"] == [
                ["action": "update", "key": "u2", "columns": ["email", "active"]], ["action": "insert", "key": "u3"],
            ])
        let (h, _) = try flow("{query: 'SELECT external_id, email, active FROM \(schema).users ORDER BY 1'}")
        #expect(
            h.messages("done.out").first?["rows"] == [
                ["external_id": "u1", "email": "a@x", "active": true],
                ["external_id": "u2", "email": "b@x", "active": false],
            ])
    }
}

/// The server restarts between two statements of one run: the pool's broken connection is replaced
/// and the read and the upsert after the restart succeed.
@Suite(.enabled(if: postgresURL != nil, "needs a PostgreSQL installation"))
struct PostgresRestartTests {
    @Test func aRunSurvivesAServerRestart() throws {
        let cluster = try PrivateCluster()
        let h = try FlowHarness(
            """
            flow: restart
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              db: {component: database, settings: {url: '\(cluster.url)', maxOpenConns: 1}}
              first: {component: router, settings: {when: <<$.context == 'setup'>>, outputPort: again, defaultPort: done}}
              wait: {component: delay, settings: {duration: 4s}}
              finished: {component: modify}
              failed: {component: modify}
            edges:
              - {from: start.out, to: db.request, data: {query: 'CREATE TABLE t (id TEXT PRIMARY KEY, v INT)', context: setup}}
              - {from: db.response, to: first.in}
              - {from: first.again, to: wait.in}
              - {from: wait.out, to: db.request, data: {operation: upsert, table: t, key: id, rows: [{id: a, v: 1}], context: after}}
              - {from: first.done, to: finished.in}
              - {from: db.error, to: failed.in}
            """)
        let restarted = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let server = cluster
        nonisolated(unsafe) var restartError: Error?
        Thread {
            Thread.sleep(forTimeInterval: 1)
            do { try server.restart() } catch { restartError = error }
            restarted.signal()
        }.start()
        let record: RunRecord? = h.run()
        restarted.wait()
        #expect(restartError == nil)
        #expect(record?.status == .completed, "\(h.messages("failed.out"))")
        #expect(h.messages("finished.out").first?["created"] == 1)
    }
}
