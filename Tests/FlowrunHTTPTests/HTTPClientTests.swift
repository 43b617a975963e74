import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunHTTP

/// The http-client against a real local HTTP server (Tests/FlowrunHTTPTests/test_server.py).
@Suite(.serialized, .enabled(if: PythonServer.python != nil, "\(PythonServer.skipReason)"))
struct HTTPClientTests {
    /// One server for the suite; it exits when the test process ends (it reads its standard input to the end).
    static let server = try! PythonServer([
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("test_server.py").path
    ])

    var base: String { "http://127.0.0.1:\(Self.server.port)" }

    /// A flow that sends each of `requests` (JSON objects) and collects responses and errors.
    func run(_ requests: String, settings: String = "{}", dryRun: Bool = false) throws -> (FlowHarness, RunRecord) {
        let h = try FlowHarness(
            """
            flow: http
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {requests: \(requests)}}}
              each: {component: iterator}
              http: {component: http-client, settings: \(settings)}
              ok: {component: modify}
              failed: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.requests>>}}
              - {from: each.item, to: http.request, data: <<{...$.item, context: {i: $.index}}>>}
              - {from: http.response, to: ok.in}
              - {from: http.error, to: failed.in}
            """, dryRun: dryRun)
        return (h, h.run())
    }

    func count(_ path: String) throws -> Int {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        CurlEngine.shared.send(HTTPRequest(url: "\(base)/count")) { result in
            box.result = result
            done.signal()
        }
        done.wait()
        let body = try #require(try box.result?.get().body)
        return try JSON.parse(bytes: body)[path].intValue ?? 0
    }

    final class ResultBox: @unchecked Sendable {
        var result: Result<HTTPResponse, TransportError>?
    }

    @Test func getBuildsURLQueryAndHeaders() throws {
        let (h, record) = try run(
            "[{url: /echo/a, queryParams: {q: 'a b&c', page: 2, empty: '', skip: null}, headers: {X-Two: two}}]",
            settings: "{baseUrl: '\(base)/', defaultHeaders: {X-One: one, X-Two: default}}")
        #expect(record.status == .completed, "\(record.errors)")
        let response = try #require(h.messages("ok.out").first)
        #expect(response["response"]["statusCode"] == 200)
        let echo = response["response"]["bodyJson"]
        #expect(echo["method"] == "GET")
        #expect(echo["query"] == "q=a%20b%26c&page=2&empty=")
        #expect(echo["headers"]["x-one"] == "one")
        #expect(echo["headers"]["x-two"] == "two")
        #expect(response["context"] == ["i": 0])
        #expect(response["response"]["headers"]["content-type"] == "application/json")
    }

    @Test func postSendsJSON() throws {
        let (h, _) = try run("[{method: POST, url: '\(base)/echo/b', json: {a: [1, 'x']}}]")
        let echo = try #require(h.messages("ok.out").first)["response"]["bodyJson"]
        #expect(echo["method"] == "POST")
        #expect(echo["body"] == #"{"a":[1,"x"]}"#)
        #expect(echo["headers"]["content-type"] == "application/json")
    }

    @Test func retriesServerErrorsWithBackoff() throws {
        let path = "/flaky/\(UUID().uuidString)"
        let (h, record) = try run("[{url: '\(base)\(path)'}]", settings: "{retryCount: 3, retryDelay: 10ms}")
        #expect(record.status == .completed)
        #expect(h.messages("ok.out").first?["response"]["bodyJson"]["attempt"] == 3)
        #expect(try count(path) == 3)
    }

    @Test func clientErrorsAreNotRetried() throws {
        let path = "/notfound/\(UUID().uuidString)"
        let (h, _) = try run("[{url: '\(base)\(path)'}]", settings: "{retryCount: 3, retryDelay: 10ms}")
        let error = try #require(h.messages("failed.out").first)["error"]
        #expect(error["code"] == "http_404")
        #expect(error["retryable"] == false)
        #expect(error["message"].stringValue?.hasPrefix("HTTP 404 from GET http://127.0.0.1:") == true)
        #expect(try count(path) == 1)
    }

    @Test func honoursRetryAfter() throws {
        let path = "/retry-after/\(UUID().uuidString)"
        let start = Date()
        let (h, _) = try run("[{url: '\(base)\(path)'}]", settings: "{retryCount: 2, retryDelay: 1ms}")
        #expect(h.messages("ok.out").count == 1)
        #expect(Date().timeIntervalSince(start) >= 0.95)
    }

    @Test func badJSONIsAnErrorNotNull() throws {
        let (h, _) = try run("[{url: '\(base)/badjson/x'}]")
        #expect(h.messages("failed.out").first?["error"]["code"] == "bad_json")
        #expect(h.messages("ok.out").isEmpty)
    }

    @Test func responseSizeIsLimited() throws {
        let (h, _) = try run("[{url: '\(base)/big/x'}]", settings: "{maxResponseBytes: 1000, retryCount: 0}")
        #expect(h.messages("failed.out").first?["error"]["message"].stringValue?.contains("maxResponseBytes") == true)
    }

    @Test func transportErrorsAreRetriedThenReported() throws {
        let (h, _) = try run("[{url: 'http://127.0.0.1:1/x'}]", settings: "{retryCount: 1, retryDelay: 1ms}")
        let error = try #require(h.messages("failed.out").first)["error"]
        #expect(error["code"] == "transport")
        #expect(error["retryable"] == true)
        #expect(error["message"].stringValue?.contains("after 2 attempts") == true)
        #expect(h.run().counters[.requests] == 2)
    }

    @Test func timeoutIsATransportError() throws {
        let (h, _) = try run("[{url: '\(base)/slow/x'}]", settings: "{timeout: 200ms, retryCount: 0}")
        #expect(h.messages("failed.out").first?["error"]["code"] == "timeout")
    }

    @Test func rateLimitSpacesRequests() throws {
        let start = Date()
        let (h, _) = try run(
            "[{url: /r1}, {url: /r2}, {url: /r3}, {url: /r4}]",
            settings: "{baseUrl: '\(base)', rateLimit: {requests: 1, per: 150ms}}")
        #expect(h.messages("ok.out").count == 4)
        #expect(Date().timeIntervalSince(start) >= 0.4)
    }

    @Test func dryRunDoesNotSendWrites() throws {
        let path = "/echo/dry-\(UUID().uuidString)"
        let (h, _) = try run("[{method: POST, url: '\(base)\(path)', json: {}}]", dryRun: true)
        #expect(h.messages("ok.out").first?["response"]["dryRun"] == true)
        #expect(try count(path) == 0)
    }

    @Test func retryDelaysUseFullJitterAndRetryAfterDates() {
        let policy = RetryPolicy(retries: 3, baseNanos: 1_000_000_000, maxRetryAfterNanos: 60_000_000_000)
        for attempt in 1...4 {
            let d = policy.delay(attempt: attempt, retryAfter: nil)
            #expect(d >= 0 && d <= 1_000_000_000 << (attempt - 1))
        }
        #expect(policy.delay(attempt: 1, retryAfter: "7") == 7_000_000_000)
        #expect(policy.delay(attempt: 1, retryAfter: "9999") == 60_000_000_000)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(policy.delay(attempt: 1, retryAfter: "Tue, 14 Nov 2023 22:13:30 GMT", now: now) == 10_000_000_000)
    }
}
