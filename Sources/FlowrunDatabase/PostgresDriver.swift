import CPostgres
import Dispatch
import FlowrunRuntime
import FlowrunValue
import Foundation

/// The PostgreSQL driver over libpq: a pool of `maxOpenConns` connections, each used only from its
/// own serial queue (blocking libpq calls never run on Swift's cooperative pool). Parameters are
/// always bound (prepared statements, cached per connection), never spliced.
final class PostgresDriver: @unchecked Sendable {
    private let url: String
    let connections: [Connection]
    private let lock = NSLock()
    private var busy: [Int]

    init(url: String, size: Int) {
        self.url = url
        connections = (0..<max(1, size)).map { Connection(url: url, index: $0) }
        busy = Array(repeating: 0, count: connections.count)
    }

    /// Runs `request` on the least busy connection; the server's notices while it runs go to `notice`.
    func perform(
        _ request: DatabaseRequest, dryRun: Bool, notice: (@Sendable (String) -> Void)? = nil,
        done: @escaping @Sendable (Result<DatabaseResult, NodeError>) -> Void
    ) {
        let i = lock.withLock {
            let i = busy.indices.min { busy[$0] < busy[$1] }!
            busy[i] += 1
            return i
        }
        connections[i].queue.async {
            let result: Result<DatabaseResult, NodeError>
            let connection = self.connections[i]
            connection.notices.target = notice
            do throws(NodeError) { result = .success(try connection.run(request, dryRun: dryRun)) } catch {
                result = .failure(error)
            }
            connection.notices.target = nil
            self.lock.withLock { self.busy[i] -= 1 }
            done(result)
        }
    }

    final class Connection: @unchecked Sendable {
        let url: String
        let queue: DispatchQueue
        private var conn: OpaquePointer?
        /// Prepared statements of this session by SQL text (names `flowrun_1`, ...). A new session
        /// (reconnect) starts empty; past `maxPrepared` the cache is dropped with `DEALLOCATE ALL`.
        private var prepared: [String: String] = [:]
        private var preparedCount = 0
        static let maxPrepared = 256

        init(url: String, index: Int) {
            self.url = url
            queue = DispatchQueue(label: "flowrun-postgres-\(index)")
        }

        deinit { PQfinish(conn) }

        /// Where the server's notices (`RAISE NOTICE`, "relation already exists, skipping") go: set for the
        /// duration of a request (the connection's queue is serial); dropped when nobody listens.
        final class Notices: @unchecked Sendable {
            var target: (@Sendable (String) -> Void)?
            func receive(_ text: String) { target?(text) }
        }
        let notices = Notices()

        /// Whether the current session is still usable (false after it broke or the server ended it).
        var isOpen: Bool {
            guard let conn, !needsReset else { return false }
            return PQstatus(conn) == CONNECTION_OK && !Self.endedByServer(conn)
        }

        /// Set by an error that says the session is over (`isConnectionLevel`): the next use starts a new one.
        private var needsReset = false

        /// SQLSTATEs that end the session rather than the statement: class 08 (connection exception) and
        /// 57P01-57P03 (administrator shutdown, crash shutdown, cannot connect now).
        static func isConnectionLevel(_ state: String) -> Bool {
            state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
        }

        /// An open connection. A session the server ended while it sat idle in the pool (a restart, an
        /// administrator's `pg_terminate_backend`: SQLSTATE 57P01) is found here, before anything is sent on
        /// it, and replaced by a new one; so is one libpq already knows is broken.
        func connection() throws(NodeError) -> OpaquePointer {
            if let conn, !needsReset, PQstatus(conn) == CONNECTION_OK, !Self.endedByServer(conn) { return conn }
            needsReset = false
            prepared.removeAll()
            if let conn {
                PQreset(conn)
                if PQstatus(conn) == CONNECTION_OK { return conn }
                PQfinish(conn)
                self.conn = nil
            }
            guard let c = PQconnectdb(url) else {
                throw NodeError("postgres: out of memory", code: "connect", retryable: true)
            }
            guard PQstatus(c) == CONNECTION_OK else {
                // libpq's message names host and port, never the password.
                let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
                PQfinish(c)
                throw NodeError("postgres: cannot connect: \(message)", code: "connect", retryable: true)
            }
            // libpq would print notices to stderr: they go to `notices` (which outlives the session).
            PQsetNoticeProcessor(
                c,
                { arg, message in
                    guard let arg, let message else { return }
                    Unmanaged<Notices>.fromOpaque(arg).takeUnretainedValue().receive(String(cString: message))
                }, Unmanaged.passUnretained(notices).toOpaque())
            conn = c
            return c
        }

