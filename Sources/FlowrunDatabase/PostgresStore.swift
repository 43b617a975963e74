import FlowrunRuntime
import FlowrunValue
import Foundation

/// The state store in PostgreSQL (`--state postgres://...` or FLOWRUN_STATE_URL): the same data and
/// behaviour as the SQLite store, in tables prefixed `flowrun_`, versioned in `flowrun_schema`.
public final class PostgresStore: StateStore, @unchecked Sendable {
    static let migrations: [String] = [
        """
        CREATE TABLE flowrun_state (flow TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                                    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (flow, key));
        CREATE TABLE flowrun_runs (id TEXT PRIMARY KEY, flow TEXT NOT NULL, trigger TEXT NOT NULL, status TEXT NOT NULL,
                                   reason TEXT, started_at BIGINT NOT NULL, completed_at BIGINT,
                                   processed BIGINT NOT NULL DEFAULT 0, created BIGINT NOT NULL DEFAULT 0,
                                   updated BIGINT NOT NULL DEFAULT 0, unchanged BIGINT NOT NULL DEFAULT 0,
                                   skipped BIGINT NOT NULL DEFAULT 0, failed BIGINT NOT NULL DEFAULT 0,
                                   messages BIGINT NOT NULL DEFAULT 0, dry_run BOOLEAN NOT NULL DEFAULT false,
                                   parent_id TEXT, attempt INTEGER NOT NULL DEFAULT 1, errors TEXT NOT NULL DEFAULT '[]');
        CREATE INDEX flowrun_runs_by_flow ON flowrun_runs (flow, started_at);
        """,
        // Version 2: HTTP requests per run.
        "ALTER TABLE flowrun_runs ADD COLUMN requests BIGINT NOT NULL DEFAULT 0;",
        // Version 3: dry-run diagnostics and the process that runs it (abandoned runs).
        "ALTER TABLE flowrun_runs ADD COLUMN diagnostics TEXT NOT NULL DEFAULT '{}', ADD COLUMN owner TEXT;",
        // Version 4: the console's pages of the history (newest first, by status) read an index, not the table.
        """
        CREATE INDEX flowrun_runs_by_start ON flowrun_runs (started_at, id);
        CREATE INDEX flowrun_runs_by_status ON flowrun_runs (status, started_at);
        """,
        // Version 5: external references (outbound and bidirectional sync).
        """
        CREATE TABLE flowrun_refs (namespace TEXT NOT NULL, local_id TEXT NOT NULL, remote_id TEXT NOT NULL,
                                   remote_version TEXT, local_version TEXT, hash TEXT,
                                   updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (namespace, local_id));
        CREATE INDEX flowrun_refs_by_remote ON flowrun_refs (namespace, remote_id);
        """,
    ]

    private let connection: PostgresDriver.Connection
    /// The advisory lock key under which a store creates and migrates its tables ("flowrun" in ASCII).
    static let migrationLock = 0x666c_6f77_7275_6e
    private let lock = NSLock()

    public init(url: String) throws {
        connection = PostgresDriver.Connection(url: url, index: 0)
        try lock.withLock {
            let c = try connection.connection()
            // One migrator at a time across replicas. The advisory lock comes first: replicas starting at
            // the same instant on a fresh database would otherwise race in `CREATE TABLE IF NOT EXISTS`
            // (23505 on pg_type), and a replica would exit.
            _ = try connection.simple(c, "BEGIN; SELECT pg_advisory_xact_lock(\(Self.migrationLock))")
            do {
                _ = try connection.simple(c, "CREATE TABLE IF NOT EXISTS flowrun_schema (version INTEGER NOT NULL)")
                _ = try connection.simple(c, "LOCK TABLE flowrun_schema IN EXCLUSIVE MODE")
                let version =
                    try connection.execute(c, "SELECT max(version) FROM flowrun_schema", []).rows.first?.first?.intValue
                    ?? 0
                if version > Self.migrations.count {
                    throw SQLiteStore.StoreError(
                        description: "the PostgreSQL state store has schema version \(version), newer than this flowrun"
                    )
                }
                for v in version..<Self.migrations.count {
                    _ = try connection.simple(c, Self.migrations[v])
                    _ = try connection.execute(c, "INSERT INTO flowrun_schema (version) VALUES ($1)", [.int(v + 1)])
                }
                _ = try connection.simple(c, "COMMIT")
            } catch {
                _ = try? connection.simple(c, "ROLLBACK")
                throw error
            }
        }
    }

