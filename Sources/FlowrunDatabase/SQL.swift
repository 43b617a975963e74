import FlowrunRuntime
import FlowrunValue

/// SQL text built from validated identifiers; values are always bound, never spliced.
enum SQL {
    /// `name` or `schema.name`, each part `[A-Za-z_][A-Za-z0-9_]*`, quoted. One pass over the UTF-8 bytes
    /// (an upsert validates each column set once, see `UpsertPlan`).
    static func identifier(_ name: String) throws(NodeError) -> String {
        var dot: String.Index?
        for i in name.utf8.indices where name.utf8[i] == UInt8(ascii: ".") {
            guard dot == nil else { throw NodeError("invalid SQL identifier '\(name)'", code: "bad_request") }
            dot = i
        }
        var valid = true
        var partStart = true
        for b in name.utf8 {
            if b == UInt8(ascii: ".") {
                if partStart {
                    valid = false
                    break
                }
                partStart = true
                continue
            }
            let letter = (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95
            guard letter || (!partStart && b >= 48 && b <= 57) else {
                valid = false
                break
            }
            partStart = false
        }
        guard valid, !partStart else {
            throw NodeError("invalid SQL identifier '\(name)' (letters, digits and _ only)", code: "bad_request")
        }
        guard let dot else { return "\"\(name)\"" }
        return "\"\(name[..<dot])\".\"\(name[name.utf8.index(after: dot)...])\""
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

    /// Whether `normalize` changes `v`.
    static func needsNormalizing(_ v: Value, boolsAsInts: Bool) -> Bool {
        switch v {
        case .bool, .bigInt: boolsAsInts
        case .array, .object: true
        default: false
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
        var text = ""
        text.reserveCapacity(rows * max(1, width) * 7)
        for r in 0..<rows {
            text += r == 0 ? "(" : ", ("
            for c in 0..<max(1, width) {
                text += c == 0 ? "$" : ", $"
                text += String(r * width + c + 1)
            }
            text += ")"
        }
        return text
    }

    /// `INSERT ... ON CONFLICT (keys) DO UPDATE SET ... WHERE (stored) IS DISTINCT FROM (new) RETURNING
    /// (xmax = 0)` for `rows` rows of `columns` (validated names): rows it does not return were unchanged.
    static func upsert(quotedTable: String, quotedKeys: [String], keys: [String], columns: [String], rows: Int)
        -> String
    {
        let quoted = columns.map { "\"\($0)\"" }
        let nonKeys = zip(columns, quoted).filter { !keys.contains($0.0) }.map(\.1)
        let conflict =
            nonKeys.isEmpty
            ? "DO NOTHING"
            : "DO UPDATE SET " + nonKeys.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                + " WHERE (" + nonKeys.map { "\(quotedTable).\($0)" }.joined(separator: ", ")
                + ") IS DISTINCT FROM ("
                + nonKeys.map { "EXCLUDED.\($0)" }.joined(separator: ", ") + ")"
        return "INSERT INTO \(quotedTable) (\(quoted.joined(separator: ", "))) VALUES "
            + numberedTuples(rows: rows, width: columns.count)
            + " ON CONFLICT (\(quotedKeys.joined(separator: ", "))) "
            + conflict + " RETURNING (xmax = 0) AS inserted"
    }

    /// The rows' values one after another, for one statement's parameters. (`Array(rows.joined())` went
    /// through a generic flattening sequence: 730 instructions a row of the user sync.)
    static func flatten(_ rows: ArraySlice<[Value]>) -> [Value] {
        var values: [Value] = []
        values.reserveCapacity(rows.reduce(0) { $0 + $1.count })
        for row in rows { values.append(contentsOf: row) }
        return values
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

    /// `bucket` maps a key's hash to the one used (tests pass a constant to force collisions).
    init(
        table: String, keys: [String], rows: [Value], boolsAsInts: Bool, bucket: (Int) -> Int = { $0 }
    ) throws(NodeError) {
        self.table = table
        self.keys = keys
        // Rows by their key's hash, checked against the row found: Swift's Dictionary keeps no hashes
        // and compares keys at every probe, which for `[Value]` keys cost about 2,000 instructions a row
        // (a tenth of the sync's upsert side). A different key with the same hash (rare) goes to `collided`.
        var byHash: [Int: Int] = [:]
        var collided: [[Value]: Int] = [:]
        var ordered: [Value.Object] = []
        byHash.reserveCapacity(rows.count)
        ordered.reserveCapacity(rows.count)
        func key(_ o: Value.Object, _ name: String) -> Value {
            o[name].map { SQL.normalize($0, boolsAsInts: boolsAsInts) } ?? .null
        }
        for row in rows {
            guard case .object(let o) = row else { throw NodeError("upsert rows must be objects", code: "bad_request") }
            var hasher = Hasher()
            for name in keys {
                let k = key(o, name)
                if k.isNull {
                    throw NodeError(
                        "an upsert row has no value for its key \(keys.joined(separator: ", ")): \(JSON.serialize(row).prefix(200))",
                        code: "bad_request")
                }
                k.hash(into: &hasher)
            }
            let hash = bucket(hasher.finalize())
            guard let i = byHash[hash] else {
                byHash[hash] = ordered.count
                ordered.append(o)
                continue
            }
            if keys.allSatisfy({ key(ordered[i], $0) == key(o, $0) }) {
                ordered[i] = o
            } else {
                let values = keys.map { key(o, $0) }
                if let j = collided[values] {
                    ordered[j] = o
                } else {
                    collided[values] = ordered.count
                    ordered.append(o)
                }
            }
        }
        total = ordered.count
        var index: [[String]: Int] = [:]
        var last: Int?  // the group of the row before: rows in a batch usually share their columns
        for o in ordered {
            // The object's own storage (no copies): objects built by one expression share their key array.
            let columns = o.keys.elements
            var values = o.values.elements
            if values.contains(where: { SQL.needsNormalizing($0, boolsAsInts: boolsAsInts) }) {
                values = values.map { SQL.normalize($0, boolsAsInts: boolsAsInts) }
            }
            if let i = last, groups[i].columns == columns {
                groups[i].rows.append(values)
            } else if let i = index[columns] {
                last = i
                groups[i].rows.append(values)
            } else {
                // Each distinct column set is validated once, not once per row.
                for c in columns { _ = try SQL.identifier(c) }
                index[columns] = groups.count
                last = groups.count
                groups.append(Group(columns: columns, rows: [values]))
            }
        }
    }
}
