import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunHTTP

/// Two http-client nodes share one named connection's rate limit, measured at a real local server (the
/// project's own listener, which stamps each request when its head has arrived).
@Suite struct ConnectionRateLimitTests {
    final class Stamps: @unchecked Sendable {
        let lock = NSLock()
        var times: [Double] = []
    }

    @Test func nodesOfAConnectionShareOneLimitThatNoSlidingWindowExceeds() throws {
        let stamps = Stamps()
        let listener = HTTPListener()
        try listener.start(
            host: "127.0.0.1", port: 0,
            handler: RequestHandler(
                admit: { _ in
                    let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
                    stamps.lock.withLock { stamps.times.append(now) }
                    return nil
                }, respond: { _ in .json(200, ["ok": true]) }))
        defer { listener.stop() }
        let base = "http://127.0.0.1:\(listener.port)"
        let group = "shared"
        let started = Date()
        let h = try FlowHarness(
            """
            flow: shared-limit
            connections:
              api:
                kind: http
                baseUrl: \(base)
                rateLimit: {requests: 10, per: 500ms}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              each-a: {component: iterator}
              each-b: {component: iterator}
              a: {component: http-client, connection: api, concurrency: 4}
              b: {component: http-client, connection: api, concurrency: 4}
              failed: {component: modify}
            edges:
              - {from: start.out, to: each-a.in, data: {array: <<range(15)>>}}
              - {from: start.out, to: each-b.in, data: {array: <<range(15)>>}}
              - {from: each-a.item, to: a.request, data: {url: /stamp/\(group)/a}}
              - {from: each-b.item, to: b.request, data: {url: /stamp/\(group)/b}}
              - {from: a.error, to: failed.in}
              - {from: b.error, to: failed.in}
            """)
        let record = h.run()
        #expect(record.status == .completed, "\(record.errors)")
        #expect(h.messages("a.response").count == 15)
        #expect(h.messages("b.response").count == 15)
        // 30 requests at 10 per 500 ms: the third ten cannot start before 1 s (two limits would take 0.5 s).
        #expect(Date().timeIntervalSince(started) >= 1.0)

        let times = stamps.lock.withLock { stamps.times.sorted() }
        #expect(times.count == 30)
        // Arrival times at the server: any 10 + 1 consecutive requests span at least the window, less the
        // delivery and thread scheduling the limiter cannot see (a loaded CI machine stamped one request 15 ms
        // late, so 0.1 s is allowed). Two separate limits would let 11 requests in within about 0.25 s.
        for i in times.indices.dropFirst(10) {
            #expect(times[i] - times[i - 10] >= 0.5 - 0.1, "11 requests within \(times[i] - times[i - 10]) s")
        }
    }
}
