import Flowrun
import Foundation
import FlowrunTesting
import Testing

/// Issue 13 item 11: a secret never leaves a run, whichever way it escapes into an error or a payload.
/// Each leak path is a real flow run by the real binary; every place the text could reach is read back:
/// the summary and text logs, JSON logs, `runs --format json`, `dlq list`, the state store's files and
/// (in `serve`) `GET /api/runs`.
@Suite(.serialized) struct SecretRedactionTests {
    static let secret = "Zq7s3cr3tT0ken"

    /// The forms of the secret that must never appear anywhere.
    static let forbidden: [String] = {
        let s = secret
        func b64(_ t: String) -> String { Data(t.utf8).base64EncodedString() }
        return [
            s, s.lowercased(), s.uppercased(), String(s.prefix(8)), b64(s), b64("user:" + s), b64(s + ":"),
            b64("user:" + s).replacingOccurrences(of: "=", with: ""),
        ]
    }()

    static func leaks(_ text: String) -> [String] { forbidden.filter { text.contains($0) } }

    enum Path: String, CaseIterable, CustomTestStringConvertible {
        case expressionError, transportHost, httpErrorEcho, authorizationHeader, basicAuthBase64, upperCase
        var testDescription: String { rawValue }
    }

    /// A flow whose node `x` fails through `path`, its error parked in the dead-letter queue and logged.
    static func flow(_ path: Path, echoPort: Int) -> String {
        let failing: String
        switch path {
        case .expressionError:
            failing = """
                  x: {component: modify}
                edges:
                  - {from: start.out, to: x.in, data: {n: <<int(secrets.token)>>}}
                """
        case .basicAuthBase64:
            failing = """
                  x: {component: modify}
                edges:
                  - {from: start.out, to: x.in, data: {n: "<<int('Basic ' + base64('user:' + secrets.token))>>"}}
                """
        case .upperCase:
            failing = """
                  x: {component: modify}
                edges:
                  - {from: start.out, to: x.in, data: {n: <<int(upper(secrets.token))>>}}
                """
        case .transportHost:
            failing = """
                  x: {component: http-client, settings: {retryCount: 0, timeout: 5s}}
                edges:
                  - {from: start.out, to: x.request, data: {url: "http://<<secrets.token>>.localhost:1/users"}}
                """
        case .httpErrorEcho:
            failing = """
                  x: {component: http-client, settings: {retryCount: 0, timeout: 5s}}
                edges:
                  - from: start.out
                    to: x.request
                    data:
                      url: "http://127.0.0.1:\(echoPort)/v1/<<secrets.token>>/users?key=<<secrets.token>>"
                      headers: {Authorization: "Bearer <<secrets.token>>"}
                """
        case .authorizationHeader:
            failing = """
                  build: {component: modify}
                  x: {component: modify}
                edges:
                  - from: start.out
                    to: build.in
                    data:
                      d: 0
                      headers:
                        Authorization: "Bearer <<secrets.token>>"
                        X-Trace: "<<secrets.token>>-trace"
                        Cookie: session=plain-cookie-value
                        Accept: application/json
                  - {from: build.out, to: x.in, data: {n: <<1 / $.d>>}}
                """
        }
        return """
            flow: leak-\(path.rawValue.lowercased())
            secrets:
              token: {env: LEAK_TOKEN}
            run: {retries: 0}
            nodes:
              start: {component: ticker, settings: {interval: 1h, emitOnStart: true, maxEmissions: 1}}
              dlq: {component: dead-letter, settings: {maxAttempts: 1}}
              shout: {component: log, settings: {level: error, format: json}}
            \(failing)
              - {from: x.error, to: dlq.in, data: {key: k1, payload: <<$.input>>, error: <<$.error>>}}
              - {from: x.error, to: shout.in}
            """
    }

