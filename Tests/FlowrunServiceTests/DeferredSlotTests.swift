import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// Regression (issue 14 soak: 4 of 600 slots lost): a slot that came due while a replica killed with -9
/// still held the flow's lease was skipped as overlapping. Now it is deferred, and fires once the sweep
/// has abandoned the dead run; a slot that overlapped a live run is still skipped. Manual clock, no sleeps
/// (the fired runs go on threads of their own and are polled with a deadline).
@Suite struct DeferredSlotTests {
    static let second = ServiceFixture.second
    static let t0 = ServiceFixture.t0
    let fixture = ServiceFixture("defer")

    typealias Entry = DeferredSlots.Entry

    func record(_ status: RunRecord.Status, trigger: RunRecord.Trigger = .scheduled, slot: Int? = nil) -> RunRecord {
        var r = RunRecord(id: "r-holder", flow: "f", trigger: trigger, startedAt: Self.t0)
        r.status = status
        r.slot = slot
        return r
    }

    @Test(arguments: [
        (RunRecord.Status.running, RunRecord.Trigger.scheduled, DeferredSlots.Decision.wait),
        (.abandoned, .scheduled, .fire),
        (.abandoned, .manual, .fire),
        (.completed, .scheduled, .skip),
        (.failed, .webhook, .skip),
        (.cancelled, .scheduled, .skip),
        (.completed, .rescue, .fire),  // catch-up work does not displace the schedule
    ])
    func theHoldersOutcomeDecides(
        status: RunRecord.Status, trigger: RunRecord.Trigger, decision: DeferredSlots.Decision
    ) {
        let entry = Entry(node: "tick", slot: Self.t0 + Self.second, holder: "r-holder")
        let holder = record(status, trigger: trigger, slot: Self.t0)
        #expect(DeferredSlots.decide(entry, holder: holder, now: Self.t0 + 5 * Self.second) == decision)
    }

    @Test func unknownHoldersWaitAndOldSlotsAreSkipped() {
        let entry = Entry(node: "tick", slot: Self.t0, holder: "r-holder")
        #expect(DeferredSlots.decide(entry, holder: nil, now: Self.t0 + Self.second) == .wait)
        let late = Self.t0 + SlotClaims.horizon
        #expect(DeferredSlots.decide(entry, holder: record(.abandoned), now: late) == .skip)
        // A deferred slot fired late (its parent: the run it was deferred behind) lets the next one fire too;
        // an on-time scheduled run does not, even one that started late (a loaded machine).
        var lateRun = record(.completed, slot: Self.t0 - 3 * Self.second)
        lateRun.parentID = "r-dead"
        #expect(DeferredSlots.decide(entry, holder: lateRun, now: Self.t0 + Self.second) == .fire)
        lateRun.parentID = nil
        #expect(DeferredSlots.decide(entry, holder: lateRun, now: Self.t0 + Self.second) == .skip)
    }

    @Test func slotsAreKeptOncePerNodeAndSlotOldestFirst() {
        var stored: Value? = nil
        for slot in [3, 1, 2, 1] {
            stored = DeferredSlots.adding(Entry(node: "t", slot: slot, holder: "h"), to: stored)
        }
        stored = DeferredSlots.adding(Entry(node: "u", slot: 1, holder: "h"), to: stored)
        #expect(DeferredSlots.entries(stored).map { "\($0.node)\($0.slot)" } == ["t1", "u1", "t2", "t3"])
        #expect(DeferredSlots.value([]) == nil)
        var many: Value? = nil
        for slot in 0..<(DeferredSlots.limit + 5) {
            many = DeferredSlots.adding(Entry(node: "t", slot: slot, holder: "h"), to: many)
        }
        #expect(DeferredSlots.entries(many).count == DeferredSlots.limit)
        #expect(DeferredSlots.entries(many).first?.slot == 5)
    }

    /// A service (on `clock`, at `t0` + 1 s) whose flow `name` found its first slot busy: another node's run
    /// `r-holder` held the flow's lease (renewed at `t0`, TTL 2 s), so the slot was not run.
    func slotBehindAnotherNode(_ name: String, store: MemoryStore, clock: ManualClock) throws -> (Service, FlowService)
    {
        try ServiceFixture.otherNodesRun(store, flow: name, id: "r-holder", slot: Self.t0)
        let service = ServiceFixture.service(store, clock: clock)
        service.load([try fixture.writeFlow(name, ticker: "tick", interval: "1s")])
        clock.advance(Self.second / 2)
        let flow = try #require(service.flow(named: name))
        let due = try #require(flow.takeDueSlots(now: clock.now).first)
        #expect(due.slot == Self.t0 + Self.second)
        #expect(service.execute(flow, .trigger(due.node), trigger: .scheduled, slot: due.slot) != nil)  // busy
        return (service, flow)
    }

