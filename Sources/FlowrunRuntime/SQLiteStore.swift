import CSQLite
import FlowrunValue

/// The embedded default state store: one SQLite file (WAL mode, busy timeout) holding flow state,
/// checkpoints, dead letters and run records. The schema is versioned with `PRAGMA user_version`
/// and migrated forward on open.
public final class SQLiteStore: StateStore, @unchecked Sendable {
    public struct StoreError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Migrations, in order; entry `i` moves the schema from version `i` to `i + 1`.
    static let migrations: [String] = [
        """
        CREATE TABLE state (flow TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
                            PRIMARY KEY (flow, key));
        CREATE TABLE runs (id TEXT PRIMARY KEY, flow TEXT NOT NULL, trigger TEXT NOT NULL, status TEXT NOT NULL,
                           reason TEXT, started_at INTEGER NOT NULL, completed_at INTEGER,
                           processed INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,
                           updated INTEGER NOT NULL DEFAULT 0, unchanged INTEGER NOT NULL DEFAULT 0,
                           skipped INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
                           messages INTEGER NOT NULL DEFAULT 0, dry_run INTEGER NOT NULL DEFAULT 0,
                           parent_id TEXT, attempt INTEGER NOT NULL DEFAULT 1, errors TEXT NOT NULL DEFAULT '[]');
        CREATE INDEX runs_by_flow ON runs (flow, started_at);
        """
    ]

    public static var currentVersion: Int { migrations.count }

    private var db: OpaquePointer?
    private let lock = NSLockLite()
    public let path: String

    public init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw StoreError(description: "cannot open state store \(path): \(message)")
        }
        db = handle
        sqlite3_busy_timeout(handle, 5000)
        try exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        try migrate()
    }

    deinit { sqlite3_close(db) }

    func migrate() throws {
        let version = try queryInt("PRAGMA user_version") ?? 0
        if version > Self.currentVersion {
            throw StoreError(
                description:
                    "state store \(path) has schema version \(version), newer than this flowrun (\(Self.currentVersion))"
            )
        }
        for v in version..<Self.currentVersion {
            try exec("BEGIN; \(Self.migrations[v]) PRAGMA user_version = \(v + 1); COMMIT;")
        }
    }

    public var schemaVersion: Int { (try? queryInt("PRAGMA user_version")) ?? 0 }

    // MARK: StateStore

    public func get(flow: String, key: String) throws -> Value? {
        try lock.withLock {
            let rows = try query("SELECT value FROM state WHERE flow = ? AND key = ?", [.string(flow), .string(key)])
            guard let text = rows.first?.first?.stringValue else { return nil }
            return try JSON.parse(text)
        }
    }

    public func set(flow: String, key: String, value: Value) throws {
        try lock.withLock {
            _ = try query(
                "INSERT INTO state (flow, key, value, updated_at) VALUES (?, ?, ?, strftime('%s','now')) "
                    + "ON CONFLICT (flow, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [.string(flow), .string(key), .string(JSON.serialize(value))])
        }
    }

    public func save(_ r: RunRecord) throws {
        let errors = Value.array(
            r.errors.map { e in
                [
                    "node": .string(e.node), "port": .string(e.port),
                    "location": e.location.map { .string($0) } ?? .null,
                    "message": .string(e.message), "input": .string(e.input),
                ]
            })
        try lock.withLock {
            _ = try query(
                """
                INSERT OR REPLACE INTO runs (id, flow, trigger, status, reason, started_at, completed_at, processed,
                    created, updated, unchanged, skipped, failed, messages, dry_run, parent_id, attempt, errors)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .string(r.id), .string(r.flow), .string(r.trigger.rawValue), .string(r.status.rawValue),
                    r.reason.map { .string($0) } ?? .null, .int(r.startedAt), r.completedAt.map { .int($0) } ?? .null,
                    .int(r[.processed]), .int(r[.created]), .int(r[.updated]), .int(r[.unchanged]), .int(r[.skipped]),
                    .int(r[.failed]), .int(r.messages), .int(r.dryRun ? 1 : 0), r.parentID.map { .string($0) } ?? .null,
                    .int(r.attempt), .string(JSON.serialize(errors)),
                ])
        }
    }

    static let runColumns = """
        id, flow, trigger, status, reason, started_at, completed_at, processed, created, updated, unchanged, skipped,
        failed, messages, dry_run, parent_id, attempt, errors
        """

    public func runs(flow: String?, limit: Int) throws -> [RunRecord] {
        try lock.withLock {
            let rows =
                flow == nil
                ? try query("SELECT \(Self.runColumns) FROM runs ORDER BY started_at DESC LIMIT ?", [.int(limit)])
                : try query(
                    "SELECT \(Self.runColumns) FROM runs WHERE flow = ? ORDER BY started_at DESC LIMIT ?",
                    [.string(flow!), .int(limit)])
            return rows.map(Self.record)
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try lock.withLock {
            try query("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [.string(id)]).first.map(Self.record)
        }
    }

    static func record(_ row: [Value]) -> RunRecord {
        var r = RunRecord(
            id: row[0].stringValue ?? "", flow: row[1].stringValue ?? "",
            trigger: RunRecord.Trigger(rawValue: row[2].stringValue ?? "") ?? .manual,
            startedAt: row[5].intValue ?? 0)
        r.status = RunRecord.Status(rawValue: row[3].stringValue ?? "") ?? .failed
        r.reason = row[4].stringValue
        r.completedAt = row[6].intValue
        for (i, c) in [Counter.processed, .created, .updated, .unchanged, .skipped, .failed].enumerated() {
            r.counters[c] = row[7 + i].intValue ?? 0
        }
        r.messages = row[13].intValue ?? 0
        r.dryRun = row[14].intValue == 1
        r.parentID = row[15].stringValue
        r.attempt = row[16].intValue ?? 1
        if let text = row[17].stringValue, case .array(let items) = (try? JSON.parse(text)) ?? .null {
            r.errors = items.map { e in
                RunRecord.ErrorEntry(
                    node: e["node"].stringValue ?? "", port: e["port"].stringValue ?? "",
                    location: e["location"].stringValue, message: e["message"].stringValue ?? "",
                    input: e["input"].stringValue ?? "")
            }
        }
        return r
    }

    // MARK: SQLite plumbing

    func exec(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            _ = sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            throw StoreError(description: "state store \(path): \(message)")
        }
    }

    func queryInt(_ sql: String) throws -> Int? { try query(sql, []).first?.first?.intValue }

    /// Runs one statement with bound parameters and returns its rows.
    func query(_ sql: String, _ parameters: [Value]) throws -> [[Value]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw StoreError(description: "state store: \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(stmt) }
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
        var rows: [[Value]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else {
                throw StoreError(description: "state store: \(String(cString: sqlite3_errmsg(db)))")
            }
            var row: [Value] = []
            for c in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.int(Int(sqlite3_column_int64(stmt, c))))
                case SQLITE_FLOAT: row.append(.double(sqlite3_column_double(stmt, c)))
                case SQLITE_NULL: row.append(.null)
                default:
                    let text = sqlite3_column_text(stmt, c).map { String(cString: $0) } ?? ""
                    row.append(.string(text))
                }
            }
            rows.append(row)
        }
    }
}