    /// Runs one statement. A session the server ended while idle is replaced before the statement is sent
    /// (`Connection.connection()`). When the connection breaks after sending, a statement that is
    /// `repeatable` (a read, an upsert of the same values, a delete by key) is run once more on a new
    /// connection; a compare-and-set or a claim is not: it may have committed, and running it again would
    /// report a lost race for a write that was ours.
    func query(_ sql: String, _ parameters: [Value], repeatable: Bool = true) throws -> [[Value]] {
        try lock.withLock {
            do {
                let c = try connection.connection()
                return try connection.execute(c, sql, parameters).rows
            } catch let error as NodeError where repeatable && error.retryable && !connection.isOpen {
                let c = try connection.connection()
                return try connection.execute(c, sql, parameters).rows
            }
        }
    }

    public func get(flow: String, key: String) throws -> Value? {
        guard
            let text = try query(
                "SELECT value FROM flowrun_state WHERE flow = $1 AND key = $2", [.string(flow), .string(key)]
            )
            .first?.first?.stringValue
        else { return nil }
        return try JSON.parse(text)
    }

    public func set(flow: String, key: String, value: Value) throws {
        _ = try query(
            "INSERT INTO flowrun_state (flow, key, value) VALUES ($1, $2, $3) "
                + "ON CONFLICT (flow, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            [.string(flow), .string(key), .string(JSON.serialize(value))])
    }

    public func delete(flow: String, key: String) throws {
        _ = try query("DELETE FROM flowrun_state WHERE flow = $1 AND key = $2", [.string(flow), .string(key)])
    }

    /// One statement per case, so the comparison and the write are atomic across processes sharing the
    /// database (a concurrent insert of the same key loses on the primary key and inserts nothing).
    public func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        let names: [Value] = [.string(flow), .string(key)]
        switch (expected, new) {
        case (nil, nil):
            return try query("SELECT 1 FROM flowrun_state WHERE flow = $1 AND key = $2", names).isEmpty
        case (nil, let new?):
            return try !query(
                "INSERT INTO flowrun_state (flow, key, value) VALUES ($1, $2, $3) "
                    + "ON CONFLICT (flow, key) DO NOTHING RETURNING 1",
                names + [.string(JSON.serialize(new))], repeatable: false
            ).isEmpty
        case (let expected?, nil):
            return try !query(
                "DELETE FROM flowrun_state WHERE flow = $1 AND key = $2 AND value = $3 RETURNING 1",
                names + [.string(JSON.serialize(expected))], repeatable: false
            ).isEmpty
        case (let expected?, let new?):
            return try !query(
                "UPDATE flowrun_state SET value = $3, updated_at = now() WHERE flow = $1 AND key = $2 AND value = $4 "
                    + "RETURNING 1",
                names + [.string(JSON.serialize(new)), .string(JSON.serialize(expected))], repeatable: false
            ).isEmpty
        }
    }

    public func claim(flow: String, key: String, due: Int) throws -> Bool {
        let rows = try query(
            "INSERT INTO flowrun_state (flow, key, value) VALUES ($1, $2, $3) "
                + "ON CONFLICT (flow, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() "
                + "WHERE flowrun_state.value::bigint < EXCLUDED.value::bigint RETURNING 1",
            [.string(flow), .string(key), .string(String(due))], repeatable: false)
        return !rows.isEmpty
    }

