import Foundation
import Flowrun

/// Helpers for tests against the PostgreSQL cluster that scripts/test starts.
public enum PostgresTesting {
    /// FLOWRUN_TEST_DATABASE_URL, when a cluster is available.
    public static var url: String? { Globals.processEnvironment()["FLOWRUN_TEST_DATABASE_URL"].stringValue }

    /// Runs one statement through a database node and returns the result rows (column values in order);
    /// throws when it fails.
    public static func query(_ url: String, _ sql: String) throws -> [[Value]] {
        let h = try FlowHarness(
            """
            flow: query
            vars: {url: '', sql: ''}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              db: {component: database, settings: {url: <<vars.url>>}}
            edges:
              - {from: start.out, to: db.request, data: {query: <<vars.sql>>}}
            """, vars: ["url": .string(url), "sql": .string(sql)])
        let record = h.run()
        guard record.status == .completed else {
            throw FlowHarness.LoadError(description: "\(sql) failed: \(record.errors.map(\.message))")
        }
        return (h.messages("db.response").first?["rows"].arrayValue ?? []).map { row in
            guard case .object(let o) = row else { return [] }
            return Array(o.values)
        }
    }

    /// Creates a database of its own for one test (so counts never depend on other tests) and
    /// returns its URL.
    public static func freshDatabase(prefix: String) throws -> String {
        guard let base = url else { throw FlowHarness.LoadError(description: "no FLOWRUN_TEST_DATABASE_URL") }
        var rng = SystemRandomNumberGenerator()
        let name = prefix + "_" + String(UInt32.random(in: 0...UInt32.max, using: &rng), radix: 16)
        _ = try query(base, "CREATE DATABASE \(name)")
        return base.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/"
            + name
    }
}

/// A PostgreSQL cluster of one test's own (initdb into a temporary directory, a free port), for tests
/// that stop or restart the server. Runs the server as `postgres` when the tests run as root.
public final class PrivateCluster {
    public let url: String
    let bin: String
    let dir: String
    let port: Int
    let asPostgres: Bool

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }).last else {
            throw Unavailable(description: "no PostgreSQL server installed")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        dir = NSTemporaryDirectory() + "flowrun-private-pg-" + UUID().uuidString.prefix(8)
        asPostgres = getuid() == 0
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if asPostgres { _ = try Self.shell(["chown", "postgres", dir]) }
        port = try Self.freePort()
        url = "postgres://postgres@127.0.0.1:\(port)/postgres"
        try pg("initdb", "-D", dir + "/data", "-A", "trust", "-U", "postgres")
        try start()
    }

    deinit {
        try? pg("pg_ctl", "-D", dir + "/data", "-m", "immediate", "stop")
        try? FileManager.default.removeItem(atPath: dir)
    }

    public func start() throws {
        try pg(
            "pg_ctl", "-D", dir + "/data", "-l", dir + "/log", "-w", "-o",
            "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1", "start")
    }

    public func stop() throws { try pg("pg_ctl", "-D", dir + "/data", "-m", "fast", "-w", "stop") }

    /// A fast restart: every session is disconnected, as in a real server restart.
    public func restart() throws {
        try stop()
        try start()
    }

    func pg(_ tool: String, _ arguments: String...) throws {
        let command = [bin + "/" + tool] + arguments
        let (status, output) = try Self.shell(asPostgres ? ["runuser", "-u", "postgres", "--"] + command : command)
        if status != 0 { throw Unavailable(description: "\(tool) failed (\(status)): \(output)") }
    }

    /// Runs a command with posix_spawn and waitpid, its output in a file (not a pipe: the server that
    /// pg_ctl starts would hold a pipe open forever, and Foundation's Process misses the exit of a
    /// child whose grandchild daemonizes).
    static func shell(_ arguments: [String]) throws -> (Int32, String) {
        let path =
            arguments[0].hasPrefix("/")
            ? arguments[0]
            : ["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"].map { $0 + arguments[0] }
                .first { FileManager.default.isExecutableFile(atPath: $0) } ?? arguments[0]
        let log = NSTemporaryDirectory() + "flowrun-shell-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Unavailable(description: "cannot run \(path): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exited, output)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard bound else { throw Unavailable(description: "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
