import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// A real in-memory store whose slot claims fail the first `failures` times (a broken connection).
final class FailingClaimStore: StateStore, @unchecked Sendable {
    struct Broken: Error, CustomStringConvertible { var description: String { "connection to the store lost" } }
    let inner = MemoryStore()
    private let lock = NSLock()
    private var failures: Int
    private(set) var claimCalls = 0

    init(failures: Int) { self.failures = failures }

    func get(flow: String, key: String) throws -> Value? { try inner.get(flow: flow, key: key) }
    func set(flow: String, key: String, value: Value) throws { try inner.set(flow: flow, key: key, value: value) }
    func delete(flow: String, key: String) throws { try inner.delete(flow: flow, key: key) }
    func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        try inner.compareAndSet(flow: flow, key: key, expected: expected, new: new)
    }
    func claim(flow: String, key: String, due: Int) throws -> Bool {
        let fail = lock.withLock { () -> Bool in
            claimCalls += 1
            guard failures > 0 else { return false }
            failures -= 1
            return true
        }
        if fail { throw Broken() }
        return try inner.claim(flow: flow, key: key, due: due)
    }
    func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        try inner.entries(flow: flow, prefix: prefix)
    }
    func save(_ record: RunRecord) throws { try inner.save(record) }
    func runs(flow: String?, limit: Int) throws -> [RunRecord] { try inner.runs(flow: flow, limit: limit) }
    func run(id: String) throws -> RunRecord? { try inner.run(id: id) }
    func deleteRuns(olderThan: Int) throws -> Int { try inner.deleteRuns(olderThan: olderThan) }
}

final class LinesLogger: RunLogger, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
        lock.withLock { stored.append("\(level.rawValue) \(node ?? "-"): \(message)") }
    }
}

/// Exact slots: interval slots on the epoch's grid, claimed once under `slot/<node>/<time>`, and a claim
/// that errors is never taken for a claim.
@Suite struct ClusterSlotTests {
    static let second = 1_000_000_000
    /// A time on a whole minute.
    static let t0 = 1_700_000_040_000_000_000
    static let flow = """
        flow: ticks
        nodes:
          tick: {component: ticker, settings: {interval: 1s}}
          out: {component: modify}
        edges:
          - {from: tick.out, to: out.in}
        """

    func replica(store: any StateStore, startedAt: Int, logger: any RunLogger = SilentLogger()) throws -> FlowService {
        let report = FlowChecker.check(path: "ticks.yaml", text: Self.flow, registry: .standard)
        var options = FlowRuntime.Options()
        options.clock = { startedAt }
        options.logger = logger
        let runtime = try FlowRuntime(
            flow: try #require(report.flow), factories: .standard, store: store, options: options)
        let service = FlowService(file: "ticks.yaml", runtime: runtime)
        service.prepareSlots(now: startedAt)
        return service
    }

    /// Regression: FlowService took a thrown claim for a claim (`?? true`), so during a database blip
    /// every replica ran the slot.
    @Test func aClaimThatErrorsIsNotAClaim() throws {
        let store = FailingClaimStore(failures: 100)
        let logger = LinesLogger()
        let service = try replica(store: store, startedAt: Self.t0, logger: logger)
        #expect(service.takeDue(now: Self.t0 + Self.second).isEmpty)
        #expect(store.claimCalls == SlotClaims.attempts)  // bounded retries, then skipped
        #expect(service.claimErrors == 1)
        #expect(service.skippedSlots == 1)
        #expect(!service.isRunning)
        #expect(logger.lines.contains { $0.contains("not claimed") && $0.contains("not run unclaimed") })
        // The next slot is due one second later as usual.
        #expect(service.nextRun == Self.t0 + 2 * Self.second)
    }

    @Test func aClaimThatErrorsOnceIsRetriedAndFires() throws {
        let store = FailingClaimStore(failures: 1)
        let service = try replica(store: store, startedAt: Self.t0)
        #expect(service.takeDue(now: Self.t0 + Self.second) == ["tick"])
        #expect(service.claimErrors == 0)
        #expect(try store.get(flow: "ticks", key: "slot/tick/\(Self.t0 + Self.second)") != nil)
    }

    @Test func intervalSlotsLieOnTheEpochsGrid() {
        let everySecond = TickerSchedule(kind: .interval(Self.second))
        #expect(everySecond.first(now: Self.t0 + 300_000_000) == Self.t0 + Self.second)
        #expect(everySecond.first(now: Self.t0 + 700_000_000) == Self.t0 + Self.second)
        #expect(everySecond.next(after: Self.t0) == Self.t0 + Self.second)
        let everySevenMinutes = TickerSchedule(kind: .interval(7 * 60 * Self.second))
        let first = everySevenMinutes.first(now: Self.t0)!
        #expect(first % (7 * 60 * Self.second) == 0 && first > Self.t0)
        #expect(TickerSchedule.gridPoint(after: -1, interval: 10) == 0)
        #expect(TickerSchedule.gridPoint(after: -10, interval: 10) == 0)
    }

    /// Regression: replicas started a few milliseconds apart each picked their own slot times and fired
    /// most slots twice. Now all three fire each whole second once, however their polls interleave.
    @Test func replicasStartedTogetherFireEachSlotOnce() throws {
        let store = MemoryStore()
        let offsets = [3_000_000, 7_000_000, 11_000_000]
        // Started at the same instant: none of them sees a next-run time another one remembered.
        let replicas = try offsets.map { offset -> FlowService in
            let r = try replica(store: store, startedAt: Self.t0 + offset)
            try store.delete(flow: "ticks", key: "schedule/tick")
            return r
        }
        var fired: [Int: Int] = [:]
        for k in 1...30 {
            for (i, r) in replicas.enumerated() {
                let now = Self.t0 + k * Self.second + offsets[(i + k) % 3]
                let due = r.nextRun
                for _ in r.takeDue(now: now) {
                    fired[due!, default: 0] += 1
                    r.finished([])
                }
            }
        }
        #expect(fired.count == 30)
        #expect(fired.values.allSatisfy { $0 == 1 })
        #expect(fired.keys.allSatisfy { $0 % Self.second == 0 })
        #expect(replicas.map(\.claimedSlots).reduce(0, +) == 30)
    }

    /// A replica frozen past the horizon does not claim its stale slot (its key may have been pruned).
    @Test func slotsPastTheHorizonAreNotClaimedAndOldKeysArePruned() throws {
        let store = MemoryStore()
        let service = try replica(store: store, startedAt: Self.t0)
        let late = Self.t0 + Self.second + SlotClaims.horizon
        #expect(service.claimSlot(node: "tick", due: Self.t0 + Self.second, now: late) == false)
        #expect(try store.get(flow: "ticks", key: SlotClaims.key(node: "tick", due: Self.t0 + Self.second)) == nil)
        let keys = ["slot/tick/\(Self.t0)", "slot/tick/\(late)", "slot/other/\(Self.t0)", "slot/tick/x"]
        #expect(SlotClaims.prunable(keys, node: "tick", now: late) == ["slot/tick/\(Self.t0)"])
        try store.set(flow: "ticks", key: "slot/tick/\(Self.t0)", value: .int(Self.t0))
        #expect(service.claimSlot(node: "tick", due: late, now: late))
        #expect(try store.get(flow: "ticks", key: "slot/tick/\(Self.t0)") == nil)
    }
}
