import Flowrun
import FlowrunTesting
import Foundation
import Testing

@testable import FlowrunRuntime

/// Run leases under a manual clock: the heartbeat state machine, fencing tokens that only grow, and
/// commits that a run which lost its lease cannot make.
@Suite struct LeaseTests {
    static let second = 1_000_000_000
    static let t0 = 1_700_000_040_000_000_000
    let timing = LeaseTiming(ttl: 2 * second, renewEvery: second / 2)

    func lease(run: String = "r1", fence: Int = 1, at now: Int = t0) -> Value {
        LeaseRules.lease(run: run, owner: "1@h", node: "n1", fence: fence, now: now, timing: timing)
    }

    @Test func theKeeperRenewsWhenDueAndExpiresWithoutRenewals() {
        var keeper = LeaseKeeper(held: lease(), timing: timing, now: Self.t0)
        #expect(keeper.tick(now: Self.t0 + Self.second / 4) == .wait)
        let now = Self.t0 + Self.second / 2
        guard case .renew(let expected, let new) = keeper.tick(now: now) else {
            Issue.record("no renewal when due")
            return
        }
        #expect(expected == lease())
        #expect(new["expires"] == .int(now + 2 * Self.second) && new["heartbeat"] == .int(now))
        #expect(keeper.renewal(new, succeeded: true, now: now) == .wait)
        // The store does not answer: tried again until the lease's own expiry, then lost.
        let later = now + Self.second
        guard case .renew(_, let next) = keeper.tick(now: later) else {
            Issue.record("no renewal")
            return
        }
        #expect(keeper.renewal(next, succeeded: nil, now: later) == .wait)
        #expect(!keeper.isLost)
        let past = now + 2 * Self.second + 1
        #expect(keeper.renewal(next, succeeded: nil, now: past) != .wait)
        #expect(keeper.isLost)
    }

    @Test func aRenewalThatFindsAnotherLeaseLosesIt() {
        var keeper = LeaseKeeper(held: lease(), timing: timing, now: Self.t0)
        let now = Self.t0 + Self.second
        guard case .renew(_, let new) = keeper.tick(now: now) else { return }
        #expect(keeper.renewal(new, succeeded: false, now: now) == .lost("lease lost: another replica took it over"))
        #expect(keeper.tick(now: now + Self.second) == .wait)
    }

    /// A frozen process wakes after its expiry: its first tick says lost, before any renewal is tried.
    @Test func aKeeperThatWakesAfterItsExpiryKnowsItLost() {
        let keeper = LeaseKeeper(held: lease(), timing: timing, now: Self.t0)
        guard case .lost = keeper.tick(now: Self.t0 + 5 * Self.second) else {
            Issue.record("a lease past its expiry was renewed")
            return
        }
    }

    @Test func fencingTokensOnlyGrow() {
        #expect(LeaseRules.nextFence(counter: nil, replacing: nil) == 1)
        #expect(LeaseRules.nextFence(counter: 4, replacing: nil) == 5)
        #expect(LeaseRules.nextFence(counter: 4, replacing: lease(fence: 9)) == 10)
        #expect(LeaseRules.nextFence(counter: 12, replacing: lease(fence: 9)) == 13)
    }

