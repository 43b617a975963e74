import FlowrunRuntime
import FlowrunValue

/// SQL text built from validated identifiers; values are always bound, never spliced.
enum SQL {
    /// `name` or `schema.name`, each part `[A-Za-z_][A-Za-z0-9_]*`, quoted.
    static func identifier(_ name: String) throws(NodeError) -> String {
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

    /// A bound parameter: as `normalize`, except that PostgreSQL (`boolsAsInts` false) keeps arrays, which
    /// its driver sends as array literals where the statement casts them to an array type (`PostgresArrays`),
    /// else as JSON text. SQLite binds an array as its JSON text.
    static func parameter(_ v: Value, boolsAsInts: Bool) -> Value {
        if !boolsAsInts, case .array = v { return v }
        return normalize(v, boolsAsInts: boolsAsInts)
    }

    /// The value as it is bound and as the database hands it back: bools as 1/0 and integers beyond
    /// 64 bits as their exact text (SQLite, whose integers are 64-bit), arrays and objects as JSON text.
    /// (PostgreSQL gets a big integer as its decimal text too, typed by the column: exact in `numeric`.)
    static func normalize(_ v: Value, boolsAsInts: Bool) -> Value {
        switch v {
        case .bool(let b): return boolsAsInts ? .int(b ? 1 : 0) : v
        case .bigInt(let digits): return boolsAsInts ? .string(digits) : v
        case .array, .object: return .string(JSON.serialize(v))
        default: return v
        }
    }

    /// Whether a stored value equals the value about to be written (numbers compare numerically).
    static func same(_ stored: Value, _ new: Value) -> Bool { stored == new }

    /// Bound parameters per statement at most (PostgreSQL allows 65,535, SQLite 32,766).
    static let maxParameters = 30_000

    /// `rows` in slices whose values (`width` per row) fit in one statement.
    static func slices<Row>(_ rows: [Row], width: Int) -> [ArraySlice<Row>] {
        let size = max(1, maxParameters / max(1, width))
        return stride(from: 0, to: rows.count, by: size).map { rows[$0..<min(rows.count, $0 + size)] }
    }

    /// `($1, $2), ($3, $4)`: numbered placeholders (PostgreSQL) for `rows` tuples of `width` values.
    static func numberedTuples(rows: Int, width: Int) -> String {
        (0..<rows).map { r in
            "(" + (1...max(1, width)).map { "$\(r * width + $0)" }.joined(separator: ", ") + ")"
        }.joined(separator: ", ")
    }

    /// `(?, ?), (?, ?)`: placeholders (SQLite) for `rows` tuples of `width` values.
    static func tuples(rows: Int, width: Int) -> String {
        let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        return Array(repeating: tuple, count: rows).joined(separator: ", ")
    }

    /// The key columns of an upsert.
    static func keys(_ value: Value) throws(NodeError) -> [String] {
        switch value {
        case .string(let k): return [k]
        case .array(let ks):
            let names = ks.compactMap(\.stringValue)
            guard !names.isEmpty, names.count == ks.count else {
                throw NodeError("`key` must be a column name or a list of them", code: "bad_request")
            }
            return names
        default: throw NodeError("an upsert needs `key` (a column or a list of columns)", code: "bad_request")
        }
    }
}

/// Rows of an upsert, de-duplicated by key (the last one wins) and grouped by their column sets.
struct UpsertPlan {
    struct Group {
        let columns: [String]
        var rows: [[Value]]
    }

    let table: String
    let keys: [String]
    var groups: [Group] = []
    var total = 0

    init(table: String, keys: [String], rows: [Value], boolsAsInts: Bool) throws(NodeError) {
        self.table = table
        self.keys = keys
        var byKey: [[Value]: Int] = [:]
        var ordered: [Value.Object] = []
        for row in rows {
            guard case .object(let o) = row else { throw NodeError("upsert rows must be objects", code: "bad_request") }
            let key = keys.map { o[$0].map { SQL.normalize($0, boolsAsInts: boolsAsInts) } ?? .null }
            if key.contains(where: \.isNull) {
                throw NodeError(
                    "an upsert row has no value for its key \(keys.joined(separator: ", ")): \(JSON.serialize(row).prefix(200))",
                    code: "bad_request")
            }
            if let i = byKey[key] {
                ordered[i] = o
            } else {
                byKey[key] = ordered.count
                ordered.append(o)
            }
        }
        total = ordered.count
        var index: [[String]: Int] = [:]
        for o in ordered {
            let columns = Array(o.keys)
            for c in columns { _ = try SQL.identifier(c) }
            let values = columns.map { SQL.normalize(o[$0]!, boolsAsInts: boolsAsInts) }
            if let i = index[columns] {
                groups[i].rows.append(values)
            } else {
                index[columns] = groups.count
                groups.append(Group(columns: columns, rows: [values]))
            }
        }
    }
}
