import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun

/// Issue 13 item 9 at the database: three distinct ids beyond 64 bits are three rows (they used to
/// round to one double and merge into `created 2`), stored exactly, and unchanged on the next run.
/// Times of years 0001 and 9999 are stored as the text they are.
enum BigIntRows {
    /// Three distinct ids (one twice: the last wins) and an exact amount beyond 64 bits.
    static let rows = """
        [{"id": 18446744073709551615, "amount": 18446744073709551615, "updated_at": "9999-12-31T00:00:00.000Z"},
         {"id": 18446744073709551614, "amount": -9223372036854775809, "updated_at": "0001-01-01T00:00:00.000Z"},
         {"id": 9223372036854775808, "amount": 1, "updated_at": "2024-01-01T00:00:00.000Z"},
         {"id": 18446744073709551615, "amount": 18446744073709551615, "updated_at": "9999-12-31T00:00:00.000Z"}]
        """
        .replacingOccurrences(of: "\n", with: " ")

    /// A flow that creates `table` with `ddl`, then sends `request` (an expression over `rows`) to the database.
    static func run(driver: String, url: String, ddl: String, request: String) throws -> FlowHarness {
        let h = try FlowHarness(
            """
            flow: db
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              ddl: {component: database, settings: {driver: \(driver), url: '\(url)'}}
              db: {component: database, settings: {driver: \(driver), url: '\(url)'}}
              done: {component: modify}
              failed: {component: modify}
            edges:
              - {from: start.out, to: ddl.request, data: {query: '\(ddl)'}}
              - from: ddl.response
                to: db.request
                data: |
                  <<\(request)>>
              - {from: db.response, to: done.in}
              - {from: db.error, to: failed.in}
              - {from: ddl.error, to: failed.in}
            """)
        let record = h.run()
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        return h
    }

    static func upsert(_ table: String) -> String {
        "{operation: 'upsert', table: '\(table)', key: 'id', rows: JSON.parse('\(rows)')}"
    }
}

@Suite struct SQLiteBigIntTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-big-\(UUID().uuidString).db").path

    @Test func bigIntegersAreDistinctExactAndUnchangedOnTheNextRun() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ddl = "CREATE TABLE IF NOT EXISTS big (id TEXT PRIMARY KEY, amount, updated_at TEXT)"
        let url = "sqlite:\(path)"
        let first = try BigIntRows.run(driver: "sqlite", url: url, ddl: ddl, request: BigIntRows.upsert("big"))
        #expect(first.messages("done.out").first?["created"] == 3)
        let second = try BigIntRows.run(driver: "sqlite", url: url, ddl: ddl, request: BigIntRows.upsert("big"))
        #expect(second.messages("done.out").first?["unchanged"] == 3, "\(second.messages("done.out"))")
        #expect(second.messages("done.out").first?["updated"] == 0)

        let rows = try SQLiteConnection(path: path).query(
            "SELECT id, amount, typeof(amount), updated_at FROM big ORDER BY updated_at", []
        ).rows
        #expect(
            rows == [
                ["18446744073709551614", "-9223372036854775809", "text", "0001-01-01T00:00:00.000Z"],
                ["9223372036854775808", 1, "integer", "2024-01-01T00:00:00.000Z"],
                ["18446744073709551615", "18446744073709551615", "text", "9999-12-31T00:00:00.000Z"],
            ])
        // A bound big integer finds its row (it is bound as the same exact text).
        let found = try BigIntRows.run(
            driver: "sqlite", url: url, ddl: ddl,
            request:
                "{query: 'SELECT updated_at FROM big WHERE id = ?', parameters: [JSON.parse('18446744073709551614')]}"
        )
        #expect(found.messages("done.out").first?["rows"] == [["updated_at": "0001-01-01T00:00:00.000Z"]])
    }
}

