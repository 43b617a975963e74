import FlowrunDatabase
import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// `StateStore.runs(matching:)`, the console's paged history, gives the same pages in every backend:
/// newest first (ties by id), filtered by flow, status and trigger, continued from a keyset position.
@Suite struct RunPagingConformanceTests {
    static func record(_ i: Int) -> RunRecord {
        // Two runs share each start time, so ties are ordered by id.
        var r = RunRecord(
            id: String(format: "r%03d", i), flow: i % 3 == 0 ? "a" : "b", trigger: i % 4 == 0 ? .scheduled : .manual,
            startedAt: 1_700_000_000_000_000_000 + (i / 2) * 1_000_000_000)
        r.status = i % 5 == 0 ? .failed : .completed
        r.counters[.processed] = i
        return r
    }

    @Test(arguments: StoreBackend.available)
    func pagesAreNewestFirstFilteredAndContinuedFromAPosition(_ backend: StoreBackend) throws {
        let (store, _, cleanUp) = try backend.open()
        defer { cleanUp() }
        let all = (0..<60).map(Self.record)
        for r in all { try store.save(r) }
        let newestFirst = all.sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }

        func pages(_ q: RunQuery) throws -> [String] {
            var q = q
            var seen: [String] = []
            while true {
                let page = try store.runs(matching: q)
                #expect(page.count <= q.limit)
                seen += page.map(\.id)
                guard page.count == q.limit, let last = page.last else { return seen }
                q.before = RunQuery.Position(startedAt: last.startedAt, id: last.id)
            }
        }
        #expect(try pages(RunQuery(limit: 7)) == newestFirst.map(\.id))
        let failedB = RunQuery(flow: "b", status: .failed, limit: 3)
        #expect(try pages(failedB) == newestFirst.filter(failedB.matches).map(\.id))
        let scheduled = RunQuery(trigger: .scheduled, limit: 4)
        #expect(try pages(scheduled) == newestFirst.filter { $0.trigger == .scheduled }.map(\.id))
        #expect(try store.runs(matching: RunQuery(flow: "none")).isEmpty)
        let first = try #require(try store.runs(matching: RunQuery(limit: 1)).first)
        #expect(first.id == newestFirst[0].id && first[.processed] == newestFirst[0][.processed])
    }

    @Test func aPositionSurvivesItsLinkText() {
        let p = RunQuery.Position(startedAt: 1_700_000_000_000_000_000, id: "r1.x-2")
        #expect(RunQuery.Position(token: p.token) == p)
        #expect(RunQuery.Position(token: "nope") == nil)
    }
}
