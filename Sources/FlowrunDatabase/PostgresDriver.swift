import CPostgres
import Dispatch
import FlowrunRuntime
import FlowrunValue
import Foundation

/// The PostgreSQL driver over libpq: a pool of `maxOpenConns` connections, each used only from its
/// own serial queue (blocking libpq calls never run on Swift's cooperative pool). Parameters are
/// always bound (`PQexecParams`), never spliced.
final class PostgresDriver: @unchecked Sendable {
    private let url: String
    private let connections: [Connection]
    private let lock = NSLock()
    private var busy: [Int]

    init(url: String, size: Int) {
        self.url = url
        connections = (0..<max(1, size)).map { Connection(url: url, index: $0) }
        busy = Array(repeating: 0, count: connections.count)
    }

    func perform(
        _ request: DatabaseRequest, dryRun: Bool, done: @escaping @Sendable (Result<DatabaseResult, NodeError>) -> Void
    ) {
        let i = lock.withLock {
            let i = busy.indices.min { busy[$0] < busy[$1] }!
            busy[i] += 1
            return i
        }
        connections[i].queue.async {
            let result: Result<DatabaseResult, NodeError>
            do throws(NodeError) { result = .success(try self.connections[i].run(request, dryRun: dryRun)) } catch {
                result = .failure(error)
            }
            self.lock.withLock { self.busy[i] -= 1 }
            done(result)
        }
    }

    final class Connection: @unchecked Sendable {
        let url: String
        let queue: DispatchQueue
        private var conn: OpaquePointer?

        init(url: String, index: Int) {
            self.url = url
            queue = DispatchQueue(label: "flowrun-postgres-\(index)")
        }

        deinit { PQfinish(conn) }

        /// An open connection, reconnecting when the previous one broke (nothing was sent on it yet).
        func connection() throws(NodeError) -> OpaquePointer {
            if let conn, PQstatus(conn) == CONNECTION_OK { return conn }
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
            flowrun_pq_silence_notices(c)
            conn = c
            return c
        }

        /// Runs the request; a read that failed because the connection broke (server restart, killed
        /// backend) is retried once on a new connection. Writes are not retried: they may have happened.
        func run(_ request: DatabaseRequest, dryRun: Bool) throws(NodeError) -> DatabaseResult {
            do {
                return try runOnce(request, dryRun: dryRun)
            } catch {
                guard request.operation == .query, let conn, PQstatus(conn) != CONNECTION_OK else { throw error }
                return try runOnce(request, dryRun: dryRun)
            }
        }

        func runOnce(_ request: DatabaseRequest, dryRun: Bool) throws(NodeError) -> DatabaseResult {
            let c = try connection()
            switch request.operation {
            case .query:
                return DatabaseResult(rows: try execute(c, request.query, request.parameters).objects)
            case .execute:
                if dryRun { return DatabaseResult(dryRun: true) }
                if request.parameters.isEmpty {
                    return DatabaseResult(rowsAffected: try simple(c, request.query))
                }
                guard request.transaction else {
                    return DatabaseResult(rowsAffected: try execute(c, request.query, request.parameters).affected)
                }
                _ = try simple(c, "BEGIN")
                do {
                    let affected = try execute(c, request.query, request.parameters).affected
                    _ = try simple(c, "COMMIT")
                    return DatabaseResult(rowsAffected: affected)
                } catch {
                    _ = try? simple(c, "ROLLBACK")
                    throw error
                }
            case .batch:
                if dryRun { return DatabaseResult(dryRun: true) }
                _ = try simple(c, "BEGIN")
                do {
                    var affected = 0
                    for parameters in request.batch { affected += try execute(c, request.query, parameters).affected }
                    _ = try simple(c, "COMMIT")
                    return DatabaseResult(rowsAffected: affected)
                } catch {
                    _ = try? simple(c, "ROLLBACK")
                    throw error
                }
            case .upsert:
                return try upsert(c, request, dryRun: dryRun)
            }
        }

