import Flowrun
import FlowrunService
import Foundation
import Testing

@testable import FlowrunConsole
@testable import FlowrunHTTP

/// The dead letters page resolves a conflict item (changed on both sides of a bidirectional sync) with the
/// same operation as `flowrun dlq resolve ID --take SIDE`: `Service.resolve(conflict:take:)`.
@Suite struct ConsoleConflictTests {
    /// A conflict parked by the demo flow's `out` node, and an ordinary failure beside it.
    static func park(_ f: ConsoleFixture) throws -> (conflict: String, failure: String) {
        let queue = DeadLetterQueue(store: f.store)
        let conflict = try queue.record(
            flow: "demo", key: "1", payload: ["pairs": [["row": ["name": "Ann L"], "contact": ["name": "Ann R"]]]],
            error: ["code": "conflict", "message": "changed on both sides"], runID: "r-1", entry: "out.in",
            flowFile: nil, maxAttempts: 1, now: 1, parkAtOnce: true)
        let failure = try queue.record(
            flow: "demo", key: "2", payload: ["id": 2], error: ["code": "http_422", "message": "invalid"],
            runID: "r-1", entry: "out.in", flowFile: nil, maxAttempts: 1, now: 1, parkAtOnce: true)
        return (conflict.item.id, failure.item.id)
    }

    @Test func aConflictIsResolvedFromThePageWithTheChosenSide() throws {
        let f = try ConsoleFixture(token: nil)
        let (conflict, failure) = try Self.park(f)
        let page = f.send("GET", "/dlq")
        let text = ConsoleFixture.body(page)
        #expect(text.contains(" (conflict)"), "\(text)")
        #expect(text.contains("value=\"take-local:\(conflict)\">Resolve: take local"))
        #expect(text.contains("value=\"take-remote:\(conflict)\">Resolve: take remote"))
        #expect(!text.contains("take-local:\(failure)") && text.contains("value=\"replay:\(failure)\""))
        let cookie = try #require(ConsoleFixture.cookie(page))
        let csrf = try #require(ConsoleFixture.csrf(page))

        // An ordinary failure cannot be resolved: refused, and it stays parked.
        let refused = f.send("POST", "/dlq", cookie: cookie, form: "csrf=\(csrf)&one=take-local:\(failure)")
        #expect(refused.status == 303)
        #expect(refused.headers.first { $0.0 == "Location" }?.1.contains("is%20not%20a%20conflict") == true)
        #expect(try DeadLetterQueue(store: f.store).item(id: failure)?.status == .parked)

        // take remote: the payload with `take: remote` is replayed into the entry; the item closes as resolved.
        let done = f.send("POST", "/dlq", cookie: cookie, form: "csrf=\(csrf)&one=take-remote:\(conflict)")
        #expect(done.status == 303)
        #expect(done.headers.first { $0.0 == "Location" }?.1.contains("resolving") == true)
        let queue = DeadLetterQueue(store: f.store)
        let deadline = Date().addingTimeInterval(10)
        while try queue.item(id: conflict)?.status != .resolved, Date() < deadline { usleep(20_000) }
        #expect(try queue.item(id: conflict)?.status == .resolved)
        let run = try #require(try f.store.runs(flow: "demo", limit: 1).first)
        #expect(run.trigger == .replay && run.status == .completed)
        #expect(run.input["take"] == "remote" && run.input["pairs"][0]["row"]["name"] == "Ann L")
        #expect(run.entry == "out.in")

        // Resolved already: a second decision is refused.
        guard case .failure(let again) = f.service.resolve(conflict: conflict, take: .local) else {
            Issue.record("a resolved conflict was resolved again")
            return
        }
        #expect(again.status == 409 && again.description.contains("is resolved, not open"))
    }
}
