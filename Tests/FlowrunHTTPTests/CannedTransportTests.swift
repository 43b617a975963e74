import Dispatch
import FlowrunHTTP
import Foundation
import Testing

/// The canned transport `flowrun test` plugs into http-client: matching, sequences, misses, delays.
@Suite struct CannedTransportTests {
    static func send(_ transport: CannedTransport, _ request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<HTTPResponse, TransportError>?
        transport.send(request) { r in
            result = r
            done.signal()
        }
        done.wait()
        return result!
    }

    static func body(_ r: Result<HTTPResponse, TransportError>) -> String {
        guard case .success(let response) = r else { return "transport error" }
        return "\(response.statusCode) " + String(decoding: response.body, as: UTF8.self)
    }

    @Test func matchesMethodPathAndTheListedQueryParameters() {
        let t = CannedTransport([
            .init(path: "/users", query: ["page": "2"], responses: [.init(body: Array("two".utf8))]),
            .init(path: "/users", query: ["since": "a b/c"], responses: [.init(body: Array("since".utf8))]),
            .init(method: "post", path: "/users", responses: [.init(status: 201, body: Array("made".utf8))]),
            .init(path: "/users", responses: [.init(body: Array("any".utf8))]),
        ])
        #expect(Self.body(Self.send(t, HTTPRequest(url: "http://h:1/users?limit=5&page=2"))) == "200 two")
        #expect(Self.body(Self.send(t, HTTPRequest(url: "https://h/users?since=a%20b%2Fc"))) == "200 since")
        #expect(Self.body(Self.send(t, HTTPRequest(method: "POST", url: "http://h/users"))) == "201 made")
        #expect(Self.body(Self.send(t, HTTPRequest(url: "http://h/users?page=3"))) == "200 any")
        #expect(t.unmatched.isEmpty)
        #expect(t.servedCounts == [1, 1, 1, 1])
    }

    @Test func responsesComeInOrderAndTheLastRepeats() {
        let t = CannedTransport([
            .init(path: "/x", responses: [.init(status: 503, headers: [("Retry-After", "0")]), .init(status: 200)])
        ])
        let first = Self.send(t, HTTPRequest(url: "http://h/x"))
        guard case .success(let r) = first else { Issue.record("\(first)"); return }
        #expect(r.statusCode == 503)
        #expect(r.header("retry-after") == "0" && r.headers.first?.0 == "retry-after", "names lower-cased")
        #expect(Self.body(Self.send(t, HTTPRequest(url: "http://h/x"))) == "200 ")
        #expect(Self.body(Self.send(t, HTTPRequest(url: "http://h/x"))) == "200 ")
    }

    @Test func anUnmatchedRequestIsA404AndRemembered() {
        let t = CannedTransport([.init(path: "/users", query: ["page": "1"], responses: [.init()])])
        #expect(
            Self.body(Self.send(t, HTTPRequest(url: "http://h/users?page=2")))
                == "404 flowrun test: no fixture matches GET /users?page=2")
        #expect(t.unmatched == ["GET /users?page=2"])
    }

    @Test func aDelayAtTheTimeoutTimesOutAtOnceAndAShorterOneAnswers() {
        let t = CannedTransport([
            .init(path: "/slow", responses: [.init(delayNanos: 5_000_000_000)]),
            .init(path: "/quick", responses: [.init(delayNanos: 20_000_000)]),
        ])
        let start = DispatchTime.now().uptimeNanoseconds
        let slow = Self.send(t, HTTPRequest(url: "http://h/slow", timeoutMillis: 100))
        guard case .failure(let error) = slow else { Issue.record("\(slow)"); return }
        #expect(error.timedOut)
        #expect(DispatchTime.now().uptimeNanoseconds - start < 1_000_000_000, "no real wait for a timeout")
        let quick = Self.send(t, HTTPRequest(url: "http://h/quick", timeoutMillis: 100))
        guard case .success(let r) = quick else { Issue.record("\(quick)"); return }
        #expect(r.durationMillis == 20)
    }
}
