import CSQLite
import FlowrunValue

/// One SQLite connection (WAL mode, 5 s busy timeout) with bound parameters. Not thread-safe: its
/// owner serialises access. Used by the state store and by the database component's SQLite driver.
public final class SQLiteConnection: @unchecked Sendable {
    public struct SQLiteError: Error, CustomStringConvertible, Sendable {
        public let description: String
        /// The SQLite result code (SQLITE_BUSY, SQLITE_CONSTRAINT, ...).
        public let code: Int32
        public init(description: String, code: Int32) {
            self.description = description
            self.code = code
        }
        public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
        public var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }
    }

    private var db: OpaquePointer?

    public init(path: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SQLiteError(description: message, code: SQLITE_CANTOPEN)
        }
        db = handle
        sqlite3_busy_timeout(handle, 5000)
        sqlite3_extended_result_codes(handle, 1)
        try exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
    }

    deinit { sqlite3_close(db) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(db)) }

    /// Runs one or more statements without parameters.
    public func exec(_ sql: String) throws(SQLiteError) {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        guard rc == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            if sqlite3_get_autocommit(db) == 0 { _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
            throw SQLiteError(description: message, code: rc)
        }
    }

    /// Runs one statement with bound parameters and returns its column names and rows.
    public func query(_ sql: String, _ parameters: [Value]) throws(SQLiteError) -> (columns: [String], rows: [[Value]])
    {
        var stmt: OpaquePointer?
        let prc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard prc == SQLITE_OK else { throw SQLiteError(description: String(cString: sqlite3_errmsg(db)), code: prc) }
        defer { sqlite3_finalize(stmt) }
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard expected == parameters.count else {
            throw SQLiteError(
                description: "the statement takes \(expected) parameters, got \(parameters.count)", code: SQLITE_RANGE)
        }
        for (i, p) in parameters.enumerated() {
            let index = Int32(i + 1)
            switch p {
            case .null: sqlite3_bind_null(stmt, index)
            case .int(let v): sqlite3_bind_int64(stmt, index, Int64(v))
            case .double(let v): sqlite3_bind_double(stmt, index, v)
            case .bool(let v): sqlite3_bind_int64(stmt, index, v ? 1 : 0)
            case .string(let s): flowrun_sqlite3_bind_text(stmt, index, s, Int32(s.utf8.count))
            default:
                let s = JSON.serialize(p)
                flowrun_sqlite3_bind_text(stmt, index, s, Int32(s.utf8.count))
            }
        }
        let count = sqlite3_column_count(stmt)
        let columns = (0..<count).map { String(cString: sqlite3_column_name(stmt, $0)) }
        var rows: [[Value]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return (columns, rows) }
            guard rc == SQLITE_ROW else {
                throw SQLiteError(description: String(cString: sqlite3_errmsg(db)), code: rc)
            }
            var row: [Value] = []
            row.reserveCapacity(Int(count))
            for c in 0..<count {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.int(Int(sqlite3_column_int64(stmt, c))))
                case SQLITE_FLOAT: row.append(.double(sqlite3_column_double(stmt, c)))
                case SQLITE_NULL: row.append(.null)
                default:
                    // By length, not up to the first NUL: text holding NUL bytes reads back whole.
                    let bytes = sqlite3_column_text(stmt, c)
                    let length = Int(sqlite3_column_bytes(stmt, c))
                    let text =
                        bytes.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
                        ?? ""
                    row.append(.string(text))
                }
            }
            rows.append(row)
        }
    }
}
