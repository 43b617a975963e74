import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// Issue 14: `run.overlap: allow` runs held no lease, so a replica that died in the middle of one left it
/// `running` forever (no rescue) and its commits were not fenced. Each such run now holds a lease of its
/// own (`lock/@run/<id>`, token 1): it excludes no other run, and is swept, rescued and fenced.
@Suite struct AllowLeaseTests {
    static let second = 1_000_000_000
    static let t0 = 1_700_000_040_000_000_000
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-allow-\(UUID().uuidString)")

    static let yaml = """
        flow: allowed
        run: {overlap: allow}
        nodes:
          tick: {component: ticker, settings: {interval: 1h}}
          fence: {component: modify}
        edges:
          - {from: tick.out, to: fence.in, data: {fence: <<run.fence>>}}
        """

    @Test func anAllowRunHoldsAFencedLeaseOfItsOwnAndLeavesNoKeys() throws {
        let store = MemoryStore()
        let h = try FlowHarness(Self.yaml, store: store)
        let record = h.run()
        #expect(record.status == .completed)
        #expect(record.fence == 1)
        #expect(h.messages("fence.out").first?["fence"] == 1)
        // Released, and no counter per run is left behind.
        #expect(try store.entries(flow: "allowed", prefix: "lock/").isEmpty)
        #expect(try store.entries(flow: "allowed", prefix: "fence/").isEmpty)
    }

    @Test func anAllowRunOfADeadNodeIsAbandonedAndRescued() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("allowed.yaml")
        try Self.yaml.write(to: file, atomically: true, encoding: .utf8)
        let store = MemoryStore()
        let timing = LeaseTiming(ttl: 2 * Self.second, renewEvery: Self.second / 2)
        let held = LeaseRules.lease(
            run: "r-dead", owner: "1@other-host", node: "other-node", fence: 1, now: Self.t0, timing: timing)
        try store.set(flow: "allowed", key: "lock/" + LeaseRules.ownKey(run: "r-dead"), value: held)
        var dead = RunRecord(id: "r-dead", flow: "allowed", trigger: .scheduled, startedAt: Self.t0)
        dead.owner = "1@other-host"
        dead.node = "other-node"
        try store.save(dead)
        let clock = ManualClock(Self.t0 + 3 * Self.second)
        var options = Service.Options()
        options.clock = { clock.now }
        options.node = "this-node"
        options.leaseTiming = timing
        let service = Service(store: store, options: options)
        service.load([file.path])
        #expect(service.sweepLeases(now: clock.now) == ["r-dead"])
        #expect(try store.run(id: "r-dead")?.status == .abandoned)
        let deadline = Date().addingTimeInterval(10)
        var rescue: RunRecord?
        while Date() < deadline, rescue?.status != .completed {
            rescue = try store.runs(flow: "allowed", limit: 10).first { $0.trigger == .rescue }
            usleep(10_000)
        }
        #expect(rescue?.status == .completed)
        #expect(rescue?.parentID == "r-dead")
        #expect(try store.entries(flow: "allowed", prefix: "fence/").isEmpty)
    }
}
