import Dispatch
import Foundation
import FlowrunRuntime
import FlowrunValue

/// The embedded SQLite driver: one connection per database file, used from its own serial queue
/// (never Swift's cooperative pool).
final class SQLiteDriver: @unchecked Sendable {
    let path: String
    private let queue: DispatchQueue
    private var connection: SQLiteConnection?

    init(path: String) {
        self.path = path
        queue = DispatchQueue(label: "flowrun-sqlite-\(path)")
    }

    func perform(
        _ request: DatabaseRequest, dryRun: Bool, done: @escaping @Sendable (Result<DatabaseResult, NodeError>) -> Void
    ) {
        queue.async {
            do throws(NodeError) {
                done(.success(try self.run(request, dryRun: dryRun)))
            } catch {
                done(.failure(error))
            }
        }
    }

    private func open() throws(NodeError) -> SQLiteConnection {
        if let connection { return connection }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        do {
            let c = try SQLiteConnection(path: path)
            connection = c
            return c
        } catch {
            throw NodeError(
                "cannot open SQLite database \(path): \(error.description)", code: "connect", retryable: true)
        }
    }

    static func failure(_ error: SQLiteConnection.SQLiteError) -> NodeError {
        NodeError("sqlite: \(error.description)", code: "sqlite_\(error.code & 0xFF)", retryable: error.isBusy)
    }

    func run(_ request: DatabaseRequest, dryRun: Bool) throws(NodeError) -> DatabaseResult {
        let db = try open()
        do {
            switch request.operation {
            case .query:
                let (columns, rows) = try db.query(request.query, request.parameters)
                return DatabaseResult(rows: rows.map { row in .object(.init(uniqueKeysWithValues: zip(columns, row))) })
            case .execute:
                if dryRun { return DatabaseResult(dryRun: true) }
                if request.transaction { try db.exec("BEGIN IMMEDIATE") }
                if request.parameters.isEmpty {
                    try db.exec(request.query)  // may hold several statements (a schema)
                } else {
                    _ = try db.query(request.query, request.parameters)
                }
                let affected = db.changes
                if request.transaction { try db.exec("COMMIT") }
                return DatabaseResult(rowsAffected: affected)
            case .batch:
                if dryRun { return DatabaseResult(dryRun: true) }
                try db.exec("BEGIN IMMEDIATE")
                var affected = 0
                for parameters in request.batch {
                    _ = try db.query(request.query, parameters)
                    affected += db.changes
                }
                try db.exec("COMMIT")
                return DatabaseResult(rowsAffected: affected)
            case .upsert:
                return try upsert(db, request, dryRun: dryRun)
            }
        } catch {
            try? db.exec("ROLLBACK")
            throw Self.failure(error)
        }
    }

    /// SQLite turns an integer literal beyond 64 bits (a big id, bound as its exact text) into a rounded
    /// REAL in a column of INTEGER, REAL or NUMERIC affinity, so distinct ids would merge into one row:
    /// such a write fails instead. TEXT and untyped columns store the digits exactly. The table's
    /// declared types are read only when a row holds such a value.
    static func refuseRoundedIntegers(_ db: SQLiteConnection, table: String, _ group: UpsertPlan.Group)
        throws(SQLiteConnection.SQLiteError)
    {
        func isBig(_ v: Value) -> Bool {
            guard case .string(let s) = v, s.utf8.count > 18, let first = s.utf8.first,
                first == UInt8(ascii: "-") || (first >= 48 && first <= 57)
            else { return false }
            if case .bigInt = Value.integer(s) { return true }
            return false
        }
        let suspects = group.columns.indices.filter { c in group.rows.contains { isBig($0[c]) } }
        guard !suspects.isEmpty else { return }
        let parts = table.split(separator: ".").map(String.init)
        let info =
            parts.count == 2
            ? try db.query("SELECT name, type FROM pragma_table_info(?, ?)", [.string(parts[1]), .string(parts[0])])
            : try db.query("SELECT name, type FROM pragma_table_info(?)", [.string(table)])
        var declared: [String: String] = [:]
        for row in info.rows { declared[row[0].stringValue ?? ""] = (row[1].stringValue ?? "").uppercased() }
        for c in suspects {
            let type = declared[group.columns[c]] ?? ""
            let textual =
                type.isEmpty || type.contains("BLOB")
                || (!type.contains("INT") && (type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT")))
            guard !textual else { continue }
            throw SQLiteConnection.SQLiteError(
                description:
                    "column \"\(group.columns[c])\" (\(type)) would round an integer beyond 64 bits to a float; declare it TEXT to store it exactly",
                code: 20)  // SQLITE_MISMATCH
        }
    }

    /// Compares the rows with what the table holds, then writes only new and changed rows in one
    /// transaction with `INSERT ... ON CONFLICT DO UPDATE`; reports created, updated and unchanged.
    func upsert(_ db: SQLiteConnection, _ request: DatabaseRequest, dryRun: Bool) throws(SQLiteConnection.SQLiteError)
        -> DatabaseResult
    {
        let plan = request.upsert!
        let table = plan.quotedTable, keys = plan.quotedKeys
        var result = DatabaseResult()
        if !dryRun { try db.exec("BEGIN IMMEDIATE") }
        for group in plan.plan.groups {
            try Self.refuseRoundedIntegers(db, table: plan.plan.table, group)
            let columns = group.columns.map { "\"\($0)\"" }
            let keyIndexes = plan.plan.keys.map { group.columns.firstIndex(of: $0)! }
            // Current rows, in slices that stay under SQLite's parameter limit.
            var existing: [[Value]: [Value]] = [:]
            for slice in SQL.slices(group.rows, width: keys.count) {
                let sql =
                    "SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE (\(keys.joined(separator: ", "))) IN (VALUES "
                    + SQL.tuples(rows: slice.count, width: keys.count) + ")"
                let params = slice.flatMap { row in keyIndexes.map { row[$0] } }
                for row in try db.query(sql, params).rows { existing[keyIndexes.map { row[$0] }] = row }
            }
            var writes: [[Value]] = []
            for row in group.rows {
                let keyValues = keyIndexes.map { row[$0] }
                let key = keyValues.count == 1 ? keyValues[0] : .array(keyValues)
                if let current = existing[keyValues] {
                    let changed = group.columns.indices.filter { !SQL.same(current[$0], row[$0]) }
                    if changed.isEmpty {
                        result.note(.unchanged, key: key, columns: [])
                    } else {
                        result.note(.update, key: key, columns: dryRun ? changed.map { group.columns[$0] } : [])
                        writes.append(row)
                    }
                } else {
                    result.note(.insert, key: key, columns: [])
                    writes.append(row)
                }
            }
            if dryRun || writes.isEmpty { continue }
            let nonKeys = columns.enumerated().filter { !keyIndexes.contains($0.offset) }.map(\.element)
            let update =
                nonKeys.isEmpty
                ? "DO NOTHING" : "DO UPDATE SET " + nonKeys.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            for slice in SQL.slices(writes, width: columns.count) {
                let sql =
                    "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                    + SQL.tuples(rows: slice.count, width: columns.count)
                    + " ON CONFLICT (\(keys.joined(separator: ", "))) \(update)"
                _ = try db.query(sql, SQL.flatten(slice))
            }
        }
        if !dryRun { try db.exec("COMMIT") }
        result.rowsAffected = dryRun ? 0 : result.created + result.updated
        result.dryRun = dryRun
        if !dryRun { result.changes = [] }
        return result
    }
}
