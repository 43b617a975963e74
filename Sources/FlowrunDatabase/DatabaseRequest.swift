import FlowrunRuntime
import FlowrunValue

/// A database request message, validated: the operation, its SQL or upsert plan, and parameters.
struct DatabaseRequest: Sendable {
    enum Operation: String, Sendable { case query, execute, batch, upsert }

    struct Upsert: Sendable {
        let plan: UpsertPlan
        let quotedTable: String
        let quotedKeys: [String]
    }

    let operation: Operation
    var query = ""
    var parameters: [Value] = []
    var batch: [[Value]] = []
    var upsert: Upsert?
    var transaction = false

    init(_ message: Value, boolsAsInts: Bool) throws(NodeError) {
        let explicit = message["operation"].stringValue
        if let explicit, Operation(rawValue: explicit) == nil {
            throw NodeError("unknown operation '\(explicit)' (query, execute, batch or upsert)", code: "bad_request")
        }
        let sql = message["query"].stringValue ?? ""
        let first = sql.trimmingSpaces().prefix(6).uppercased()
        operation =
            explicit.flatMap(Operation.init(rawValue:))
            ?? (!message["rows"].isNull
                ? .upsert
                : (first.hasPrefix("SELECT") || first.hasPrefix("WITH") || first.hasPrefix("PRAGMA"))
                    ? .query : .execute)
        transaction = message["transaction"].isTruthy
        switch operation {
        case .query, .execute:
            guard !sql.isEmpty else { throw NodeError("a \(operation.rawValue) needs `query`", code: "bad_request") }
            query = sql
            switch message["parameters"] {
            case .null: break
            case .array(let ps): parameters = ps.map { SQL.parameter($0, boolsAsInts: boolsAsInts) }
            default: throw NodeError("`parameters` must be a list", code: "bad_request")
            }
        case .batch:
            guard !sql.isEmpty else { throw NodeError("a batch needs `query`", code: "bad_request") }
            query = sql
            guard case .array(let sets) = message["parameters"] else {
                throw NodeError("a batch needs `parameters`: a list of parameter lists", code: "bad_request")
            }
            for set in sets {
                guard case .array(let ps) = set else {
                    throw NodeError("each batch entry must be a list of parameters", code: "bad_request")
                }
                batch.append(ps.map { SQL.parameter($0, boolsAsInts: boolsAsInts) })
            }
        case .upsert:
            guard case .string(let table) = message["table"] else {
                throw NodeError("an upsert needs `table`", code: "bad_request")
            }
            guard case .array(let rows) = message["rows"] else {
                throw NodeError("an upsert needs `rows`: a list of objects", code: "bad_request")
            }
            let keys = try SQL.keys(message["key"])
            let plan = try UpsertPlan(table: table, keys: keys, rows: rows, boolsAsInts: boolsAsInts)
            for group in plan.groups {
                for k in keys where !group.columns.contains(k) {
                    throw NodeError("upsert rows lack the key column '\(k)'", code: "bad_request")
                }
            }
            upsert = Upsert(
                plan: plan, quotedTable: try SQL.identifier(table), quotedKeys: try keys.map(SQL.identifier))
        }
    }
}

/// What a database request produced.
struct DatabaseResult: Sendable {
    var rows: [Value] = []
    var rowsAffected = 0
    var created = 0
    var updated = 0
    var unchanged = 0
    var dryRun = false
    /// Dry runs: how many rows would change each column, and the first `maxChanges` row decisions.
    var changedColumns: [String: Int] = [:]
    var changes: [Value] = []
    static let maxChanges = 100

    enum Action: String { case insert, update, unchanged }

    mutating func note(_ action: Action, key: Value, columns: [String]) {
        switch action {
        case .insert: created += 1
        case .update: updated += 1
        case .unchanged: unchanged += 1
        }
        for c in columns { changedColumns[c, default: 0] += 1 }
        if action != .unchanged, changes.count < Self.maxChanges {
            var change: Value.Object = ["action": .string(action.rawValue), "key": key]
            if action == .update { change["columns"] = .array(columns.map { .string($0) }) }
            changes.append(.object(change))
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
