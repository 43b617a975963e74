import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunHTTP
@testable import FlowrunRuntime

/// The http-client's outbound writes against the contacts test API (scripts/lib/contacts_api.py): what
/// each write reports (`outcome`, counters on the run record), what is never sent (an unchanged hash, a
/// null required field), a 404 to an update (missing destination, re-created on request), and dry runs
/// that send no write yet report the same.
@Suite(.serialized, .enabled(if: PythonServer.python != nil, "\(PythonServer.skipReason)"))
struct HTTPOutboundTests {
    /// The contacts test API, a fresh one per test.
    static func api() throws -> PythonServer {
        try PythonServer([
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/lib/contacts_api.py").path
        ])
    }

    /// Sends each request (YAML flow list) and returns the harness and the run record.
    func run(_ api: PythonServer, _ requests: String, dryRun: Bool = false) throws -> (FlowHarness, RunRecord) {
        let h = try FlowHarness(
            """
            flow: outbound
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {requests: \(requests)}}}
              each: {component: iterator}
              http: {component: http-client, settings: {baseUrl: '\(api.base)', retryCount: 0}}
              ok: {component: modify}
              failed: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.requests>>}}
              - {from: each.item, to: http.request, data: <<$.item>>}
              - {from: http.response, to: ok.in}
              - {from: http.error, to: failed.in}
            """, dryRun: dryRun)
        return (h, h.run())
    }

    func stats(_ api: PythonServer) throws -> Value {
        let (h, _) = try run(api, "[{url: /_control/stats}]")
        return h.messages("ok.out").first?["response"]["bodyJson"] ?? nil
    }

    @Test func liveWritesAreCountedByWhatTheyDid() throws {
        let api = try Self.api()
        defer { api.stop() }
        let (h, r) = try run(
            api,
            """
            [{method: POST, url: /contacts, json: {email: a@x.com, name: A, external_id: '1'}},
             {method: PATCH, url: /contacts/c1, json: {name: A2}},
             {method: PATCH, url: /contacts/c1, json: {name: A3}, hash: h1, lastHash: h1},
             {method: POST, url: /contacts, json: {email: null, name: B}, required: [email, name]},
             {method: PATCH, url: /contacts/c9, json: {name: C}},
             {method: PATCH, url: /contacts/c9, json: {email: d@x.com, name: D}, recreate: {url: /contacts}}]
            """)
        let outcomes = h.messages("ok.out").map { $0["response"]["outcome"] }
        #expect(outcomes == ["created", "updated", "skipped", "recreated"], "server: \(api.log)")
        #expect(h.messages("ok.out").map { $0["response"]["sent"] } == [true, true, false, true])
        #expect(h.messages("failed.out").map { $0["error"]["code"] } == ["missing_source", "http_404"])
        let counts: [Int] = [r[.created], r[.updated], r[.skipped], r[.missingDestination], r[.missingSource]]
        #expect(counts == [2, 1, 1, 2, 1])
        // Neither the skipped record nor the one missing its email was sent.
        #expect(r[.requests] == 5)
        #expect(try stats(api)["writes"] == 3)
    }

    @Test func aDryRunSendsNoWriteAndReportsWhatALiveRunWouldDo() throws {
        let api = try Self.api()
        defer { api.stop() }
        _ = try run(api, "[{method: POST, url: /contacts, json: {email: a@x.com, name: A}}]")
        let (h, r) = try run(
            api,
            """
            [{method: POST, url: /contacts, json: {email: b@x.com, name: B}},
             {method: PATCH, url: /contacts/c1, json: {name: A2}, lookupUrl: /contacts/c1},
             {method: PATCH, url: /contacts/c7, json: {name: G}, lookupUrl: /contacts/c7, recreate: {url: /contacts}},
             {method: PATCH, url: /contacts/c8, json: {name: H}, lookupUrl: /contacts/c8},
             {method: PATCH, url: /contacts/c1, json: {name: A}, hash: x, lastHash: x}]
            """, dryRun: true)
        let answers = h.messages("ok.out").map(\.self)
        #expect(
            answers.map { $0["response"]["outcome"] } == ["created", "updated", "recreated", "skipped"],
            "server: \(api.log)")
        #expect(answers.allSatisfy { $0["response"]["sent"] == false && $0["response"]["statusCode"] == 0 })
        // The dry-run answer is what the port schema says: the request's own json as the body.
        #expect(answers[0]["response"]["bodyJson"] == ["email": "b@x.com", "name": "B"])
        #expect(answers[0]["response"]["wouldSend"] == "create" && answers[0]["response"]["dryRun"] == true)
        #expect(h.messages("failed.out").map { $0["error"]["code"] } == ["http_404"])
        let counts: [Int] = [r[.created], r[.updated], r[.skipped], r[.missingDestination]]
        #expect(counts == [2, 1, 1, 2])
        // Three lookups (GETs) were sent, and nothing was written.
        #expect(r[.requests] == 3)
        #expect(try stats(api)["writes"] == 1)
    }
}
