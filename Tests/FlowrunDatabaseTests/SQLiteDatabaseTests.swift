import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun

/// The database component with the embedded SQLite driver, against real database files.
@Suite struct SQLiteDatabaseTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-db-\(UUID().uuidString).db").path

    /// Creates the users table, then upserts `rows` and collects the response.
    func upsert(_ rows: String, dryRun: Bool = false, store: MemoryStore = MemoryStore()) throws -> (
        FlowHarness, RunRecord
    ) {
        let h = try FlowHarness(
            """
            flow: db
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {rows: \(rows)}}}
              ddl: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
              db: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
              done: {component: modify}
              failed: {component: modify}
            edges:
              - from: start.out
                to: ddl.request
                data:
                  query: CREATE TABLE IF NOT EXISTS users (external_id TEXT PRIMARY KEY, email TEXT NOT NULL, active INTEGER, meta TEXT)
                  context: <<$>>
              - {from: ddl.response, to: db.request, data: {operation: upsert, table: users, key: external_id, rows: <<$.context.rows>>}}
              - {from: db.response, to: done.in}
              - {from: db.error, to: failed.in}
              - {from: ddl.error, to: failed.in}
            """, store: store, dryRun: dryRun)
        return (h, h.run())
    }

    func rows() throws -> [[Value]] {
        let c = try SQLiteConnection(path: path)
        return try c.query("SELECT external_id, email, active, meta FROM users ORDER BY external_id", []).rows
    }

    @Test func upsertReportsCreatedUpdatedUnchanged() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try upsert(
            "[{external_id: u1, email: a@x, active: true, meta: {n: 1}}, {external_id: u2, email: b@x, active: false, meta: null}]"
        )
        #expect(first.1.status == .completed, "\(first.1.errors)")
        #expect(first.0.messages("done.out").first?["created"] == 2)
        #expect(first.1[.created] == 2)
        #expect(try rows() == [["u1", "a@x", 1, #"{"n":1}"#], ["u2", "b@x", 0, nil]])
        let again = try upsert(
            "[{external_id: u1, email: a@x, active: true, meta: {n: 1}}, {external_id: u2, email: B@x, active: false, meta: null}, {external_id: u3, email: c@x, active: true, meta: null}]"
        )
        let r = try #require(again.0.messages("done.out").first)
        #expect(r["created"] == 1)
        #expect(r["updated"] == 1)
        #expect(r["unchanged"] == 1)
        #expect(again.1[.unchanged] == 1)
        #expect(try rows().count == 3)
        #expect(try rows()[1][1] == "B@x")
    }

    @Test func duplicateKeysInOneBatchKeepTheLast() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (h, _) = try upsert("[{external_id: u1, email: first}, {external_id: u1, email: last}]")
        #expect(h.messages("done.out").first?["created"] == 1)
        #expect(try rows() == [["u1", "last", nil, nil]])
    }

    @Test func dryRunComparesButWritesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try upsert("[{external_id: u1, email: a@x}]")
        let (h, _) = try upsert("[{external_id: u1, email: changed}, {external_id: u2, email: new}]", dryRun: true)
        let r = try #require(h.messages("done.out").first)
        #expect(r["created"] == 1)
        #expect(r["updated"] == 1)
        #expect(r["dryRun"] == true)
        #expect(try rows() == [["u1", "a@x", nil, nil]])
    }

    @Test func badRowsAndIdentifiersAreErrors() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (h, _) = try upsert("[{external_id: u1, 'email; DROP TABLE users': x}]")
        #expect(
            h.messages("failed.out").first?["error"]["message"].stringValue?.contains("invalid SQL identifier") == true)
        let (h2, _) = try upsert("[{email: no-key}]")
        #expect(
            h2.messages("failed.out").first?["error"]["message"].stringValue?.contains("no value for its key") == true)
        let (h3, _) = try upsert("[{external_id: u9, email: null}]")
        let error = try #require(h3.messages("failed.out").first)["error"]
        #expect(error["code"] == "sqlite_19")  // SQLITE_CONSTRAINT: NOT NULL
        #expect(error["retryable"] == false)
    }

    @Test func queryExecuteAndBatch() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try FlowHarness(
            """
            flow: q
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              ddl: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
              load: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
              read: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
            edges:
              - {from: start.out, to: ddl.request, data: {query: 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)'}}
              - from: ddl.response
                to: load.request
                data: {operation: batch, query: 'INSERT INTO t (id, name, score) VALUES ($1, $2, $3)', parameters: [[1, a, 1.5], [2, b, 2]]}
              - {from: load.response, to: read.request, data: {query: 'SELECT id, name, score FROM t WHERE score > $1 ORDER BY id', parameters: [1]}}
            """)
        let record = h.run()
        #expect(record.status == .completed, "\(record.errors)")
        #expect(h.messages("load.response").first?["rowsAffected"] == 2)
        #expect(
            h.messages("read.response").first?["rows"] == [
                ["id": 1, "name": "a", "score": 1.5], ["id": 2, "name": "b", "score": 2.0],
            ])
    }
}

extension SQLiteDatabaseTests {
    @Test func hostileStringsAreBoundNotSpliced() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let hostile = #"'); DROP TABLE users; -- ünïcødé 🌍 "quote" \ back"#
        let (h, record) = try upsert(
            #"[{external_id: "x'1", email: '"# + hostile.replacingOccurrences(of: "'", with: "''") + "'}]")
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        #expect(try rows() == [["x'1", .string(hostile), nil, nil]])
    }
}
