import Foundation
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Reads and writes PostgreSQL (libpq) or SQLite: queries, batches and efficient upserts.
public enum Database {
    static let request = Shape.object([
        Field(
            "operation", .enumeration(["query", "execute", "batch", "upsert"]), required: false,
            doc: "default: upsert when `rows` is set, query for SELECT/WITH, otherwise execute"),
        Field("query", .string, required: false, doc: "SQL with $1..$n parameters"),
        Field("parameters", .array(.any), required: false, doc: "bound, never spliced; for batch, a list of lists"),
        Field("table", .string, required: false, doc: "upsert target table"),
        Field("key", .oneOf([.string, .array(.string)]), required: false, doc: "upsert key column(s)"),
        Field("rows", .array(.anyObject), required: false, doc: "upsert rows as objects"),
        Field("transaction", .bool, required: false, doc: "wrap the request's statements in a transaction"),
        .contextField,
    ])

    /// Set on dry-run responses only.
    static let dryRunFields = [
        Field("dryRun", .bool, required: false, doc: "true in a dry run: nothing was written"),
        Field(
            "changes", .array(.anyObject), required: false,
            doc: "dry-run upserts: the first 100 rows that would change ({action, key, columns})"),
        Field("changedColumns", .anyObject, required: false, doc: "dry-run upserts: rows that would change, by column"),
    ]

    public static let descriptor = ComponentDescriptor(
        name: "database",
        aliases: ["postgres"],
        summary:
            "Runs SQL on PostgreSQL (libpq) or SQLite: query, execute, batch, and upsert with created/updated/unchanged counts.",
        doc: """
            `upsert` writes the dialect's efficient batch statement for `rows` keyed by `key`, skips no-op
            updates and reports `created`, `updated` and `unchanged`. Parameters are always bound. In a dry
            run, SELECTs run and writes are compared with the table instead of executed.

            Values, both ways. Parameters and upsert values are bound, never spliced: strings, ints and
            doubles as they are; bools as `true`/`false` (PostgreSQL) or 1/0 (SQLite); integers beyond 64 bits
            as their exact decimal text; objects as JSON text. An array bound to a PostgreSQL parameter that
            the statement casts to an array type (`$1::text[]`, `CAST($2 AS bigint[])`) is sent as a
            PostgreSQL array (elements quoted, null as NULL, nested arrays nested, objects as JSON), so
            `INSERT ... SELECT * FROM unnest($1::text[], $2::jsonb[])` takes flowrun arrays; any other array
            parameter, and every array on SQLite, is sent as JSON text. Results come back by column type:

            | column type | PostgreSQL | SQLite |
            |---|---|---|
            | integers (`int2/4/8`, `oid`; SQLite INTEGER) | int | int |
            | `numeric` / `decimal` | int when integral (exact beyond 64 bits), else double | by affinity: int, double or text |
            | `real`, `double precision` (SQLite REAL) | double | double |
            | `boolean` | bool | int 1/0 (SQLite has no booleans) |
            | `json`, `jsonb` | parsed JSON value | text (parse with `JSON.parse`) |
            | `timestamptz`, `timestamp`, `date`, `time` | PostgreSQL's text: `2024-03-01 00:40:00.123456+00` (session time zone; read it with `parseTime`) | the text stored |
            | `bytea` / BLOB | PostgreSQL's hex text `\\x0102` | the bytes decoded as UTF-8 text |
            | arrays (`text[]`, `int[]`) | PostgreSQL's array text `{a,b}` | (none) |
            | anything else (`text`, `uuid`, `interval`, enums) | string | string |
            | NULL | null | null |
            """,
        isIO: true,
        settings: [
            SettingDescriptor(
                "driver", .enumeration(["postgres", "sqlite"]), default: "postgres", doc: "Database kind.",
                example: "sqlite"),
            SettingDescriptor(
                "url", .string, doc: "libpq connection string/URI, or sqlite:path.",
                example: "<<env.DATABASE_URL ?? 'sqlite:.flowrun/users.db'>>"),
            SettingDescriptor("host", .string, doc: "PostgreSQL host (instead of `url`).", example: "db.internal"),
            SettingDescriptor("port", .int, default: 5432, doc: "PostgreSQL port.", example: "5432"),
            SettingDescriptor("database", .string, doc: "Database name.", example: "myapp"),
            SettingDescriptor("username", .string, doc: "User name.", example: "<<secrets.dbUser>>"),
            SettingDescriptor("password", .string, doc: "Password (use a secret).", example: "<<secrets.dbPassword>>"),
            SettingDescriptor(
                "sslMode", .enumeration(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
                default: "prefer", doc: "libpq sslmode.", example: "require"),
            SettingDescriptor("maxOpenConns", .int, default: 4, doc: "Connection pool size.", example: "10"),
            SettingDescriptor(
                "retryCount", .int, default: 3,
                doc:
                    "Retries of a request that failed transiently (connection loss, serialization failure, busy), with backoff; other errors are not retried.",
                example: "5"),
            SettingDescriptor(
                "retryDelay", .duration, default: "200ms", doc: "First backoff; doubles per retry, with full jitter.",
                example: "1s"),
        ],
        ports: [
            .input("request", request, doc: "A statement, a batch or an upsert."),
            .output(
                "response",
                .object(
                    [
                        Field("rows", .array(.anyObject)), Field("rowsAffected", .int), Field("created", .int),
                        Field("updated", .int),
                        Field("unchanged", .int), Field("context", .any),
                    ] + dryRunFields), doc: "Result rows and counts (in a dry run: what would happen)."),
        ],
        example: """
            upsert-users:
              component: database
              settings: {driver: sqlite, url: 'sqlite:.flowrun/users.db'}
            """,
        dryRun:
            "SELECTs run. An `upsert` is compared with the table instead of written: the response counts `created`, `updated` and `unchanged`, with `dryRun: true`, `changes` (the first 100 rows that would change) and `changedColumns`. `execute` and `batch` are not run (`rowsAffected: 0`, `dryRun: true`).",
        countsRecords: true,
        connection: ConnectionKind(
            "database",
            settings: ["driver", "url", "host", "port", "database", "username", "password", "sslMode", "maxOpenConns"],
            requiresOneOf: ["url", "host"], shared: "one connection pool (`maxOpenConns`) for every node using it",
            sharedSettings: ["maxOpenConns"]),
        transfer: { t in
            if t.input("request").isNever { return ["response": .never] }
            return [
                "response": .object(
                    [
                        Field("rows", .array(.anyObject)), Field("rowsAffected", .int), Field("created", .int),
                        Field("updated", .int),
                        Field("unchanged", .int), Field("context", t.context(of: "request")),
                    ] + dryRunFields)
            ]
        }
    )
}

extension Database {
    /// Sends each request to the driver chosen by the run's settings. Drivers (and their connections)
    /// are kept per database and shared by the runs of the flow: per node, or, for a node using a named
    /// connection, by every node of the flow that uses it (`Drivers.shared`).
    final class Instance: AsyncComponent, @unchecked Sendable {
        private let drivers: Drivers
        /// `flow/connection` of a node using a named connection.
        private let connection: String?

