import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunDatabase

/// JSON arrays bound to parameters the statement casts to an array type (`$1::text[]`).
@Suite struct ArrayLiteralTests {
    @Test(arguments: [
        ("SELECT $1::text[]", 1, true), ("SELECT $1 :: bigint [ ]", 1, true), ("SELECT $10::text[]", 1, false),
        ("SELECT $1::jsonb", 1, false), ("SELECT $1", 1, false), ("SELECT CAST($2 AS varchar(20)[])", 2, true),
        ("SELECT unnest($1::timestamp with time zone[])", 1, true), ("SELECT $2::public.\"my type\"[]", 2, true),
        ("SELECT $1::text, $2::int[]", 1, false), ("SELECT $1::text, $2::int[]", 2, true),
        ("SELECT $1::double precision[]", 1, true), ("SELECT ($1::text)[1]", 1, false),
    ])
    func castsAreFound(sql: String, parameter: Int, expected: Bool) {
        #expect(PostgresArrays.castsToArray(sql, parameter: parameter) == expected, "\(sql)")
    }

    @Test func literalsQuoteEveryElementAndKeepNULLs() {
        let items: [Value] = ["a", nil, "say \"hi\"", "back\\slash", "a,b", "{x}", "NULL", "ünï", 7, true, ["k": 1]]
        #expect(
            PostgresArrays.literal(items, parameter: 0, sql: "SELECT $1::text[]")
                == #"{"a",NULL,"say \"hi\"","back\\slash","a,b","{x}","NULL","ünï","7","true","{\"k\":1}"}"#)
        #expect(
            PostgresArrays.literal([[1, 2], [3, nil]], parameter: 0, sql: "SELECT $1::int[]")
                == #"{{"1","2"},{"3",NULL}}"#)
        #expect(PostgresArrays.literal([], parameter: 0, sql: "SELECT $1::int[]") == "{}")
        #expect(PostgresArrays.literal(["a"], parameter: 0, sql: "SELECT $1::jsonb") == nil)
    }
}

/// The same on a real PostgreSQL server, including seed 001's batch insert through `unnest`.
@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct PostgresArrayParameterTests {
    func run(_ request: String) throws -> (FlowHarness, RunRecord) {
        let h = try FlowHarness(
            """
            flow: pg-arrays
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              db: {component: database, settings: {url: '\(postgresURL!)'}}
              failed: {component: modify}
            edges:
              - {from: start.out, to: db.request, data: \(request)}
              - {from: db.error, to: failed.in}
            """)
        return (h, h.run())
    }

    @Test func textArraysRoundTripEveryAwkwardCharacter() throws {
        let (h, record) = try run(
            #"{query: 'SELECT x, x IS NULL AS n FROM unnest($1::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i', parameters: [['plain', null, 'say "hi"', 'back\slash', 'a,b', '{braces}', 'NULL', 'ünïcødé ✓', '', ' padded ']]}"#
        )
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        let rows = h.messages("db.response").first?["rows"].arrayValue ?? []
        #expect(
            rows.map { $0["x"] }
                == ["plain", nil, "say \"hi\"", "back\\slash", "a,b", "{braces}", "NULL", "ünïcødé ✓", "", " padded "])
        #expect(rows[1]["n"] == true)
    }

    @Test func bigintAndNestedArrays() throws {
        let (h, record) = try run(
            "{query: 'SELECT (SELECT sum(v) FROM unnest($1::bigint[]) v) AS total, $2::int[] AS grid, cardinality($1::bigint[]) AS n', parameters: [[1, 9007199254740993, null, -4], [[1, 2], [3, 4]]]}"
        )
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        let row = h.messages("db.response").first?["rows"][0] ?? nil
        #expect(row["total"] == 9_007_199_254_740_990)
        #expect(row["grid"] == "{{1,2},{3,4}}")
        #expect(row["n"] == 4)
    }

    @Test func anArrayNotCastToAnArrayIsStillJSON() throws {
        let (h, record) = try run("{query: 'SELECT $1::jsonb AS j', parameters: [[1, 'a', null]]}")
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        #expect(h.messages("db.response").first?["rows"][0]["j"] == [1, "a", nil])
    }

    @Test func aNULByteInAnArrayElementIsAnErrorNotACut() throws {
        let (h, _) = try run(#"{query: 'SELECT unnest($1::text[])', parameters: [["a\u0000b"]]}"#)
        #expect(h.messages("db.response").isEmpty)
        #expect(h.messages("failed.out").first?["error"]["code"] == "pg_22021")
    }

    /// Seed 001's batch insert, as written: text, jsonb and timestamptz columns through `unnest`.
    @Test func seedBatchInsertThroughUnnest() throws {
        let table = "arr_" + UUID().uuidString.prefix(8).lowercased()
        _ = try PostgresTesting.query(
            postgresURL!,
            "CREATE TABLE \(table) (external_id TEXT PRIMARY KEY, email TEXT, name TEXT, status TEXT, metadata JSONB, updated_at TIMESTAMPTZ)"
        )
        let insert = """
            INSERT INTO \(table) (external_id, email, name, status, metadata, updated_at)
            SELECT * FROM unnest(
                $1::text[],
                $2::text[],
                $3::text[],
                $4::text[],
                $5::jsonb[],
                $6::timestamptz[]
            )
            ON CONFLICT (external_id) DO UPDATE SET email = EXCLUDED.email
            """
        let (h, record) = try run(
            """
            {query: '\(insert.replacingOccurrences(of: "\n", with: " "))', parameters: [[u1, u2], [a@x, b@x], ['A, "one"', null], [active, inactive], [{source: crm, tags: [x]}, null], ['2024-03-01T00:40:00.123456Z', '2024-03-02T00:00:00Z']]}
            """)
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        #expect(h.messages("db.response").first?["rowsAffected"] == 2, "\(record.errors)")
        let rows = try PostgresTesting.query(
            postgresURL!,
            "SELECT external_id, name, metadata, updated_at = '2024-03-01T00:40:00.123456Z' FROM \(table) ORDER BY 1")
        #expect(rows[0] == ["u1", "A, \"one\"", ["source": "crm", "tags": ["x"]], true])
        #expect(rows[1][1] == nil)
        #expect(rows[1][2] == nil)
        _ = try PostgresTesting.query(postgresURL!, "DROP TABLE \(table)")
    }
}