    public func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        let rows = try query(
            "SELECT flow, key, value FROM flowrun_state WHERE left(key, $1) = $2 AND ($3::text IS NULL OR flow = $3) ORDER BY flow, key",
            [.int(prefix.count), .string(prefix), flow.map { .string($0) } ?? .null])
        return try rows.map {
            ($0[0].stringValue ?? "", $0[1].stringValue ?? "", try JSON.parse($0[2].stringValue ?? "null"))
        }
    }

    public func save(_ r: RunRecord) throws { _ = try query(Self.saveSQL, r.storageValues) }

    static let saveSQL = """
        INSERT INTO flowrun_runs (id, flow, trigger, status, reason, started_at, completed_at, processed, created,
            updated, unchanged, skipped, failed, messages, dry_run, parent_id, attempt, errors, requests,
            diagnostics, owner)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
            completed_at = EXCLUDED.completed_at, processed = EXCLUDED.processed, created = EXCLUDED.created,
            updated = EXCLUDED.updated, unchanged = EXCLUDED.unchanged, skipped = EXCLUDED.skipped,
            failed = EXCLUDED.failed, messages = EXCLUDED.messages, errors = EXCLUDED.errors,
            requests = EXCLUDED.requests, diagnostics = EXCLUDED.diagnostics
        """

    static let columns = """
        id, flow, trigger, status, reason, started_at, completed_at, processed, created, updated, unchanged, skipped,
        failed, messages, CASE WHEN dry_run THEN 1 ELSE 0 END, parent_id, attempt, errors, requests, diagnostics,
        owner
        """

    public func runs(flow: String?, limit: Int) throws -> [RunRecord] {
        let rows =
            flow == nil
            ? try query("SELECT \(Self.columns) FROM flowrun_runs ORDER BY started_at DESC LIMIT $1", [.int(limit)])
            : try query(
                "SELECT \(Self.columns) FROM flowrun_runs WHERE flow = $1 ORDER BY started_at DESC LIMIT $2",
                [.string(flow!), .int(limit)])
        return rows.map(SQLiteStore.record)
    }

    public func runs(matching q: RunQuery) throws -> [RunRecord] {
        let (clause, values) = q.whereClause { "$\($0)" }
        return try query(
            "SELECT \(Self.columns) FROM flowrun_runs\(clause)\(q.orderAndLimit(placeholder: "$\(values.count + 1)"))",
            values + [.int(q.limit)]
        ).map(SQLiteStore.record)
    }

    public func run(id: String) throws -> RunRecord? {
        try query("SELECT \(Self.columns) FROM flowrun_runs WHERE id = $1", [.string(id)]).first.map(SQLiteStore.record)
    }

    public func deleteRuns(olderThan: Int) throws -> Int {
        try query(
            "DELETE FROM flowrun_runs WHERE started_at < $1 AND status <> 'running' RETURNING 1", [.int(olderThan)]
        ).count
    }

    public func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws
        -> [ExternalReference]
    {
        try ExternalReference.lookUp(
            namespace: namespace, ids: ids, by: side, table: "flowrun_refs", placeholder: { "$\($0)" },
            query: { try query($0, $1) })
    }

    /// One transaction; with a fence, the lease row is locked and checked first, as in `commit`.
    public func storeReferences(
        flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?
    ) throws -> Bool {
        try lock.withLock {
            let c = try connection.connection()
            _ = try connection.simple(c, "BEGIN")
            do {
                if let fence {
                    let lease = try connection.execute(
                        c, "SELECT value FROM flowrun_state WHERE flow = $1 AND key = $2 FOR UPDATE",
                        [.string(flow), .string(fence.key)]
                    ).rows.first?.first?.stringValue.map { try JSON.parse($0) }
                    guard fence.holds(lease) else {
                        _ = try connection.simple(c, "ROLLBACK")
                        return false
                    }
                }
                for r in references {
                    _ = try connection.execute(
                        c,
                        "INSERT INTO flowrun_refs (namespace, local_id, remote_id, remote_version, local_version, hash) "
                            + "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (namespace, local_id) DO UPDATE "
                            + "SET remote_id = EXCLUDED.remote_id, remote_version = EXCLUDED.remote_version, "
                            + "local_version = EXCLUDED.local_version, hash = EXCLUDED.hash, updated_at = now()",
                        [.string(namespace)] + r.columns)
                }
                _ = try connection.simple(c, "COMMIT")
                return true
            } catch {
                _ = try? connection.simple(c, "ROLLBACK")
                throw error
            }
        }
    }

    /// One transaction: the lease row is locked (`FOR UPDATE`) before it is checked, so a takeover of the
    /// lease waits for the commit, and a commit after a takeover sees the new lease and writes nothing.
    public func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool {
        try lock.withLock {
            let c = try connection.connection()
            _ = try connection.simple(c, "BEGIN")
            do {
                func value(_ key: String, lock: Bool = false) throws -> Value? {
                    try connection.execute(
                        c, "SELECT value FROM flowrun_state WHERE flow = $1 AND key = $2" + (lock ? " FOR UPDATE" : ""),
                        [.string(flow), .string(key)]
                    ).rows.first?.first?.stringValue.map { try JSON.parse($0) }
                }
                guard fence.holds(try value(fence.key, lock: true)) else {
                    _ = try connection.simple(c, "ROLLBACK")
                    return false
                }
                var current: [String: Value] = [:]
                for key in keys { current[key] = try value(key) }
                for (key, new) in update(current) {
                    if let new {
                        _ = try connection.execute(
                            c,
                            "INSERT INTO flowrun_state (flow, key, value) VALUES ($1, $2, $3) "
                                + "ON CONFLICT (flow, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
                            [.string(flow), .string(key), .string(JSON.serialize(new))])
                    } else {
                        _ = try connection.execute(
                            c, "DELETE FROM flowrun_state WHERE flow = $1 AND key = $2", [.string(flow), .string(key)])
                    }
                }
                if let record { _ = try connection.execute(c, Self.saveSQL, record.storageValues) }
                _ = try connection.simple(c, "COMMIT")
                return true
            } catch {
                _ = try? connection.simple(c, "ROLLBACK")
                throw error
            }
        }
    }
}