        /// Whether the server closed this idle session. An idle session has nothing to read unless the server
        /// sent something unasked: a notice, or, when it ended the session, its FATAL error followed by the
        /// end of the stream. Reading what is there lets libpq see the end (the session turns
        /// CONNECTION_BAD); a notice stays buffered for the next statement. One `poll` without waiting, so
        /// the check costs a system call per statement.
        static func endedByServer(_ c: OpaquePointer) -> Bool {
            let fd = PQsocket(c)
            guard fd >= 0 else { return true }
            // A FATAL message and the end of the stream may arrive in separate reads.
            for _ in 0..<4 {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 0) > 0, p.revents != 0 else { return false }
                if PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK { return true }
            }
            return PQstatus(c) != CONNECTION_OK
        }

        /// Runs the request, retrying once on a new connection when the connection broke under it (server
        /// restart, killed backend) and running it again cannot apply it twice:
        /// - a read (a query `StatementKind` finds no write in: not a data-modifying `WITH ... INSERT`), or an
        ///   upsert (it writes the same rows again);
        /// - a request whose transaction had not been asked to commit (`transaction: true` failing before its
        ///   COMMIT was sent, or a failure before anything was sent): the server rolls back the transaction
        ///   of a session that ends.
        /// A plain statement, a batch (its pipeline sync commits) or a COMMIT that failed with the connection
        /// is not retried here: the server may have committed it before the session ended, and only the
        /// error reached us. (A session that the server ended while idle is replaced before sending, in
        /// `connection()`, so that common case never fails at all.)
        func run(_ request: DatabaseRequest, dryRun: Bool) throws(NodeError) -> DatabaseResult {
            commitRequested = false
            do {
                return try runOnce(request, dryRun: dryRun)
            } catch {
                // The server's FATAL error can be read before the end of the stream: libpq may still say
                // CONNECTION_OK, so `isOpen` reads what is left.
                guard conn != nil, !isOpen, request.operation == .upsert || !commitRequested else { throw error }
                return try runOnce(request, dryRun: dryRun)
            }
        }

        /// Set when a statement that may commit a write was sent during the current request (an
        /// autocommitted write, a pipeline sync, a COMMIT): from then on a broken connection leaves the outcome
        /// unknown.
        private var commitRequested = false

        func runOnce(_ request: DatabaseRequest, dryRun: Bool) throws(NodeError) -> DatabaseResult {
            try PostgresText.checkNoNUL(request)
            let c = try connection()
            switch request.operation {
            case .query:
                // A query that may write is, once sent, of unknown outcome like an autocommitted write.
                if !StatementKind.isRead(request.query) { commitRequested = true }
                return DatabaseResult(rows: try execute(c, request.query, request.parameters).objects)
            case .execute:
                if dryRun { return DatabaseResult(dryRun: true) }
                if request.parameters.isEmpty {
                    commitRequested = true
                    return DatabaseResult(rowsAffected: try simple(c, request.query))
                }
                guard request.transaction else {
                    commitRequested = true
                    return DatabaseResult(rowsAffected: try execute(c, request.query, request.parameters).affected)
                }
                _ = try simple(c, "BEGIN")
                do {
                    let affected = try execute(c, request.query, request.parameters).affected
                    commitRequested = true
                    _ = try simple(c, "COMMIT")
                    return DatabaseResult(rowsAffected: affected)
                } catch {
                    _ = try? simple(c, "ROLLBACK")
                    throw error
                }
            case .batch:
                if dryRun { return DatabaseResult(dryRun: true) }
                commitRequested = true
                return DatabaseResult(rowsAffected: try pipelined(c, request.query, request.batch))
            case .upsert:
                return dryRun ? try compare(c, request) : try upsert(c, request)
            }
        }