        init(connection: String? = nil) {
            self.connection = connection
            drivers = connection == nil ? Drivers() : Drivers.shared
        }

        func start(
            _ message: Value, on port: String, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            let retries = max(0, context.setting("retryCount").intValue ?? 3)
            let firstDelay =
                context.setting("retryDelay").stringValue.flatMap(Durations.parse) ?? 200_000_000
            attempt(1, message, context, retries: retries, firstDelay: firstDelay, done: done)
        }

        /// One try; a transient failure (connection loss after a database restart, a serialization
        /// failure, SQLite busy) is tried again after a backoff, so it never becomes per-record failures.
        func attempt(
            _ n: Int, _ message: Value, _ context: AsyncContext, retries: Int, firstDelay: Int,
            done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            perform(message, context) { result in
                guard let error = result.error, error.retryable, n <= retries else { return done(result) }
                let ceiling = min(firstDelay << min(n - 1, 20), 30_000_000_000)
                let delay = Int.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(delay)) {
                    self.attempt(n + 1, message, context, retries: retries, firstDelay: firstDelay, done: done)
                }
            }
        }

        func perform(
            _ message: Value, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            let driver = context.setting("driver").stringValue ?? "postgres"
            let url = context.setting("url").stringValue ?? ""
            let request: DatabaseRequest
            do { request = try DatabaseRequest(message, boolsAsInts: driver == "sqlite") } catch {
                done(.failure(error))
                return
            }
            let finish: @Sendable (Result<DatabaseResult, NodeError>) -> Void = { result in
                let ok: Bool
                if case .failure = result { ok = false } else { ok = true }
                Telemetry.sink?.databaseStatement(
                    flow: context.flowName, node: context.nodeName, operation: request.operation.rawValue, ok: ok)
                switch result {
                case .failure(let error): done(.failure(error))
                case .success(let r):
                    var out: Value.Object = [
                        "rows": .array(r.rows), "rowsAffected": .int(r.rowsAffected), "created": .int(r.created),
                        "updated": .int(r.updated), "unchanged": .int(r.unchanged),
                    ]
                    if r.dryRun {
                        out["dryRun"] = true
                        out["changes"] = .array(r.changes)
                        out["changedColumns"] = .object(
                            .init(
                                uniqueKeysWithValues: r.changedColumns.sorted { $0.key < $1.key }.map { ($0, .int($1)) }
                            ))
                    }
                    out["context"] = message["context"]
                    done(
                        AsyncResult(
                            emissions: [("response", .object(out))],
                            counters: [
                                .created: r.created, .updated: r.updated, .unchanged: r.unchanged,
                                .attempted: request.operation == .upsert
                                    ? r.created + r.updated + r.unchanged
                                    : request.operation == .query ? 0 : r.rowsAffected,
                            ],
                            changedColumns: r.changedColumns))
                }
            }
            if driver == "sqlite" {
                let path = url.hasPrefix("sqlite:") ? String(url.dropFirst(7)) : url
                guard !path.isEmpty else {
                    done(.failure(NodeError("driver sqlite needs `url: sqlite:path/to.db`", code: "bad_request")))
                    return
                }
                let db = drivers.sqlite(path, scope: connection.map { context.flowName + "/" + $0 })
                db.perform(request, dryRun: context.isDryRun, done: finish)
                return
            }
            let conninfo = url.isEmpty ? Self.conninfo(context) : url
            let size = context.setting("maxOpenConns").intValue ?? 4
            let db = drivers.postgres(conninfo, size: size, scope: connection.map { context.flowName + "/" + $0 })
            let logger = context.logger
            let (flow, node, run) = (context.flowName, context.nodeName, context.runID)
            db.perform(
                request, dryRun: context.isDryRun,
                notice: { text in
                    let notice = PostgresNotice.parse(text)
                    guard logger.enabled(notice.level) else { return }
                    logger.log(notice.level, "postgres: \(notice.message)", flow: flow, node: node, run: run)
                }, done: finish)
        }

