import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// Issue 14: a ticker's `emitOnStart` fired once per replica (each claimed its own start time as a slot).
/// It fires once per start of the cluster: on one of the replicas starting together, not on a replica
/// that joins a cluster already running.
@Suite struct EmitOnStartClusterTests {
    static let second = 1_000_000_000
    static let t0 = 1_700_000_040_000_000_000
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-onstart-\(UUID().uuidString)")

    @Test(arguments: [
        ([Int](), nil as Int?, true),  // alone, never claimed
        ([t0 - second], nil, true),  // another replica starting together
        ([t0 - 60 * second], nil, false),  // joining a running cluster
        ([], t0 - second, false),  // a replica starting together claimed it
        ([], t0 - 60 * second, true),  // a claim of an earlier start of the cluster
    ])
    func whoFires(others: [Int], claimedAt: Int?, fires: Bool) {
        let claimed = claimedAt.map { StartClaims.claim(node: "x", at: $0) }
        #expect(
            StartClaims.fires(started: Self.t0, others: others, claimed: claimed, window: 15 * Self.second) == fires)
    }

    func service(_ store: MemoryStore, clock: ManualClock, node: String) -> Service {
        var options = Service.Options()
        options.clock = { clock.now }
        options.node = node
        options.leaseTiming = LeaseTiming(ttl: 2 * Self.second, renewEvery: Self.second / 2)
        return Service(store: store, options: options)
    }

    @Test func replicasStartingTogetherEmitOnceAndALaterOneNotAtAll() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("onstart.yaml").path
        try """
        flow: onstart
        nodes:
          tick: {component: ticker, settings: {interval: 1h, emitOnStart: true}}
          done: {component: log}
        edges:
          - {from: tick.out, to: done.in}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let store = MemoryStore()
        let clock = ManualClock(Self.t0)
        let replicas = ["a", "b", "c"].map { service(store, clock: clock, node: $0) }
        for r in replicas { r.load([file]) }
        let fired = replicas.map { r in r.flow(named: "onstart")?.takeDue(now: Self.t0) ?? [] }
        #expect(fired.map(\.count) == [1, 0, 0])
        for r in replicas { r.publish(now: Self.t0) }
        // A replica that joins a minute later does not emit.
        clock.advance(60 * Self.second)
        for r in replicas { r.publish(now: clock.now) }
        let late = service(store, clock: clock, node: "d")
        late.load([file])
        #expect(late.flow(named: "onstart")?.takeDue(now: clock.now).isEmpty == true)
        // The whole cluster stops; when it starts again, the start emits once more.
        clock.advance(3_600 * Self.second)
        let again = service(store, clock: clock, node: "e")
        again.load([file])
        #expect(again.flow(named: "onstart")?.takeDue(now: clock.now) == ["tick"])
    }
}
