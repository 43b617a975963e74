import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// A temporary directory with the contacts test API (scripts/lib/contacts_api.py, a real HTTP server)
/// running, a local contacts table in SQLite or PostgreSQL, and helpers to run the contacts flows as a
/// user would (the real binary) and to read and change both sides.
final class ContactsEnvironment {
    struct APIError: Error, CustomStringConvertible {
        let description: String
    }

    let dir: URL
    var env: [String: String]
    let databaseURL: String?
    /// The contacts test API; its log is for the messages of failed checks.
    let server: PythonServer
    var port: Int { server.port }

    /// FLOWRUN_TEST_PYTHON (scripts/test sets it); the tests are skipped with a reason without it.
    static var python: String? { PythonServer.python }
    static let skipReason = "needs FLOWRUN_TEST_PYTHON (scripts/test sets it) to run the contacts test API"

    init(databaseURL: String? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-contacts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent(".flowrun"), withIntermediateDirectories: true)
        server = try PythonServer([CLITests.repo.appendingPathComponent("scripts/lib/contacts_api.py").path])
        env = ProcessInfo.processInfo.environment
        env["API_BASE_URL"] = server.base
        env["DATABASE_URL"] = databaseURL
        self.databaseURL = databaseURL
        let table =
            databaseURL == nil
            ? "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, name TEXT, updated_at TEXT NOT NULL)"
            : "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, name TEXT, updated_at TIMESTAMPTZ NOT NULL)"
        try execute(table)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    var state: String { dir.appendingPathComponent("state.db").path }

    /// `flowrun flows/NAME.yaml --once --state ...` with fast retries, and the run record it left.
    func run(_ flow: String, _ more: [String] = []) throws -> (CLITests.Result, RunRecord?) {
        let result = try CLITests.run(
            [CLITests.repo.appendingPathComponent("flows/\(flow).yaml").path, "--once", "--state", state]
                + ["--set", "vars.retryDelay=20ms"] + more, in: dir, environment: env)
        return (result, try SQLiteStore(path: state).runs(flow: flow, limit: 1).first)
    }

    /// Any other flowrun command against this state store, e.g. `["dlq", "list"]`.
    func flowrun(_ arguments: [String]) throws -> CLITests.Result {
        try CLITests.run(arguments + ["--state", state], in: dir, environment: env)
    }

    // MARK: The local side

    func execute(_ sql: String) throws {
        if let databaseURL {
            _ = try PostgresTesting.query(databaseURL, sql)
        } else {
            _ = try SQLiteConnection(path: dir.appendingPathComponent(".flowrun/contacts.db").path).query(sql, [])
        }
    }

    /// The local contacts by id: [email, name].
    func local() throws -> [Int: [Value]] {
        let sql = "SELECT id, email, name FROM contacts ORDER BY id"
        let rows =
            try databaseURL.map { try PostgresTesting.query($0, sql) }
            ?? SQLiteConnection(path: dir.appendingPathComponent(".flowrun/contacts.db").path).query(sql, []).rows
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0].intValue ?? -1, [$0[1], $0[2]]) })
    }

    /// RFC 3339 text for SQLite, the same text cast for PostgreSQL.
    func time(_ text: String) -> String { databaseURL == nil ? "'\(text)'" : "'\(text)'::timestamptz" }

    // MARK: The remote side

    /// One request to the test API through flowrun's http-client (no retries); the answer's JSON.
    func api(_ method: String, _ path: String, _ json: Value = nil) throws -> Value {
        let h = try FlowHarness(
            """
            flow: api
            vars: {url: '', method: GET, json: null}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              client: {component: http-client, settings: {retryCount: 0, timeout: 10s}}
            edges:
              - {from: start.out, to: client.request, data: {method: <<vars.method>>, url: <<vars.url>>, json: <<vars.json>>}}
            """,
            vars: ["url": .string("http://127.0.0.1:\(port)\(path)"), "method": .string(method), "json": json])
        let record = h.run()
        guard let response = h.messages("client.response").first else {
            throw APIError(description: "\(method) \(path): \(record.errors.map(\.message))\nserver: \(server.log)")
        }
        return response["response"]["bodyJson"]
    }

    /// The remote contacts by id.
    func remote() throws -> Value.Object { try api("GET", "/_control/contacts").objectValue ?? [:] }
}