        /// One `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM ...` per column set, in one
        /// transaction; `RETURNING (xmax = 0)` tells inserts from updates, and rows it does not return were
        /// unchanged. (A dry run goes to `compare`.)
        func upsert(_ c: OpaquePointer, _ request: DatabaseRequest) throws(NodeError) -> DatabaseResult {
            let plan = request.upsert!
            var result = DatabaseResult()
            // One statement is atomic on its own: no BEGIN/COMMIT round trips for the common case.
            let single =
                plan.plan.groups.count == 1
                && SQL.slices(plan.plan.groups[0].rows, width: plan.plan.groups[0].columns.count).count == 1
            if !single { _ = try simple(c, "BEGIN") }
            do {
                for group in plan.plan.groups {
                    for slice in SQL.slices(group.rows, width: group.columns.count) {
                        let sql = upsertStatement(plan, columns: group.columns, rows: slice.count)
                        let returned = try execute(c, sql, rows: slice)
                        for row in returned.rows {
                            if row.first == .bool(true) { result.created += 1 } else { result.updated += 1 }
                        }
                        result.unchanged += slice.count - returned.rows.count
                    }
                }
                if !single { _ = try simple(c, "COMMIT") }
            } catch {
                if !single { _ = try? simple(c, "ROLLBACK") }
                throw error
            }
            result.rowsAffected = result.created + result.updated
            return result
        }

        /// The text of an upsert statement of one shape (table, key and columns, number of rows), built once
        /// and then reused: it is also the key of the prepared-statement cache.
        private func upsertStatement(_ plan: DatabaseRequest.Upsert, columns: [String], rows: Int) -> String {
            let shape = UpsertShape(table: plan.quotedTable, keys: plan.plan.keys, columns: columns, rows: rows)
            if let sql = upsertTexts[shape] { return sql }
            if upsertTexts.count >= Self.maxPrepared { upsertTexts.removeAll() }
            let sql = SQL.upsert(
                quotedTable: plan.quotedTable, quotedKeys: plan.quotedKeys, keys: plan.plan.keys, columns: columns,
                rows: rows)
            upsertTexts[shape] = sql
            return sql
        }

        struct UpsertShape: Hashable {
            let table: String
            let keys: [String]
            let columns: [String]
            let rows: Int
        }

        /// Upsert statement texts by shape (see `upsertStatement`).
        private var upsertTexts: [UpsertShape: String] = [:]

        /// A dry-run upsert: the rows are loaded into a temporary copy of the table's columns (so they get
        /// the table's types) and compared with the stored rows column by column, inside a transaction
        /// that is rolled back. Reports would-insert, would-update with the changed columns, unchanged.
        func compare(_ c: OpaquePointer, _ request: DatabaseRequest) throws(NodeError) -> DatabaseResult {
            let plan = request.upsert!
            var result = DatabaseResult(dryRun: true)
            _ = try simple(c, "BEGIN")
            do {
                for group in plan.plan.groups {
                    let columns = group.columns.map { "\"\($0)\"" }
                    let keyIndexes = plan.plan.keys.map { group.columns.firstIndex(of: $0)! }
                    _ = try simple(
                        c,
                        "CREATE TEMP TABLE flowrun_dry_run ON COMMIT DROP AS SELECT \(columns.joined(separator: ", ")) FROM \(plan.quotedTable) WITH NO DATA"
                    )
                    for slice in SQL.slices(group.rows, width: columns.count) {
                        _ = try execute(
                            c,
                            "INSERT INTO flowrun_dry_run VALUES "
                                + SQL.numberedTuples(rows: slice.count, width: columns.count),
                            rows: slice, prepare: false)
                    }
                    let keyColumns = keyIndexes.map { columns[$0] }
                    let join = keyColumns.map { "t.\($0) = d.\($0)" }.joined(separator: " AND ")
                    let flags = columns.map { "t.\($0) IS DISTINCT FROM d.\($0)" }.joined(separator: ", ")
                    let rows = try execute(
                        c,
                        "SELECT t.\(keyColumns[0]) IS NULL, \(keyColumns.map { "d.\($0)" }.joined(separator: ", ")), \(flags) FROM flowrun_dry_run d LEFT JOIN \(plan.quotedTable) t ON \(join)",
                        [], prepare: false)
                    for row in rows.rows {
                        let key = keyColumns.count == 1 ? row[1] : .array(Array(row[1...keyColumns.count]))
                        if row[0] == .bool(true) {
                            result.note(.insert, key: key, columns: [])
                            continue
                        }
                        let changed = group.columns.indices.filter { row[1 + keyColumns.count + $0] == .bool(true) }
                        result.note(
                            changed.isEmpty ? .unchanged : .update, key: key, columns: changed.map { group.columns[$0] }
                        )
                    }
                    _ = try simple(c, "DROP TABLE flowrun_dry_run")
                }
                _ = try simple(c, "ROLLBACK")
            } catch {
                _ = try? simple(c, "ROLLBACK")
                throw error
            }
            return result
        }

