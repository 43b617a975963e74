import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// The replica's sweep under a manual clock: a run whose lease expired on another node is marked
/// `abandoned` with its owner and last heartbeat, a linked rescue run resumes it, and health is shared.
@Suite struct ClusterSweepTests {
    static let second = ServiceFixture.second
    static let t0 = ServiceFixture.t0
    let fixture = ServiceFixture("sweep")

    /// A node that died mid-run: its lease and a `running` record, as it left them.
    func deadRun(_ store: MemoryStore, flow: String, trigger: RunRecord.Trigger) throws {
        try ServiceFixture.otherNodesRun(store, flow: flow, id: "r-dead", trigger: trigger)
    }

    @Test func anExpiredLeaseIsAbandonedAndRescued() throws {
        defer { fixture.removeDirectory() }
        let store = MemoryStore()
        let clock = ManualClock(Self.t0 + Self.second)
        try deadRun(store, flow: "sweepme", trigger: .scheduled)
        let service = ServiceFixture.service(store, clock: clock)
        service.load([try fixture.writeFlow("sweepme", run: "{}")])
        #expect(service.sweepLeases(now: Self.t0 + Self.second).isEmpty)  // not expired yet
        #expect(try store.run(id: "r-dead")?.status == .running)
        clock.advance(2 * Self.second)
        #expect(service.sweepLeases(now: clock.now) == ["r-dead"])
        let dead = try #require(try store.run(id: "r-dead"))
        #expect(dead.status == .abandoned)
        #expect(dead.reason?.contains("node other-node") == true)
        #expect(dead.reason?.contains("last heartbeat 2023-11-14T22:14:00.000Z") == true)
        #expect(
            try ServiceFixture.waitFor {
                try store.runs(flow: "sweepme", limit: 10).contains { $0.trigger == .rescue && $0.status == .completed }
            })
        let rescue = try #require(try store.runs(flow: "sweepme", limit: 10).first { $0.trigger == .rescue })
        #expect(rescue.parentID == "r-dead")
        #expect(rescue.node == "this-node")
        #expect(rescue.fence == 5)  // above the dead run's token
        #expect(try ServiceFixture.waitFor { try store.run(id: "r-dead")?.retriedBy == [rescue.id] })
        // A second sweep finds nothing: the lease was taken once.
        #expect(service.sweepLeases(now: clock.now).isEmpty)
        #expect(try SharedHealth.consecutiveFailures(store.get(flow: "sweepme", key: SharedHealth.key)) == 0)
    }

    @Test func onAbandonedMarkOnlyMarks() throws {
        defer { fixture.removeDirectory() }
        let store = MemoryStore()
        let clock = ManualClock(Self.t0 + 3 * Self.second)
        try deadRun(store, flow: "markonly", trigger: .scheduled)
        let service = ServiceFixture.service(store, clock: clock)
        service.load([try fixture.writeFlow("markonly", run: "{onAbandoned: mark}")])
        #expect(service.sweepLeases(now: clock.now) == ["r-dead"])
        #expect(try store.runs(flow: "markonly", limit: 10).count == 1)
        #expect(try SharedHealth.consecutiveFailures(store.get(flow: "markonly", key: SharedHealth.key)) == 1)
        #expect(!LeaseSweep.rescues(.manual, policy: .retry))
        #expect(LeaseSweep.rescues(.scheduled, policy: .retry))
    }

    /// Regression: health was per replica, so after a failure each replica backed off on its own count.
    @Test func healthIsSharedAcrossReplicas() throws {
        let store = MemoryStore()
        let clock = ManualClock(Self.t0)
        let yaml = """
            flow: shared-health
            nodes:
              tick: {component: ticker, settings: {interval: 1m}}
              out: {component: modify}
            edges:
              - {from: tick.out, to: out.in}
            """
        let h = try FlowHarness(yaml, store: store, clock: clock)
        let a = FlowService(file: "a.yaml", runtime: h.runtime)
        let b = FlowService(file: "b.yaml", runtime: h.runtime)
        a.prepareSlots(now: Self.t0)
        b.prepareSlots(now: Self.t0)
        // A run fails on replica a's side of the store.
        SharedHealth.record(.failed, flow: "shared-health", store: store, now: Self.t0)
        #expect(b.takeDue(now: Self.t0 + 60 * Self.second) == ["tick"])
        #expect(b.healthState == .degraded)  // b never ran the failure, yet it backs off
        #expect(b.nextRun == Self.t0 + 180 * Self.second)  // two slots on: degradedFactor 2
        SharedHealth.record(.completed, flow: "shared-health", store: store, now: Self.t0)
        b.finished([])
        a.finished([RunRecord(id: "x", flow: "shared-health", trigger: .scheduled, startedAt: Self.t0)])
        #expect(a.healthState == .healthy)
    }

    @Test func theRegistryListsReplicas() throws {
        let store = MemoryStore()
        let clock = ManualClock(Self.t0)
        let service = ServiceFixture.service(store, clock: clock)
        service.publish(now: Self.t0)
        try store.set(
            flow: ClusterRegistry.flow, key: ClusterRegistry.key("old"),
            value: ClusterRegistry.entry(node: "old", version: "0.0.9", now: 1, runs: ["r1"], sweepEvery: 1))
        let replicas = try ClusterRegistry.replicas(store, now: Self.t0)
        #expect(replicas.map { $0["node"] } == ["this-node", "old"])
        #expect(replicas.map { $0["alive"] } == [true, false])
        #expect(replicas[1]["runs"] == ["r1"])
        service.unpublish()
        #expect(try ClusterRegistry.replicas(store, now: Self.t0).count == 1)
    }
}