    /// A real HTTP server answering 502 with a body that echoes the path and the Authorization header
    /// (as many APIs do), after padding that puts the secret across the client's 200-character excerpt.
    static func startEchoServer() throws -> (Process, Int) {
        let script = """
            import http.server, os, sys, threading
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = ("x" * 180 + " no such path: " + self.path + " auth=" + str(self.headers.get("Authorization"))).encode()
                    self.send_response(502)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
            s.serve_forever()
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = Pipe()
        try p.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return (p, port)
    }

    static var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["LEAK_TOKEN": secret]) { _, new in new }
    }

    /// Every file of the state store (SQLite keeps recent writes in its WAL file).
    static func storeBytes(_ dir: URL) throws -> String {
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("state.db") }
        return try files.map { String(decoding: try Data(contentsOf: dir.appendingPathComponent($0)), as: UTF8.self) }
            .joined(separator: "\n")
    }

    @Test(arguments: Path.allCases) func nothingLeaks(_ path: Path) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-leak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (echo, port) = try Self.startEchoServer()
        defer { echo.terminate() }
        let file = try writeFile(dir, "leak.yaml", Self.flow(path, echoPort: port))
        let state = dir.appendingPathComponent("state.db").path
        let env = Self.environment

        let text = try await offPool { try CLITests.run([file, "--once", "--state", state], environment: env) }
        #expect(text.status == 3 || text.status == 1, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("leak-"), "the summary: \(text.stdout)")
        #expect(Self.leaks(text.stdout + text.stderr) == [], "summary and text logs: \(text.stdout)\(text.stderr)")
        let json = try await offPool {
            try CLITests.run([file, "--once", "--state", state, "--log-format", "json"], environment: env)
        }
        #expect(json.stderr.contains("{"), "JSON logs: \(json.stderr)")
        #expect(Self.leaks(json.stdout + json.stderr) == [], "JSON logs: \(json.stdout)\(json.stderr)")

        let runs = try await offPool { try CLITests.run(["runs", "--state", state, "--format", "json"]) }
        let records = try JSON.parse(runs.stdout)
        #expect(records.arrayValue?.count == 2)
        #expect(records[0]["errors"].arrayValue?.isEmpty == false, "\(runs.stdout)")
        #expect(Self.leaks(runs.stdout) == [], "run records: \(runs.stdout)")

        let dlq = try await offPool { try CLITests.run(["dlq", "list", "--state", state, "--format", "json"]) }
        let items = try JSON.parse(dlq.stdout)
        #expect(items.arrayValue?.count == 1, "\(dlq.stdout)\(dlq.stderr)")
        #expect(Self.leaks(dlq.stdout) == [], "dead letters: \(dlq.stdout)")
        if path == .authorizationHeader {
            let headers = items[0]["payload"]["headers"]
            #expect(headers["Authorization"] == "***")
            #expect(headers["X-Trace"] == "***")
            #expect(headers["Cookie"] == "***")
            #expect(headers["Accept"] == "application/json")
            #expect(!dlq.stdout.contains("plain-cookie-value"))
        }
        #expect(Self.leaks(try Self.storeBytes(dir)) == [], "the state store's files")
    }

    /// The error port carries redacted messages: a flow that writes its errors to a table (as user-sync's
    /// sync_logs does) stores no secret.
    @Test func errorMessagesOnTheErrorPortAreRedacted() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-leak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("errors.db").path
        let file = try writeFile(
            dir, "errors.yaml",
            """
            flow: leak-error-port
            secrets:
              token: {env: LEAK_TOKEN}
            run: {retries: 0}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              x: {component: modify}
              ddl: {component: database, settings: {driver: sqlite, url: 'sqlite:\(db)'}}
              save: {component: database, settings: {driver: sqlite, url: 'sqlite:\(db)'}}
            edges:
              - {from: start.out, to: x.in, data: {n: "<<int('Basic ' + base64('user:' + secrets.token))>>"}}
              - {from: x.error, to: ddl.request, data: {query: 'CREATE TABLE IF NOT EXISTS errors (message TEXT)', context: <<$.error.message>>}}
              - {from: ddl.response, to: save.request, data: {query: 'INSERT INTO errors VALUES (?)', parameters: [<<$.context>>]}}
            """)
        let r = try await offPool {
            try CLITests.run(
                [file, "--once", "--state", dir.appendingPathComponent("state.db").path], environment: Self.environment)
        }
        #expect(r.status != 2, "\(r.stdout)\(r.stderr)")
        let stored = String(decoding: try Data(contentsOf: URL(fileURLWithPath: db)), as: UTF8.self)
        #expect(stored.contains("is not a number"), "the error message was stored")
        #expect(Self.leaks(stored) == [], "the table the flow wrote its errors to")
    }

    /// `flowrun serve` with every leaking flow: its logs and the admin API's run list and run records.
    @Test func serveAndTheAdminAPILeakNothing() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-leak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (echo, echoPort) = try Self.startEchoServer()
        defer { echo.terminate() }
        let flows = dir.appendingPathComponent("flows")
        for path in Path.allCases {
            _ = try writeFile(flows, "\(path.rawValue).yaml", Self.flow(path, echoPort: echoPort))
        }
        let state = dir.appendingPathComponent("state.db").path
        let logFile = dir.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let port = freePort()
        let admin = "http://127.0.0.1:\(port)"
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = [
            "serve", flows.path, "--admin", "127.0.0.1:\(port)", "--admin-token", "adm1n", "--grace", "1",
            "--state", state, "--log-format", "json",
        ]
        p.environment = Self.environment
        let log = try FileHandle(forWritingTo: logFile)
        p.standardOutput = log
        p.standardError = log
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        let auth = ["Authorization": "Bearer adm1n"]
        let (settled, body) = try await offPool {
            var body = ""
            let settled = try CLITests.waitFor(30) {
                guard let r = try? CLITests.http("GET", "\(admin)/api/runs", headers: auth), r.status == 200 else {
                    return false
                }
                body = r.body
                let runs = try JSON.parse(r.body).arrayValue ?? []
                return runs.count == Path.allCases.count && runs.allSatisfy { $0["status"] != "running" }
            }
            return (settled, body)
        }
        #expect(settled, "\(body)")
        #expect(Self.leaks(body) == [], "GET /api/runs: \(body)")
        for run in try JSON.parse(body).arrayValue ?? [] {
            let url = "\(admin)/api/runs/\(run["id"].stringValue ?? "")"
            let one = try await offPool { try CLITests.http("GET", url, headers: auth) }
            #expect(one.status == 200)
            #expect(Self.leaks(one.body) == [], "GET /api/runs/ID: \(one.body)")
        }
        p.terminate()
        await offPool { _ = ChildProcess.exitStatus(p) }
        let logs = String(decoding: try Data(contentsOf: logFile), as: UTF8.self)
        #expect(logs.contains("leak-"), "serve logs: \(logs)")
        #expect(Self.leaks(logs) == [], "serve logs: \(logs)")
        #expect(Self.leaks(try Self.storeBytes(dir)) == [], "the state store's files")
    }
}

/// Runs blocking work (a process, a poll) on a Dispatch thread and awaits it, so that a test does not hold
/// one of the two threads of Swift's cooperative pool, which in-process listeners (the http-server tests)
/// need to answer.
func offPool<T>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

func offPool<T>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