        struct Rows {
            var columns: [String] = []
            var rows: [[Value]] = []
            var affected = 0
            var objects: [Value] { rows.map { .object(.init(uniqueKeysWithValues: zip(columns, $0))) } }
        }

        /// Runs statements without parameters (several allowed, e.g. a schema); returns rows affected.
        func simple(_ c: OpaquePointer, _ sql: String) throws(NodeError) -> Int {
            guard let res = PQexec(c, sql) else { throw lost(c) }
            defer { PQclear(res) }
            try check(res, c)
            return Int(String(cString: PQcmdTuples(res))) ?? 0
        }

        /// The name of `sql` prepared on this session, preparing it on first use.
        func statement(_ c: OpaquePointer, _ sql: String, parameters: Int) throws(NodeError) -> String {
            if let name = prepared[sql] { return name }
            if prepared.count >= Self.maxPrepared {
                _ = try simple(c, "DEALLOCATE ALL")
                prepared.removeAll()
            }
            preparedCount += 1
            let name = "flowrun_\(preparedCount)"
            guard let res = PQprepare(c, name, sql, Int32(parameters), nil) else { throw lost(c) }
            defer { PQclear(res) }
            try check(res, c)
            prepared[sql] = name
            return name
        }

        /// Calls `body` with the parameters as libpq text values (NULL for null, t/f spelled out, an array
        /// the statement casts to an array type as an array literal: `PostgresArrays`).
        static func withParameters<R>(
            _ parameters: [Value], sql: String, _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R
        ) -> R {
            PostgresParameters(parameters, sql: sql).withPointers(body)
        }

        /// One prepared statement with many parameter sets, sent in libpq pipeline mode (one round trip
        /// instead of one per set) and applied atomically: the statements up to the pipeline's sync run in
        /// one implicit transaction, so a failing set rolls back the sets before it.
        func pipelined(_ c: OpaquePointer, _ sql: String, _ sets: [[Value]]) throws(NodeError) -> Int {
            guard let first = sets.first else { return 0 }
            let name = try statement(c, sql, parameters: first.count)
            guard PQenterPipelineMode(c) == 1 else { throw lost(c) }
            defer { PQexitPipelineMode(c) }
            for parameters in sets {
                let sent = Self.withParameters(parameters, sql: sql) {
                    PQsendQueryPrepared(c, name, Int32(parameters.count), $0, nil, nil, 0)
                }
                guard sent == 1 else { throw lost(c) }
            }
            guard PQpipelineSync(c) == 1 else { throw lost(c) }
            var affected = 0
            var failure: NodeError?
            var nulls = 0
            // Each statement's result is followed by one NULL; the sync point ends the pipeline.
            while true {
                guard let res = PQgetResult(c) else {
                    nulls += 1
                    if PQstatus(c) != CONNECTION_OK || nulls > 1 { throw lost(c) }
                    continue
                }
                nulls = 0
                defer { PQclear(res) }
                let status = PQresultStatus(res)
                if status == PGRES_PIPELINE_SYNC { break }
                if status == PGRES_PIPELINE_ABORTED { continue }
                do throws(NodeError) { try check(res, c) } catch { if failure == nil { failure = error } }
                affected += Int(String(cString: PQcmdTuples(res))) ?? 0
            }
            if let failure { throw failure }
            return affected
        }

        /// Runs one statement with bound parameters, as a cached prepared statement unless `prepare` is false
        /// (statements on temporary tables).
        func execute(_ c: OpaquePointer, _ sql: String, _ parameters: [Value], prepare: Bool = true) throws(NodeError)
            -> Rows
        {
            try execute(c, sql, PostgresParameters(parameters, sql: sql), prepare: prepare)
        }

