import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunHTTP

/// The http-server component: a real listening socket, requests sent with libcurl.
@Suite(.serialized) struct HTTPServerTests {
    let port = freePort()

    /// Loads `yaml`, starts serving its `api` node, and returns a way to send requests; stops at the end.
    func serve(_ yaml: String, _ body: (_ send: (HTTPRequest) throws -> HTTPResponse) throws -> Void) throws {
        let h = try FlowHarness(yaml, env: ["PORT": .string(String(port))])
        let index = try #require(h.runtime.program.nodeIndex("api"))
        let server = try #require(h.runtime.program.nodes[index].component as? ServingComponent)
        let runtime = h.runtime
        try server.serve(settings: try runtime.standingSettings(of: "api")) { message in
            do throws(RunLock.Busy) {
                _ = try runtime.run(.input(message, node: "api", port: nil), trigger: .webhook)
                return nil
            } catch { return error.description }
        }
        defer { server.stopServing() }
        try body { request in
            let done = DispatchSemaphore(value: 0)
            let box = HTTPClientTests.ResultBox()
            CurlEngine.shared.send(request) { result in
                box.result = result
                done.signal()
            }
            done.wait()
            return try box.result!.get()
        }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    let echo = """
        flow: echo
        secrets: {token: {default: s3cret}, hook: {default: hooksecret}}
        nodes:
          api:
            component: http-server
            settings:
              port: <<int(env.PORT)>>
              timeout: 500ms
              routes: [{method: GET, path: /users/:id}, {method: POST, path: /hook}, {path: /silent}]
              auth: {bearer: <<secrets.token>>}
          answer: {component: modify}
          quiet: {component: router, settings: {when: <<$.path == '/silent'>>, outputPort: silent}}
        edges:
          - {from: api.request, to: quiet.in}
          - from: quiet.default
            to: answer.in
            data: {requestId: <<$.requestId>>, statusCode: 201, headers: {X-Flow: echo}, json: {id: <<$.params.id ?? null>>, q: <<$.query>>, body: <<$.bodyJson>>}}
          - {from: answer.out, to: api.response}
        """

    @Test func answersFromTheFlowWithRoutesParamsAndQuery() throws {
        try serve(echo) { send in
            let r = try send(HTTPRequest(url: "\(base)/users/u%207?x=1", headers: [("Authorization", "Bearer s3cret")]))
            #expect(r.statusCode == 201)
            #expect(r.header("x-flow") == "echo")
            let json = try JSON.parse(bytes: r.body)
            #expect(json == ["id": "u 7", "q": ["x": "1"], "body": nil])
            let post = try send(
                HTTPRequest(
                    method: "POST", url: "\(base)/hook", headers: [("Authorization", "Bearer s3cret")],
                    body: Array(#"{"a": 1}"#.utf8)))
            #expect(try JSON.parse(bytes: post.body)["body"] == ["a": 1])
        }
    }

    @Test func rejectsUnknownRoutesWrongTokensAndSilentFlows() throws {
        try serve(echo) { send in
            #expect(
                try send(HTTPRequest(url: "\(base)/nope", headers: [("Authorization", "Bearer s3cret")])).statusCode
                    == 404)
            #expect(
                try send(
                    HTTPRequest(method: "DELETE", url: "\(base)/users/1", headers: [("Authorization", "Bearer s3cret")])
                ).statusCode == 404)
            #expect(
                try send(HTTPRequest(url: "\(base)/users/1", headers: [("Authorization", "Bearer wrong")])).statusCode
                    == 401)
            #expect(try send(HTTPRequest(url: "\(base)/users/1")).statusCode == 401)
            // The flow ends without answering: 500 right away rather than waiting for the timeout.
            let silent = try send(HTTPRequest(url: "\(base)/silent", headers: [("Authorization", "Bearer s3cret")]))
            #expect(silent.statusCode == 500)
        }
    }

    @Test func checksHMACSignatures() throws {
        let yaml = echo.replacingOccurrences(
            of: "auth: {bearer: <<secrets.token>>}", with: "auth: {hmacSecret: <<secrets.hook>>}")
        try serve(yaml) { send in
            let body = Array(#"{"event": "user.updated"}"#.utf8)
            let signature = "sha256=" + Digest.hex(Digest.hmacSHA256(key: Array("hooksecret".utf8), message: body))
            let ok = try send(
                HTTPRequest(method: "POST", url: "\(base)/hook", headers: [("X-Signature-256", signature)], body: body))
            #expect(ok.statusCode == 201)
            let bad = try send(
                HTTPRequest(
                    method: "POST", url: "\(base)/hook", headers: [("X-Signature-256", "sha256=00")], body: body))
            #expect(bad.statusCode == 401)
        }
    }

    @Test func hmacMatchesAKnownVector() {
        // RFC 4231 test case 2.
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
