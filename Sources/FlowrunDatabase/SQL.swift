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

    /// The value as it is bound and as the database hands it back: bools as 1/0 (SQLite), arrays and
    /// objects as JSON text.
    static func normalize(_ v: Value, boolsAsInts: Bool) -> Value {
        switch v {
        case .bool(let b): return boolsAsInts ? .int(b ? 1 : 0) : v
        case .array, .object: return .string(JSON.serialize(v))
        default: return v
        }
    }

    /// Whether a stored value equals the value about to be written (numbers compare numerically).
    static func same(_ stored: Value, _ new: Value) -> Bool { stored == new }

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