        /// `execute` with the values of `rows` one after another as the parameters (a multi-row statement).
        func execute(_ c: OpaquePointer, _ sql: String, rows: ArraySlice<[Value]>, prepare: Bool = true)
            throws(NodeError) -> Rows
        {
            try execute(c, sql, PostgresParameters(rows: rows, sql: sql), prepare: prepare)
        }

        private func execute(
            _ c: OpaquePointer, _ sql: String, _ parameters: borrowing PostgresParameters, prepare: Bool
        ) throws(NodeError) -> Rows {
            let count = Int32(parameters.count)
            let name = prepare ? try statement(c, sql, parameters: parameters.count) : nil
            let res = parameters.withPointers {
                if let name { return PQexecPrepared(c, name, count, $0, nil, nil, 0) }
                return PQexecParams(c, sql, count, nil, $0, nil, nil, 0)
            }
            guard let res else { throw lost(c) }
            defer { PQclear(res) }
            try check(res, c)
            var out = Rows()
            out.affected = Int(String(cString: PQcmdTuples(res))) ?? 0
            let fields = PQnfields(res)
            out.columns = (0..<fields).map { String(cString: PQfname(res, $0)) }
            let types = (0..<fields).map { PQftype(res, $0) }
            for r in 0..<PQntuples(res) {
                var row: [Value] = []
                for f in 0..<fields {
                    if PQgetisnull(res, r, f) == 1 { row.append(.null); continue }
                    let text = PQgetvalue(res, r, f)!
                    // A bool (the upsert's `RETURNING (xmax = 0)`, a row each) needs no String.
                    if types[Int(f)] == 16 { row.append(.bool(text[0] == CChar(UInt8(ascii: "t")))); continue }
                    row.append(Self.value(String(cString: text), type: types[Int(f)]))
                }
                out.rows.append(row)
            }
            return out
        }

        /// Text-format values by type OID: ints, floats/numeric, bool, json/jsonb; anything else is text.
        static func value(_ text: String, type: Oid) -> Value {
            switch type {
            case 20, 21, 23, 26: return Int(text).map { .int($0) } ?? .string(text)
            case 700, 701: return Double(text).map { .double($0) } ?? .string(text)
            // numeric: an integer stays exact (beyond 64 bits as a bigInt), a fraction is a double.
            case 1700: return Value.integer(text) ?? Double(text).map { .double($0) } ?? .string(text)
            case 16: return .bool(text == "t")
            case 114, 3802: return (try? JSON.parse(text)) ?? .string(text)
            default: return .string(text)
            }
        }

        func check(_ res: OpaquePointer, _ c: OpaquePointer) throws(NodeError) {
            let status = PQresultStatus(res)
            guard status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK else { return }
            let state = PQresultErrorField(res, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message =
                PQresultErrorField(res, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
                ?? String(cString: PQerrorMessage(c))
            if Self.isConnectionLevel(state) || PQstatus(c) != CONNECTION_OK { needsReset = true }
            // Connection loss, serialization failures, deadlocks and resource shortages are worth retrying;
            // constraint and syntax errors are not.
            let retryable =
                state.hasPrefix("08") || state.hasPrefix("40") || state.hasPrefix("53") || state.hasPrefix("57P")
                || PQstatus(c) != CONNECTION_OK
            throw NodeError(
                "postgres \(state): \(message)", code: state.isEmpty ? "postgres" : "pg_\(state)", retryable: retryable)
        }

        func lost(_ c: OpaquePointer) -> NodeError {
            needsReset = true
            return NodeError(
                "postgres: \(String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines))",
                code: "connection", retryable: true)
        }
    }
}

/// A libpq notice as a log line: its severity as the level (`DEBUG`/`LOG` debug, `INFO`/`NOTICE` info,
/// `WARNING` warning) and its text without the severity prefix and trailing newline.
enum PostgresNotice {
    static func parse(_ text: String) -> (level: LogLevel, message: String) {
        var message = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var level = LogLevel.info
        if let colon = message.firstIndex(of: ":") {
            let severity = message[..<colon]
            let known: [String: LogLevel] = [
                "DEBUG": .debug, "LOG": .debug, "INFO": .info, "NOTICE": .info, "WARNING": .warning,
            ]
            if let l = known[String(severity)] {
                level = l
                message = message[message.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (level, message)
    }
}
