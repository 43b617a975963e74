import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun

/// Issue 13 item 8: text holding NUL bytes. SQLite stores and reads it back exactly (so a second sync
/// finds the rows unchanged, and keys differing after a NUL stay distinct); PostgreSQL text cannot hold
/// it, so the request fails on the error port with a clear, located error instead of storing a cut value.
@Suite struct NULByteTests {
    static let name = "Ann Lee\u{0}-hidden-suffix"
    static let rows: Value = [
        ["external_id": "k\u{0}a", "name": .string(name)],
        ["external_id": "k\u{0}b", "name": "Bob"],
    ]

    /// A flow that upserts its input into `url` (created first by `ddl`) and collects the outcome.
    static func harness(_ settings: String, ddl: String) throws -> FlowHarness {
        try FlowHarness(
            """
            flow: nul
            nodes:
              ddl: {component: database, settings: \(settings)}
              db: {component: database, settings: \(settings)}
              done: {component: modify}
              failed: {component: modify}
            edges:
              - {from: ddl.response, to: db.request, data: {operation: upsert, table: nul_users, key: external_id, rows: <<$.context>>}}
              - {from: db.response, to: done.in}
              - {from: db.error, to: failed.in}
              - {from: ddl.error, to: failed.in}
            """)
    }

    static func request(_ ddl: String, _ rows: Value) -> Value { ["query": .string(ddl), "context": rows] }

    @Test func sqliteRoundTripsNULBytesExactly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-nul-\(UUID().uuidString).db")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ddl = "CREATE TABLE IF NOT EXISTS nul_users (external_id TEXT PRIMARY KEY, name TEXT)"
        let h = try Self.harness("{driver: sqlite, url: 'sqlite:\(path)'}", ddl: ddl)
        let first = h.run(input: Self.request(ddl, Self.rows), entry: "ddl", port: "request")
        #expect(first.status == .completed, "\(h.messages("db.error")) \(h.messages("ddl.error"))")
        #expect(h.messages("db.response").first?["created"] == 2)
        let stored = try SQLiteConnection(path: path).query("SELECT external_id, name FROM nul_users ORDER BY 1", [])
        #expect(stored.rows == [["k\u{0}a", .string(Self.name)], ["k\u{0}b", "Bob"]])
        h.reset()
        _ = h.run(input: Self.request(ddl, Self.rows), entry: "ddl", port: "request")
        #expect(h.messages("db.response").first?["unchanged"] == 2, "read back whole, so nothing looks updated")
        #expect(h.messages("db.response").first?["updated"] == 0)
    }

    @Test func sqliteStateStoreKeepsNULBytesInKeysAndValues() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-nul-\(UUID().uuidString).db")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        try store.set(flow: "f", key: "k\u{0}1", value: "v\u{0}x")
        try store.set(flow: "f", key: "k\u{0}2", value: "other")
        #expect(try store.get(flow: "f", key: "k\u{0}1") == "v\u{0}x")
        #expect(try store.get(flow: "f", key: "k\u{0}2") == "other")
        var record = RunRecord(id: "r\u{0}1", flow: "f", trigger: .manual, startedAt: 1)
        record.reason = "why\u{0}not"
        try store.save(record)
        #expect(try store.run(id: "r\u{0}1")?.reason == "why\u{0}not")
    }

    @Test(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL"))
    func postgresRefusesNULBytesWithALocatedErrorAndStoresNothingCut() throws {
        let table = "nul_" + UUID().uuidString.prefix(8).lowercased()
        let ddl = "CREATE TABLE IF NOT EXISTS \(table) (external_id TEXT PRIMARY KEY, name TEXT)"
        let settings = "{url: '\(postgresURL!)'}"
        let yaml = { (rows: String) in
            """
            flow: nul
            nodes:
              ddl: {component: database, settings: \(settings)}
              db: {component: database, settings: \(settings)}
              read: {component: database, settings: \(settings)}
              done: {component: modify}
              failed: {component: modify}
            edges:
              - {from: ddl.response, to: db.request, data: {operation: upsert, table: \(table), key: external_id, rows: \(rows)}}
              - {from: db.response, to: done.in}
              - {from: db.error, to: failed.in}
              - {from: db.error, to: read.request, data: {query: 'SELECT external_id, name FROM \(table) ORDER BY 1'}}
              - {from: db.response, to: read.request, data: {query: 'SELECT external_id, name FROM \(table) ORDER BY 1'}}
              - {from: read.response, to: done.in}
              - {from: ddl.error, to: failed.in}
            """
        }
        // A name with a NUL fails the request on the error port; nothing of it is stored.
        let bad = try FlowHarness(yaml("[{external_id: u1, name: \"<<'Ann Lee\\u0000-hidden-suffix'>>\"}]"))
        let r = bad.run(input: ["query": .string(ddl)], entry: "ddl", port: "request")
        let error = try #require(bad.messages("db.error").first)["error"]
        #expect(error["code"] == "pg_22021")
        #expect(error["retryable"] == false)
        #expect(error["message"].stringValue?.contains("column 'name' holds a NUL byte") == true, "\(error)")
        #expect(bad.messages("read.response").last?["rows"] == [], "nothing stored: \(bad.messages("read.response"))")
        #expect(r.errors.first?.code == "pg_22021")

        // Keys that differ only after a NUL do not collide: both are refused.
        let keys = try FlowHarness(
            yaml("[{external_id: \"<<'k\\u0000a'>>\", name: a}, {external_id: \"<<'k\\u0000b'>>\", name: b}]"))
        _ = keys.run(input: ["query": .string(ddl)], entry: "ddl", port: "request")
        #expect(keys.messages("db.error").first?["error"]["message"].stringValue?.contains("external_id") == true)

        // Good text is stored as before.
        let good = try FlowHarness(yaml("[{external_id: u2, name: Bob}]"))
        _ = good.run(input: ["query": .string(ddl)], entry: "ddl", port: "request")
        #expect(good.messages("read.response").last?["rows"] == [["external_id": "u2", "name": "Bob"]])
    }
}
