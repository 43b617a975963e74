import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// A temporary directory with the demo CRM running (with fault knobs) and helpers to run the
/// user-sync job against it as a real process, into SQLite or PostgreSQL.
final class SyncEnvironment {
    let dir: URL
    let port = freePort()
    /// user-sync's webhook listener (USER_SYNC_WEBHOOK_PORT).
    let webhookPort = freePort()
    var env: [String: String]
    let databaseURL: String?
    private var mock: Process?

    init(databaseURL: String? = nil, faults: [String: String] = [:]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        env = ProcessInfo.processInfo.environment
        env["MOCK_CRM_PORT"] = String(port)
        env["API_BASE_URL"] = "http://127.0.0.1:\(port)"
        env["USER_SYNC_WEBHOOK_PORT"] = String(webhookPort)
        env["DATABASE_URL"] = databaseURL
        self.databaseURL = databaseURL
        try startMock(faults: faults)
    }

    deinit {
        stopMock()
        try? FileManager.default.removeItem(at: dir)
    }

    var flow: String { CLITests.repo.appendingPathComponent("flows/user-sync.yaml").path }
    var state: String { dir.appendingPathComponent("state.db").path }
    var sqlitePath: String { dir.appendingPathComponent(".flowrun/user-sync.db").path }

    /// (Re)starts the demo CRM with these fault knobs (MOCK_CRM_*).
    func startMock(faults: [String: String]) throws {
        stopMock()
        var mockEnv = env
        for (k, v) in faults { mockEnv[k] = v }
        let (p, banner) = try launch(
            [
                CLITests.repo.appendingPathComponent("flows/mock-crm.yaml").path, "--state",
                dir.appendingPathComponent("mock.db").path,
            ], environment: mockEnv, until: "listening")
        #expect(banner.contains("listening on 127.0.0.1:\(port)"))
        mock = p
    }

    /// Starts flowrun with `arguments` in this directory and returns once its standard error shows
    /// `banner` (or it exits), with what it printed so far.
    /// Starts flowrun and waits until its stderr shows `banner`; stdout goes to `stdout` (a file) if given.
    func launch(
        _ arguments: [String], environment: [String: String]? = nil, until banner: String, stdout: URL? = nil
    ) throws -> (Process, String) {
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = arguments
        p.environment = environment ?? env
        p.currentDirectoryURL = dir
        let err = Pipe()
        p.standardError = err
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: stdout)
        } else {
            p.standardOutput = FileHandle.nullDevice
        }
        try p.run()
        var printed = Data()
        while !String(decoding: printed, as: UTF8.self).contains(banner) {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed.append(chunk)
        }
        return (p, String(decoding: printed, as: UTF8.self))
    }

    func stopMock() {
        guard let mock else { return }
        mock.terminate()
        ChildProcess.waitForExit(mock, within: 30)
        self.mock = nil
    }

    /// `flowrun flows/user-sync.yaml --once --state ... <more>` with fast retries.
    func sync(_ more: [String] = []) throws -> CLITests.Result {
        try CLITests.run(
            [flow, "--once", "--state", state, "--set", "vars.retryDelay=20ms"] + more, in: dir, environment: env)
    }

    /// Any other flowrun command against this state store, e.g. `["dlq", "list"]`.
    func flowrun(_ arguments: [String]) throws -> CLITests.Result {
        try CLITests.run(arguments + ["--state", state], in: dir, environment: env)
    }

    /// The run records as `flowrun runs list --format json` prints them, newest first.
    func runs() throws -> [Value] {
        try JSON.parse(try flowrun(["runs", "list", "--format", "json"]).stdout).arrayValue ?? []
    }

    /// Polls `runs()` (every 0.1 s, for at most `seconds`) for the newest run that matches; null when none did.
    func waitForRun(_ seconds: Double = 60, where matches: (Value) -> Bool) -> Value {
        var found: Value = nil
        _ = CLITests.waitFor(seconds) {
            // `runs list` may fail while the flow's process holds the store: polled again.
            found = (try? runs())?.first(where: matches) ?? nil
            return !found.isNull
        }
        return found
    }

    /// Rows of a query on the sync's database (SQLite file or PostgreSQL).
    func query(_ sql: String) throws -> [[Value]] {
        if let databaseURL { return try PostgresTesting.query(databaseURL, sql) }
        return try SQLiteConnection(path: sqlitePath).query(sql, []).rows
    }

    /// A checksum of the users table's content, ordered by key.
    func usersChecksum() throws -> String {
        let rows = try query(
            "SELECT external_id, email, name, status, metadata, updated_at FROM users ORDER BY external_id")
        return Digest.hex(Digest.sha256(Array(JSON.serialize(.array(rows.map { .array($0) })).utf8)))
    }

    /// The checksum the users table has after every one of the first `total` users arrived intact.
    static func expectedChecksum(total: Int = 250, without: Set<String> = []) throws -> String {
        let names = ["Ann", "Bob", "Cleo", "Dev"]
        let start = 1_704_067_200  // 2024-01-01T00:00:00Z
        let rows: [Value] = (0..<total).map { i in
            let updated = Time.rfc3339(nanos: (start + i * 3600) * 1_000_000_000)
            return [
                .string("u\(i)"), .string("user\(i)@example.com"), .string("\(names[i % 4]) Lee\(i)"),
                .string(i % 3 != 0 ? "active" : "inactive"),
                .string(#"{"source":"crm","original_id":"u\#(i)"}"#), .string(updated),
            ]
        }
        let sorted = rows.filter { !without.contains($0[0].stringValue ?? "") }.sorted {
            ($0[0].stringValue ?? "") < ($1[0].stringValue ?? "")
        }
        return Digest.hex(Digest.sha256(Array(JSON.serialize(.array(sorted)).utf8)))
    }
}

extension CLITests {
    /// Polls `condition` every 0.1 s until it holds (true) or `seconds` pass (false).
    static func waitFor(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    struct HTTPResult {
        let status: Int
        let body: String
    }

    /// One HTTP request through flowrun's own http-client (no retries).
    static func http(_ method: String, _ url: String, headers: [String: String] = [:]) throws -> HTTPResult {
        let headerText = headers.map { "'\($0.key)': '\($0.value)'" }.joined(separator: ", ")
        let h = try FlowHarness(
            """
            flow: request
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              client: {component: http-client, settings: {retryCount: 0, timeout: 10s}}
              failed: {component: modify}
            edges:
              - {from: start.out, to: client.request, data: {method: \(method), url: '\(url)', headers: {\(headerText)}}}
              - {from: client.error, to: failed.in}
            """)
        h.run()
        if let response = h.messages("client.response").first {
            return HTTPResult(
                status: response["response"]["statusCode"].intValue ?? 0,
                body: response["response"]["body"].stringValue ?? "")
        }
        let error = h.messages("failed.out").first ?? nil
        let code = error["error"]["code"].stringValue ?? ""
        return HTTPResult(
            status: code.hasPrefix("http_") ? Int(code.dropFirst(5)) ?? 0 : 0, body: JSON.serialize(error))
    }
}