@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct PostgresBigIntTests {
    let table = "big_" + UUID().uuidString.prefix(8).lowercased()

    @Test func bigIntegersAreBoundAsNumericAndReadBackExactly() throws {
        let url = postgresURL!
        let ddl = "CREATE TABLE IF NOT EXISTS \(table) (id NUMERIC PRIMARY KEY, amount NUMERIC, updated_at TEXT)"
        let first = try BigIntRows.run(driver: "postgres", url: url, ddl: ddl, request: BigIntRows.upsert(table))
        #expect(first.messages("done.out").first?["created"] == 3)
        let second = try BigIntRows.run(driver: "postgres", url: url, ddl: ddl, request: BigIntRows.upsert(table))
        #expect(second.messages("done.out").first?["unchanged"] == 3, "\(second.messages("done.out"))")

        let read = try BigIntRows.run(
            driver: "postgres", url: url, ddl: ddl,
            request: "{query: 'SELECT id, amount, updated_at, amount::text AS exact FROM \(table) ORDER BY id'}")
        let rows = try #require(read.messages("done.out").first?["rows"])
        #expect(
            JSON.serialize(rows)
                == #"[{"id":9223372036854775808,"amount":1,"updated_at":"2024-01-01T00:00:00.000Z","exact":"1"},"#
                + #"{"id":18446744073709551614,"amount":-9223372036854775809,"updated_at":"0001-01-01T00:00:00.000Z","exact":"-9223372036854775809"},"#
                + #"{"id":18446744073709551615,"amount":18446744073709551615,"updated_at":"9999-12-31T00:00:00.000Z","exact":"18446744073709551615"}]"#
        )
        // Bound as a parameter it compares as the exact numeric, in SQL too.
        let found = try BigIntRows.run(
            driver: "postgres", url: url, ddl: ddl,
            request:
                "{query: 'SELECT updated_at, $1::numeric - 18446744073709551614 AS diff FROM \(table) WHERE id = $1', parameters: [JSON.parse('18446744073709551615')]}"
        )
        #expect(found.messages("done.out").first?["rows"] == [["updated_at": "9999-12-31T00:00:00.000Z", "diff": 1]])
    }

    /// In a TEXT key column the exact digits are stored (the user-sync table's `external_id`).
    @Test func bigIntegersInTextColumnsAreTheirDigits() throws {
        let url = postgresURL!
        let ddl = "CREATE TABLE IF NOT EXISTS \(table) (id TEXT PRIMARY KEY, amount TEXT, updated_at TEXT)"
        let first = try BigIntRows.run(driver: "postgres", url: url, ddl: ddl, request: BigIntRows.upsert(table))
        #expect(first.messages("done.out").first?["created"] == 3)
        let read = try BigIntRows.run(
            driver: "postgres", url: url, ddl: ddl, request: "{query: 'SELECT id FROM \(table) ORDER BY updated_at'}")
        #expect(
            read.messages("done.out").first?["rows"]
                == [["id": "18446744073709551614"], ["id": "9223372036854775808"], ["id": "18446744073709551615"]])
        let second = try BigIntRows.run(driver: "postgres", url: url, ddl: ddl, request: BigIntRows.upsert(table))
        #expect(second.messages("done.out").first?["unchanged"] == 3)
    }
}

/// SQLite itself would round a big integer to a REAL in a BIGINT (numeric-affinity) column, merging
/// distinct ids: the upsert refuses it loudly instead, with no row data in the message.
@Suite struct SQLiteBigIntRefusalTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-big-\(UUID().uuidString).db").path

    @Test func aNumericColumnRefusesIntegersItWouldRound() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try FlowHarness(
            """
            flow: db
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              ddl: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
              db: {component: database, settings: {driver: sqlite, url: 'sqlite:\(path)'}}
              done: {component: modify}
              failed: {component: modify}
            edges:
              - {from: start.out, to: ddl.request, data: {query: 'CREATE TABLE big (id BIGINT PRIMARY KEY, amount, updated_at TEXT)'}}
              - from: ddl.response
                to: db.request
                data: |
                  <<\(BigIntRows.upsert("big"))>>
              - {from: db.response, to: done.in}
              - {from: db.error, to: failed.in}
            """)
        _ = h.run()
        #expect(h.messages("done.out").isEmpty)
        let error = try #require(h.messages("failed.out").first)["error"]
        #expect(error["code"] == "sqlite_20")
        #expect(
            error["message"]
                == "sqlite: column \"id\" (BIGINT) would round an integer beyond 64 bits to a float; declare it TEXT to store it exactly"
        )
        #expect(try SQLiteConnection(path: path).query("SELECT count(*) FROM big", []).rows == [[0]])
    }
}
