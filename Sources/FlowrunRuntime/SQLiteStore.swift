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
        """,
        // Version 2: HTTP requests per run.
        "ALTER TABLE runs ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;",
        // Version 3: dry-run diagnostics and the process that runs it (abandoned runs).
        "ALTER TABLE runs ADD COLUMN diagnostics TEXT NOT NULL DEFAULT '{}'; ALTER TABLE runs ADD COLUMN owner TEXT;",
        // Version 4: the console's pages of the history (newest first, by status) read an index, not the table.
        "CREATE INDEX runs_by_start ON runs (started_at, id); CREATE INDEX runs_by_status ON runs (status, started_at);",
        // Version 5: external references (outbound and bidirectional sync).
        """
        CREATE TABLE IF NOT EXISTS refs (namespace TEXT NOT NULL, local_id TEXT NOT NULL, remote_id TEXT NOT NULL,
                           remote_version TEXT, local_version TEXT, hash TEXT, updated_at INTEGER NOT NULL,
                           PRIMARY KEY (namespace, local_id));
        CREATE INDEX IF NOT EXISTS refs_by_remote ON refs (namespace, remote_id);
        """,
    ]

    public static var currentVersion: Int { migrations.count }

    private let connection: SQLiteConnection
    private let lock = NSLockLite()
    public let path: String

    public init(path: String) throws {
        self.path = path
        do { connection = try SQLiteConnection(path: path) } catch {
            throw StoreError(description: "cannot open state store \(path): \(error.description)")
        }
        try migrate()
    }

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

    public func delete(flow: String, key: String) throws {
        try lock.withLock {
            _ = try query("DELETE FROM state WHERE flow = ? AND key = ?", [.string(flow), .string(key)])
        }
    }

    /// One statement per case, so the comparison and the write are atomic across processes sharing the file.
    public func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        try lock.withLock {
            let names: [Value] = [.string(flow), .string(key)]
            switch (expected, new) {
            case (nil, nil):
                return try query("SELECT 1 FROM state WHERE flow = ? AND key = ?", names).isEmpty
            case (nil, let new?):
                _ = try query(
                    "INSERT INTO state (flow, key, value, updated_at) VALUES (?, ?, ?, strftime('%s','now')) "
                        + "ON CONFLICT (flow, key) DO NOTHING",
                    names + [.string(JSON.serialize(new))])
            case (let expected?, nil):
                _ = try query(
                    "DELETE FROM state WHERE flow = ? AND key = ? AND value = ?",
                    names + [.string(JSON.serialize(expected))])
            case (let expected?, let new?):
                _ = try query(
                    "UPDATE state SET value = ?, updated_at = strftime('%s','now') WHERE flow = ? AND key = ? AND value = ?",
                    [.string(JSON.serialize(new))] + names + [.string(JSON.serialize(expected))])
            }
            return connection.changes == 1
        }
    }

    public func claim(flow: String, key: String, due: Int) throws -> Bool {
        try lock.withLock {
            _ = try query(
                "INSERT INTO state (flow, key, value, updated_at) VALUES (?, ?, ?, strftime('%s','now')) "
                    + "ON CONFLICT (flow, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at "
                    + "WHERE CAST(state.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
                [.string(flow), .string(key), .string(String(due))])
            return connection.changes == 1
        }
    }

    public func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        try lock.withLock {
            let rows =
                try query(
                    "SELECT flow, key, value FROM state WHERE substr(key, 1, ?) = ? AND (? IS NULL OR flow = ?) ORDER BY flow, key",
                    [
                        .int(prefix.count), .string(prefix), flow.map { .string($0) } ?? .null,
                        flow.map { .string($0) } ?? .null,
                    ])
            return try rows.map {
                ($0[0].stringValue ?? "", $0[1].stringValue ?? "", try JSON.parse($0[2].stringValue ?? "null"))
            }
        }
    }

    public func save(_ r: RunRecord) throws {
        try lock.withLock { _ = try query(Self.saveSQL, r.storageValues) }
    }

    static let saveSQL = """
        INSERT OR REPLACE INTO runs (id, flow, trigger, status, reason, started_at, completed_at, processed,
            created, updated, unchanged, skipped, failed, messages, dry_run, parent_id, attempt, errors, requests,
            diagnostics, owner)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// One `BEGIN IMMEDIATE` transaction: the write lock of the file is taken before the lease is read,
    /// so no other process changes the lease between the check and the writes.
    public func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool {
        try lock.withLock {
            try exec("BEGIN IMMEDIATE")
            do {
                func value(_ key: String) throws -> Value? {
                    try query("SELECT value FROM state WHERE flow = ? AND key = ?", [.string(flow), .string(key)])
                        .first?.first?.stringValue.map { try JSON.parse($0) }
                }
                guard fence.holds(try value(fence.key)) else {
                    try exec("ROLLBACK")
                    return false
                }
                var current: [String: Value] = [:]
                for key in keys { current[key] = try value(key) }
                for (key, new) in update(current) {
                    if let new {
                        _ = try query(
                            "INSERT INTO state (flow, key, value, updated_at) VALUES (?, ?, ?, strftime('%s','now')) "
                                + "ON CONFLICT (flow, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                            [.string(flow), .string(key), .string(JSON.serialize(new))])
                    } else {
                        _ = try query("DELETE FROM state WHERE flow = ? AND key = ?", [.string(flow), .string(key)])
                    }
                }
                if let record { _ = try query(Self.saveSQL, record.storageValues) }
                try exec("COMMIT")
                return true
            } catch {
                try? exec("ROLLBACK")
                throw error
            }
        }
    }

    static let runColumns = """
        id, flow, trigger, status, reason, started_at, completed_at, processed, created, updated, unchanged, skipped,
        failed, messages, dry_run, parent_id, attempt, errors, requests, diagnostics, owner
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

    public func runs(matching q: RunQuery) throws -> [RunRecord] {
        let (clause, values) = q.whereClause { _ in "?" }
        return try lock.withLock {
            try query(
                "SELECT \(Self.runColumns) FROM runs\(clause)\(q.orderAndLimit(placeholder: "?"))",
                values + [.int(q.limit)]
            ).map(Self.record)
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try lock.withLock {
            try query("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [.string(id)]).first.map(Self.record)
        }
    }

    public func deleteRuns(olderThan: Int) throws -> Int {
        try lock.withLock {
            _ = try query("DELETE FROM runs WHERE started_at < ? AND status <> 'running'", [.int(olderThan)])
            return connection.changes
        }
    }

    public func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws
        -> [ExternalReference]
    {
        try lock.withLock {
            try ExternalReference.lookUp(
                namespace: namespace, ids: ids, by: side, table: "refs", placeholder: { _ in "?" }, query: query)
        }
    }

    /// One `BEGIN IMMEDIATE` transaction with the fence check, like `commit`.
    public func storeReferences(
        flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?
    ) throws -> Bool {
        try lock.withLock {
            try exec("BEGIN IMMEDIATE")
            do {
                if let fence {
                    let lease = try query(
                        "SELECT value FROM state WHERE flow = ? AND key = ?", [.string(flow), .string(fence.key)]
                    ).first?.first?.stringValue.map { try JSON.parse($0) }
                    guard fence.holds(lease) else {
                        try exec("ROLLBACK")
                        return false
                    }
                }
                for r in references {
                    _ = try query(
                        "INSERT INTO refs (namespace, local_id, remote_id, remote_version, local_version, hash, updated_at) "
                            + "VALUES (?, ?, ?, ?, ?, ?, strftime('%s','now')) ON CONFLICT (namespace, local_id) DO UPDATE "
                            + "SET remote_id = excluded.remote_id, remote_version = excluded.remote_version, "
                            + "local_version = excluded.local_version, hash = excluded.hash, updated_at = excluded.updated_at",
                        [.string(namespace)] + r.columns)
                }
                try exec("COMMIT")
                return true
            } catch {
                try? exec("ROLLBACK")
                throw error
            }
        }
    }

    public static func record(_ row: [Value]) -> RunRecord { RunRecord.stored(row) }

    func exec(_ sql: String) throws { try connection.exec(sql) }
    func queryInt(_ sql: String) throws -> Int? { try query(sql, []).first?.first?.intValue }
    func query(_ sql: String, _ parameters: [Value]) throws -> [[Value]] { try connection.query(sql, parameters).rows }
}