    @Test func eachAcquisitionCarriesAGreaterTokenAndAnExpiredLeaseIsTakenOver() throws {
        let store = MemoryStore()
        let a = try RunLock.acquire(
            store: store, flow: "f", concurrencyKey: "", runID: "ra", owner: "1@a", now: Self.t0, node: "a",
            timing: timing)
        #expect(a.fence.token == 1)
        // Held and fresh: busy.
        #expect(throws: RunLock.Busy.self) {
            try RunLock.acquire(
                store: store, flow: "f", concurrencyKey: "", runID: "rb", owner: "1@b", now: Self.t0 + Self.second,
                node: "b", timing: timing)
        }
        // a froze: past its expiry b takes over with a greater token.
        var running = RunRecord(id: "ra", flow: "f", trigger: .scheduled, startedAt: Self.t0)
        running.status = .running
        try store.save(running)
        let b = try RunLock.acquire(
            store: store, flow: "f", concurrencyKey: "", runID: "rb", owner: "1@b", now: Self.t0 + 3 * Self.second,
            node: "b", timing: timing)
        #expect(b.fence.token == 2)
        // a wakes: its renewal finds b's lease, and a commit with its fence is refused.
        #expect(!a.beat(now: Self.t0 + 3 * Self.second))
        #expect(a.isLost)
        try store.set(flow: "f", key: "cursor", value: 100)
        let refused = try store.commit(flow: "f", fence: a.fence, keys: ["cursor"], record: nil) { _ in
            ["cursor": 50]
        }
        #expect(!refused)
        #expect(try store.get(flow: "f", key: "cursor") == 100)
        #expect(try store.commit(flow: "f", fence: b.fence, keys: ["cursor"], record: nil) { _ in ["cursor": 150] })
        #expect(try store.get(flow: "f", key: "cursor") == 150)
        b.release()
        let c = try RunLock.acquire(
            store: store, flow: "f", concurrencyKey: "", runID: "rc", owner: "1@c", now: Self.t0 + 4 * Self.second,
            node: "c", timing: timing)
        #expect(c.fence.token == 3)  // the counter outlives the released lease
        c.release()
    }

    /// The SQLite store checks the token in the same transaction as the writes, across connections.
    @Test func sqliteFencedCommitsAcrossConnections() throws {
        let path = "/tmp/flowrun-lease-\(Self.t0)-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { _ = unlink(path) }
        let one = try SQLiteStore(path: path)
        let two = try SQLiteStore(path: path)
        let fence = Fence(key: "lock/", run: "ra", token: 7)
        #expect(try !one.commit(flow: "f", fence: fence, keys: [], record: nil) { _ in ["x": 1] })
        try one.set(flow: "f", key: "lock/", value: ["run": "ra", "fence": 7])
        var record = RunRecord(id: "ra", flow: "f", trigger: .scheduled, startedAt: Self.t0)
        record.status = .completed
        #expect(
            try two.commit(flow: "f", fence: fence, keys: ["x"], record: record) { c in ["x": c["x"] == nil ? 1 : 2] })
        #expect(try one.get(flow: "f", key: "x") == 1)
        #expect(try one.run(id: "ra")?.status == .completed)
        try one.set(flow: "f", key: "lock/", value: ["run": "rb", "fence": 8])
        #expect(try !two.commit(flow: "f", fence: fence, keys: ["x"], record: nil) { _ in ["x": 3] })
        #expect(try one.get(flow: "f", key: "x") == 1)
    }

    /// A run whose lease was taken while it ran commits no cursor and ends `abandoned`, "lease lost";
    /// its token is `run.fence`.
    @Test func aRunThatLostItsLeaseCannotCommit() throws {
        let h = try FlowHarness(
            """
            flow: fenced
            nodes:
              tick: {component: ticker, settings: {interval: 1h}}
              steal: {component: modify}
              cursor: {component: state, settings: {key: cursor, reduce: max}}
            edges:
              - {from: tick.out, to: steal.in, data: {fence: '<<run.fence>>'}}
              - {from: steal.out, to: cursor.checkpoint, data: {value: 5}}
            """)
        // Another replica takes the lease while the run goes on (the observer runs inside the run).
        final class Seen: @unchecked Sendable { var fences: [Value] = [] }
        let seen = Seen()
        let store = h.store
        let clock = h.clock
        let record = try {
            var options = FlowRuntime.Options()
            options.clock = { clock.now }
            options.observer = { node, _, message in
                guard node == "steal" else { return }
                seen.fences.append(message["fence"])
                if let held = try? store.get(flow: "fenced", key: "lock/") {
                    var taken = held.objectValue ?? [:]
                    taken["run"] = "rother"
                    taken["fence"] = .int((held["fence"].intValue ?? 0) + 1)
                    _ = try? store.compareAndSet(flow: "fenced", key: "lock/", expected: held, new: .object(taken))
                }
            }
            let runtime = try FlowRuntime(flow: h.flow, factories: .standard, store: store, options: options)
            return try runtime.run(.trigger("tick"), trigger: .scheduled).last!
        }()
        #expect(seen.fences == [1])
        #expect(record.status == .abandoned)
        #expect(record.reason == "lease lost")
        #expect(record.fence == 1)
        #expect(try store.get(flow: "fenced", key: "cursor") == nil)
        #expect(try store.run(id: record.id)?.status == .abandoned)
    }

    /// Component writes (state `set`, dead letters) go through the fence too.
    @Test func componentWritesOfARunThatLostItsLeaseAreRefused() throws {
        let store = MemoryStore()
        let fenced = FencedStore(
            inner: store,
            lease: try RunLock.acquire(
                store: store, flow: "f", concurrencyKey: "", runID: "ra", owner: "1@a", now: Self.t0, node: "a",
                timing: timing))
        try fenced.set(flow: "f", key: "k", value: 1)
        #expect(try fenced.compareAndSet(flow: "f", key: "k", expected: 1, new: 2))
        #expect(try !fenced.compareAndSet(flow: "f", key: "k", expected: 1, new: 3))
        #expect(try store.get(flow: "f", key: "k") == 2)
        try store.set(flow: "f", key: "lock/", value: ["run": "rb", "fence": 2])  // taken over
        #expect(throws: FencedStore.LeaseLost.self) { try fenced.set(flow: "f", key: "k", value: 9) }
        #expect(throws: FencedStore.LeaseLost.self) { try fenced.delete(flow: "f", key: "k") }
        #expect(throws: FencedStore.LeaseLost.self) {
            try DeadLetterQueue(store: fenced).record(
                flow: "f", key: "1", payload: ["id": 1], error: ["message": "x"], runID: "ra", entry: nil,
                flowFile: nil, maxAttempts: 3, now: Self.t0)
        }
        #expect(try store.get(flow: "f", key: "k") == 2)
        #expect(try store.entries(flow: "f", prefix: DeadLetterQueue.prefix).isEmpty)
    }

    /// `run.lease` is declared with the rest of the policy; `serve --lease-ttl` applies to flows without it.
    @Test func leaseTimingComesFromThePolicyElseTheService() throws {
        func runtime(_ run: String, service: LeaseTiming?) throws -> FlowRuntime {
            let h = try FlowHarness(
                """
                flow: timed
                run: \(run)
                nodes:
                  tick: {component: ticker, settings: {interval: 1h}}
                """)
            var options = FlowRuntime.Options()
            options.leaseTiming = service
            return try FlowRuntime(flow: h.flow, factories: .standard, store: MemoryStore(), options: options)
        }
        let short = LeaseTiming(ttl: 2 * Self.second, renewEvery: Self.second / 2)
        #expect(try runtime("{}", service: nil).leaseTiming == .standard)
        #expect(try runtime("{}", service: short).leaseTiming == short)
        let own = try runtime("{lease: {ttl: 5s, renewEvery: 1s}}", service: short).leaseTiming
        #expect(own == LeaseTiming(ttl: 5 * Self.second, renewEvery: Self.second))
        #expect(try runtime("{onAbandoned: mark}", service: nil).program.policy.onAbandoned == .mark)
        #expect(throws: FlowHarness.LoadError.self) { try runtime("{lease: {ttl: 100ms}}", service: nil) }
    }
}
