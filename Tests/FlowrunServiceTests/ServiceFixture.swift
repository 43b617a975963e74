import Flowrun
import Foundation
import FlowrunTesting

@testable import FlowrunService

/// What the scheduler tests (ClusterSweepTests, DeferredSlotTests, ServiceStartTests) set up: flow files in
/// a temporary directory of their own, a `Service` of node `this-node` on a manual clock with short leases,
/// another node's run holding a flow's lease, and a poll with a deadline for runs on their own threads.
struct ServiceFixture {
    static let second = 1_000_000_000
    static let t0 = 1_700_000_040_000_000_000
    /// Leases of 2 s, renewed every 0.5 s.
    static let leaseTiming = LeaseTiming(ttl: 2 * second, renewEvery: second / 2)

    let dir: URL

    /// `name` tells the test's temporary directory apart (`flowrun-NAME-UUID`); nothing is made yet.
    init(_ name: String) {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-\(name)-\(UUID().uuidString)")
    }

    func removeDirectory() { try? FileManager.default.removeItem(at: dir) }

    /// Writes `NAME.yaml`: a ticker node (`ticker`, every `interval`) into a log node, with `run:` settings
    /// when given; returns its path.
    func writeFlow(_ name: String, ticker: String = "start", interval: String = "1h", run: String? = nil) throws
        -> String
    {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("\(name).yaml")
        try """
        flow: \(name)
        \(run.map { "run: \($0)\n" } ?? "")nodes:
          \(ticker): {component: ticker, settings: {interval: \(interval)}}
          done: {component: log}
        edges:
          - {from: \(ticker).out, to: done.in}
        """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// A service of node `this-node` reading `clock`, with `leaseTiming`.
    static func service(_ store: MemoryStore, clock: ManualClock) -> Service {
        var options = Service.Options()
        options.clock = { clock.now }
        options.node = "this-node"
        options.leaseTiming = leaseTiming
        return Service(store: store, options: options)
    }

    /// A `running` run `id` of node `other-node` (owner `1@other-host`) holding `flow`'s lease (fence 4,
    /// renewed at `t0`), as a node that died mid-run, or is still running, leaves them.
    static func otherNodesRun(
        _ store: MemoryStore, flow: String, id: String, trigger: RunRecord.Trigger = .scheduled, slot: Int? = nil
    ) throws {
        let held = LeaseRules.lease(
            run: id, owner: "1@other-host", node: "other-node", fence: 4, now: t0, timing: leaseTiming)
        try store.set(flow: flow, key: "lock/", value: held)
        var r = RunRecord(id: id, flow: flow, trigger: trigger, startedAt: t0)
        r.owner = "1@other-host"
        r.node = "other-node"
        r.slot = slot
        try store.save(r)
    }

    /// Polls `condition` every 10 ms for up to 10 s (runs go on threads of their own).
    static func waitFor(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }
}