        /// A libpq connection string from host/port/database/username/password/sslMode (values quoted).
        static func conninfo(_ context: AsyncContext) -> String {
            var parts: [String] = []
            let names = [
                ("host", "host"), ("port", "port"), ("dbname", "database"), ("user", "username"),
                ("password", "password"), ("sslmode", "sslMode"),
            ]
            for (key, setting) in names {
                let v = context.setting(setting)
                if v.isNull { continue }
                let text = v.interpolated.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "'", with: "\\'")
                parts.append("\(key)='\(text)'")
            }
            return parts.joined(separator: " ")
        }
    }

    public static let factory: ComponentFactory = { node in Instance(connection: node.connection) }

    /// Drivers by database: one set per node, and one process-wide set for named connections, keyed by
    /// flow, connection and database, so all nodes of a flow using one connection share one pool.
    final class Drivers: @unchecked Sendable {
        static let shared = Drivers()
        private let lock = NSLock()
        private var sqlite: [String: SQLiteDriver] = [:]
        private var postgres: [String: PostgresDriver] = [:]

        func sqlite(_ path: String, scope: String?) -> SQLiteDriver {
            let key = (scope ?? "") + "|" + path
            return lock.withLock {
                if let d = sqlite[key] { return d }
                let d = SQLiteDriver(path: path)
                sqlite[key] = d
                return d
            }
        }

        func postgres(_ conninfo: String, size: Int, scope: String?) -> PostgresDriver {
            let key = (scope ?? "") + "|" + conninfo
            return lock.withLock {
                if let d = postgres[key] { return d }
                let d = PostgresDriver(url: conninfo, size: size)
                postgres[key] = d
                return d
            }
        }

        /// How many drivers (PostgreSQL pools, SQLite handles) a flow's connection has: one (tests).
        func pools(scope: String) -> Int {
            lock.withLock {
                postgres.keys.filter { $0.hasPrefix(scope + "|") }.count
                    + sqlite.keys.filter { $0.hasPrefix(scope + "|") }.count
            }
        }
    }
}