        /// One `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM ...` per column set, in one
        /// transaction; `RETURNING (xmax = 0)` tells inserts from updates, and rows it does not return were
        /// unchanged. A dry run executes the same statements and rolls them back.
        func upsert(_ c: OpaquePointer, _ request: DatabaseRequest, dryRun: Bool) throws(NodeError) -> DatabaseResult {
            let plan = request.upsert!
            var result = DatabaseResult(dryRun: dryRun)
            _ = try simple(c, "BEGIN")
            do {
                for group in plan.plan.groups {
                    let columns = group.columns.map { "\"\($0)\"" }
                    let keyIndexes = plan.plan.keys.map { group.columns.firstIndex(of: $0)! }
                    let nonKeys = columns.enumerated().filter { !keyIndexes.contains($0.offset) }.map(\.element)
                    let conflict =
                        nonKeys.isEmpty
                        ? "DO NOTHING"
                        : "DO UPDATE SET " + nonKeys.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                            + " WHERE (" + nonKeys.map { "\(plan.quotedTable).\($0)" }.joined(separator: ", ")
                            + ") IS DISTINCT FROM ("
                            + nonKeys.map { "EXCLUDED.\($0)" }.joined(separator: ", ") + ")"
                    let rowsPerStatement = max(1, 30_000 / columns.count)
                    var start = 0
                    while start < group.rows.count {
                        let slice = group.rows[start..<min(group.rows.count, start + rowsPerStatement)]
                        var n = 0
                        let tuples = slice.map { row in
                            "("
                                + row.map { _ in
                                    n += 1; return "$\(n)"
                                }.joined(separator: ", ") + ")"
                        }
                        let sql =
                            "INSERT INTO \(plan.quotedTable) (\(columns.joined(separator: ", "))) VALUES "
                            + tuples.joined(separator: ", ")
                            + " ON CONFLICT (\(plan.quotedKeys.joined(separator: ", "))) "
                            + conflict + " RETURNING (xmax = 0) AS inserted"
                        let returned = try execute(c, sql, Array(slice.joined()))
                        for row in returned.rows {
                            if row.first == .bool(true) { result.created += 1 } else { result.updated += 1 }
                        }
                        result.unchanged += slice.count - returned.rows.count
                        start += rowsPerStatement
                    }
                }
                _ = try simple(c, dryRun ? "ROLLBACK" : "COMMIT")
            } catch {
                _ = try? simple(c, "ROLLBACK")
                throw error
            }
            result.rowsAffected = dryRun ? 0 : result.created + result.updated
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

        func execute(_ c: OpaquePointer, _ sql: String, _ parameters: [Value]) throws(NodeError) -> Rows {
            let texts: [String?] = parameters.map { p in
                switch p {
                case .null: nil
                case .bool(let b): b ? "true" : "false"
                default: p.interpolated
                }
            }
            var cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
            defer { for p in cStrings { free(p) } }
            let res: OpaquePointer? = cStrings.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, buffer.count)) {
                    PQexecParams(c, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : $0, nil, nil, 0)
                }
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
                    row.append(Self.value(String(cString: PQgetvalue(res, r, f)), type: types[Int(f)]))
                }
                out.rows.append(row)
            }
            return out
        }

        /// Text-format values by type OID: ints, floats/numeric, bool, json/jsonb; anything else is text.
        static func value(_ text: String, type: Oid) -> Value {
            switch type {
            case 20, 21, 23, 26: return Int(text).map { .int($0) } ?? .string(text)
            case 700, 701, 1700: return Double(text).map { .double($0) } ?? .string(text)
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
            // Connection loss, serialization failures, deadlocks and resource shortages are worth retrying;
            // constraint and syntax errors are not.
            let retryable =
                state.hasPrefix("08") || state.hasPrefix("40") || state.hasPrefix("53") || state.hasPrefix("57P")
                || PQstatus(c) != CONNECTION_OK
            throw NodeError(
                "postgres \(state): \(message)", code: state.isEmpty ? "postgres" : "pg_\(state)", retryable: retryable)
        }

        func lost(_ c: OpaquePointer) -> NodeError {
            NodeError(
                "postgres: \(String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines))",
                code: "connection", retryable: true)
        }
    }
}
