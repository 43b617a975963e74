import Foundation
import FlowrunTesting
import Testing

/// flows/examples/link-pagination.yaml follows RFC 5988 `Link` headers with one regex match per page
/// (issue 15, item 10), against a real HTTP server that paginates that way.
@Suite struct LinkPaginationTests {
    static let server = """
        import http.server, json, sys
        port = int(sys.argv[1])
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                page = int(self.path.split("page=")[1])
                body = json.dumps({"page": page}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if page < 3:
                    base = f"http://127.0.0.1:{port}/items?page="
                    self.send_header("Link", f'<{base}1>; rel="first", <{base}{page + 1}>; rel="next", <{base}3>; rel="last"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args): pass
        http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
        """

    @Test(.enabled(if: PythonServer.python != nil, "\(PythonServer.skipReason)"))
    func theExampleFollowsNextLinksToTheLastPage() throws {
        let server = try PythonServer(["-c", Self.server])
        defer { server.stop() }
        let port = server.port

        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flowrun-link-\(UUID().uuidString).db")
        defer { try? FileManager.default.removeItem(at: state) }
        var env = ProcessInfo.processInfo.environment
        env["API_BASE_URL"] = "http://127.0.0.1:\(port)"
        let r = try CLITests.run(
            ["run", "flows/examples/link-pagination.yaml", "--once", "--state", state.path], environment: env)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr) server: \(server.log)")
        #expect((r.stdout + r.stderr).contains("link-pagination/finished"), "\(r.stdout) \(r.stderr)")
        #expect((r.stdout + r.stderr).contains(#"{"page":3,"next":null}"#), "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("requests 3"), "\(r.stdout)")
    }
}

extension LinkPaginationTests {
    /// A bad regex literal in a flow is reported by `flowrun check` with file:line:col, before anything runs.
    @Test func aBadRegexLiteralIsALoadTimeDiagnostic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-re-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml")
        try """
        flow: bad
        nodes:
          start: {component: ticker, settings: {interval: 1h, emitOnStart: true, maxEmissions: 1}}
          show: {component: log}
        edges:
          - {from: start.out, to: show.in, data: {m: "<<'x'.match(/a(b/)>>"}}
        """.write(to: file, atomically: true, encoding: .utf8)
        let r = try CLITests.run(["check", file.path])
        #expect(r.status != 0)
        #expect(
            r.stdout.contains("bad.yaml:6:59: error[E119]: invalid regular expression /a(b/")
                || r.stderr.contains("bad.yaml:6:59: error[E119]: invalid regular expression /a(b/"),
            "\(r.stdout) \(r.stderr)")
    }
}