    /// The slot this replica claims while a dead node holds the flow: deferred, then fired once the sweep
    /// abandoned the dead run, with its own slot time (`run.slot`), after the rescue run.
    @Test func aSlotBehindADeadNodesLeaseFiresOnceItIsAbandoned() throws {
        defer { fixture.removeDirectory() }
        let store = MemoryStore()
        let clock = ManualClock(Self.t0 + Self.second / 2)
        let (service, flow) = try slotBehindAnotherNode("deferme", store: store, clock: clock)
        #expect(
            DeferredSlots.entries(try store.get(flow: "deferme", key: DeferredSlots.key)) == [
                Entry(node: "tick", slot: Self.t0 + Self.second, holder: "r-holder")
            ])
        #expect(service.settleDeferredSlots(now: clock.now).isEmpty)  // the holder may be alive
        #expect(try store.get(flow: "deferme", key: DeferredSlots.key) != nil)
        // No renewal for TTL + a sweep: swept, abandoned, rescued; the deferred slot fires.
        clock.advance(3 * Self.second)
        #expect(service.sweepLeases(now: clock.now) == ["r-holder"])
        #expect(service.settleDeferredSlots(now: clock.now).map(\.slot) == [Self.t0 + Self.second])
        #expect(try store.get(flow: "deferme", key: DeferredSlots.key) == nil)
        #expect(
            try ServiceFixture.waitFor {
                try store.runs(flow: "deferme", limit: 10).contains {
                    $0.trigger == .scheduled && $0.slot == Self.t0 + Self.second && $0.status == .completed
                        && $0.parentID == "r-holder"
                }
            })
        #expect(
            try ServiceFixture.waitFor { try store.runs(flow: "deferme", limit: 10).contains { $0.trigger == .rescue } }
        )
        let rescue = try #require(try store.runs(flow: "deferme", limit: 10).first { $0.trigger == .rescue })
        #expect(rescue.slot == Self.t0)  // the dead run's own slot
        #expect(flow.skippedSlots == 0)
    }

    /// Regression (cluster suite): the replica that started a rescue run skipped the next slot as overlapping
    /// it, and so did the replica firing deferred slots: nobody claimed it. Catch-up runs do not make a
    /// slot overlap locally; only the flow's own runs do.
    @Test func catchUpRunsDoNotMakeSlotsOverlapLocally() throws {
        defer { fixture.removeDirectory() }
        let store = MemoryStore()
        let clock = ManualClock(Self.t0 + Self.second / 2)
        let service = ServiceFixture.service(store, clock: clock)
        service.load([try fixture.writeFlow("catchup", ticker: "tick", interval: "1s")])
        let flow = try #require(service.flow(named: "catchup"))
        flow.began(catchUp: true)  // a rescue run going on here
        #expect(flow.takeDue(now: Self.t0 + Self.second) == ["tick"])
        flow.finished([])
        flow.began()  // a run of the flow's own schedule
        #expect(flow.takeDue(now: Self.t0 + 2 * Self.second).isEmpty)
        #expect(flow.skippedSlots == 1)
    }

    /// A slot that met a live run of another node (it renewed its lease and completed) stays skipped.
    @Test func aSlotBehindALiveRunIsSkipped() throws {
        defer { fixture.removeDirectory() }
        let store = MemoryStore()
        let clock = ManualClock(Self.t0 + Self.second / 2)
        let (service, flow) = try slotBehindAnotherNode("overlapme", store: store, clock: clock)
        var done = try #require(try store.run(id: "r-holder"))
        done.status = .completed
        try store.save(done)
        try store.delete(flow: "overlapme", key: "lock/")
        #expect(service.settleDeferredSlots(now: clock.now).isEmpty)
        #expect(try store.get(flow: "overlapme", key: DeferredSlots.key) == nil)
        #expect(flow.skippedSlots == 1)
        #expect(try store.runs(flow: "overlapme", limit: 10).count == 1)
    }
}
