import FlowrunRuntime
import FlowrunValue
import Testing

@testable import FlowrunDatabase

/// The upsert's hot path after issue 19: identifiers checked in one byte pass and once per column set,
/// statement text built once per shape, parameters in one buffer. Each keeps the exact behaviour it replaced.
@Suite struct UpsertSpeedTests {
    /// The Character-splitting check it replaced, kept here as the reference.
    static func referenceIdentifier(_ name: String) throws(NodeError) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else {
            throw NodeError("invalid SQL identifier '\(name)'", code: "bad_request")
        }
        var quoted: [String] = []
        for part in parts {
            guard let first = part.utf8.first, !(first >= 48 && first <= 57),
                part.utf8.allSatisfy({
                    ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95
                })
            else {
                throw NodeError("invalid SQL identifier '\(name)' (letters, digits and _ only)", code: "bad_request")
            }
            quoted.append("\"\(part)\"")
        }
        return quoted.joined(separator: ".")
    }

    static func outcome(_ body: () throws(NodeError) -> String) -> String {
        do throws(NodeError) { return "ok " + (try body()) } catch { return "error \(error.code): \(error.message)" }
    }

    @Test(arguments: [
        "users", "public.users", "_a1", "A_b9", "a", "", "1a", "a.1b", "a.b.c", "a..b", ".a", "a.", ".", "..",
        "a-b", "a b", "é", "users.é", "a.\u{301}b", "x\"y", "a.b.c$", "$.a.b", "émile.x.y", "a\u{0}b", "ab.cd",
    ])
    func identifierMatchesTheReference(name: String) {
        #expect(
            Self.outcome { () throws(NodeError) in try SQL.identifier(name) }
                == Self.outcome { () throws(NodeError) in try Self.referenceIdentifier(name) })
    }

    /// A bad column name is still refused when it first appears in a later row's column set.
    @Test func badColumnInALaterColumnSetIsRefused() throws {
        let rows: [Value] = [
            ["id": 1, "name": "a"], ["id": 2, "name": "b"], ["id": 3, "bad-name": "c"],
        ]
        #expect(throws: NodeError.self) {
            _ = try UpsertPlan(table: "t", keys: ["id"], rows: rows, boolsAsInts: false)
        }
        let plan = try UpsertPlan(table: "t", keys: ["id"], rows: Array(rows.prefix(2)), boolsAsInts: false)
        #expect(plan.groups.count == 1)
        #expect(plan.groups[0].rows == [[.int(1), .string("a")], [.int(2), .string("b")]])
    }

    @Test func numberedTuplesText() {
        #expect(SQL.numberedTuples(rows: 2, width: 3) == "($1, $2, $3), ($4, $5, $6)")
        #expect(SQL.numberedTuples(rows: 1, width: 1) == "($1)")
        #expect(SQL.numberedTuples(rows: 0, width: 3) == "")
    }

    /// The statement text is exactly what the driver built per batch before it was cached per shape.
    @Test func upsertStatementText() {
        let sql = SQL.upsert(
            quotedTable: "\"s\".\"users\"", quotedKeys: ["\"external_id\""], keys: ["external_id"],
            columns: ["email", "external_id", "name"], rows: 2)
        #expect(
            sql
                == "INSERT INTO \"s\".\"users\" (\"email\", \"external_id\", \"name\") VALUES ($1, $2, $3), ($4, $5, $6)"
                + " ON CONFLICT (\"external_id\") DO UPDATE SET \"email\" = EXCLUDED.\"email\", \"name\" = EXCLUDED.\"name\""
                + " WHERE (\"s\".\"users\".\"email\", \"s\".\"users\".\"name\") IS DISTINCT FROM (EXCLUDED.\"email\","
                + " EXCLUDED.\"name\") RETURNING (xmax = 0) AS inserted")
        let keysOnly = SQL.upsert(
            quotedTable: "\"t\"", quotedKeys: ["\"a\"", "\"b\""], keys: ["a", "b"], columns: ["a", "b"], rows: 1)
        #expect(
            keysOnly
                == "INSERT INTO \"t\" (\"a\", \"b\") VALUES ($1, $2) ON CONFLICT (\"a\", \"b\") DO NOTHING RETURNING (xmax = 0) AS inserted"
        )
    }

    /// What libpq receives for each kind of value, read back through the pointers of the one buffer.
    @Test func parametersAsLibpqText() {
        let values: [Value] = [
            .null, true, false, 42, -7, 1.5, "", "héllo ✓", .bigInt("123456789012345678901234567890"),
            ["a": 1], [1, "x"], .null,
        ]
        let texts: [String?] = PostgresParameters(values).withPointers { pointers in
            (0..<values.count).map { i in pointers![i].map { String(cString: $0) } }
        }
        #expect(
            texts == [
                nil, "true", "false", "42", "-7", "1.5", "", "héllo ✓", "123456789012345678901234567890",
                "{\"a\":1}", "[1,\"x\"]", nil,
            ])
        let allNull: [Bool] = PostgresParameters([.null, .null]).withPointers { p in [p![0] == nil, p![1] == nil] }
        #expect(allNull == [true, true])
        #expect(PostgresParameters([]).withPointers { $0 == nil })
    }
}
