import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// Schedule logic under a manual clock: intervals, cron with a timezone, catch-up after downtime,
/// overlap skip/queue and health-aware backoff.
@Suite struct ScheduleTests {
    let second = 1_000_000_000
    let t0 = 1_700_000_040_000_000_000  // on the minute: interval slots lie on the epoch's grid
    var minute: Int { 60 * second }

    var everyMinute: TickerSchedule { TickerSchedule(kind: .interval(60 * 1_000_000_000)) }

    @Test func aFreshStartUsesTheSchedulesOwnStart() {
        #expect(SchedulePlanner.resume(everyMinute, remembered: nil, now: t0, catchUp: .skip) == t0 + minute)
        let onStart = TickerSchedule(kind: .interval(60 * second), emitOnStart: true)
        #expect(SchedulePlanner.resume(onStart, remembered: nil, now: t0, catchUp: .skip) == t0)
        #expect(SchedulePlanner.resume(onStart, remembered: t0 + minute, now: t0, catchUp: .skip) == t0)
    }

    @Test func rememberedNextRunTimesSurviveARestart() {
        #expect(
            SchedulePlanner.resume(everyMinute, remembered: t0 + 30 * second, now: t0, catchUp: .skip) == t0 + 30
                * second)
    }

    @Test func missedSlotsAfterDowntimeAreSkippedOrRunOnce() {
        // Down from t0 + 1 min (the remembered slot) until t0 + 10.5 min.
        let now = t0 + 10 * minute + 30 * second
        #expect(
            SchedulePlanner.resume(everyMinute, remembered: t0 + minute, now: now, catchUp: .skip) == t0 + 11 * minute)
        // The catch-up run keeps the missed slot's own time (t0 + 10 min), so replicas claim the same slot.
        #expect(
            SchedulePlanner.resume(everyMinute, remembered: t0 + minute, now: now, catchUp: .once) == t0 + 10 * minute)
    }

    @Test func slotsThatPassDuringARunAreSkippedOrQueued() {
        // The slot at t0 ran until t0 + 3.5 min.
        let now = t0 + 3 * minute + 30 * second
        #expect(SchedulePlanner.next(everyMinute, after: t0, now: t0 + second) == t0 + minute)
        #expect(SchedulePlanner.next(everyMinute, after: t0, now: now) == t0 + 4 * minute)
        #expect(SchedulePlanner.next(everyMinute, after: t0, now: now, queueMissed: true) == t0 + 3 * minute)
    }

    @Test func cronFollowsItsTimezoneAcrossDaylightSaving() throws {
        let cron = TickerSchedule(kind: .cron(try CronSchedule("0 9 * * *"), TimeZone(identifier: "Europe/Berlin")!))
        // 2024-03-30 12:00Z: the next 09:00 Berlin is 2024-03-31 07:00Z (CEST, after the switch).
        let saturdayNoon = 1_711_800_000 * second
        let next = try #require(SchedulePlanner.next(cron, after: saturdayNoon, now: saturdayNoon))
        #expect(Time.rfc3339(nanos: next) == "2024-03-31T07:00:00.000Z")
        let after = try #require(SchedulePlanner.next(cron, after: next, now: next))
        #expect(Time.rfc3339(nanos: after) == "2024-04-01T07:00:00.000Z")
    }

    @Test func healthBackoffStretchesTheScheduleAndRecovers() {
        let policy = HealthPolicy()
        #expect(policy.state(consecutiveFailures: 0) == .healthy)
        #expect(policy.state(consecutiveFailures: 1) == .degraded)
        #expect(policy.state(consecutiveFailures: 3) == .failing)
        #expect(
            SchedulePlanner.next(everyMinute, after: t0, now: t0, factor: policy.factor(.degraded)) == t0 + 2 * minute)
        #expect(
            SchedulePlanner.next(everyMinute, after: t0, now: t0, factor: policy.factor(.failing)) == t0 + 10 * minute)
        let custom = HealthPolicy(["degradedAfter": 2, "failingAfter": 5, "degradedFactor": 3, "failingFactor": 20])
        #expect(custom.state(consecutiveFailures: 1) == .healthy)
        #expect(custom.factor(custom.state(consecutiveFailures: 5)) == 20)
    }

    /// The slot after a failed run is already stretched: 1 failure -> 2x, 3 in a row -> 10x, and a
    /// success -> 1x again (the next time is recomputed when the run ends, not when its slot was taken).
    @Test func healthBackoffAppliesFromTheFirstFailure() throws {
        let clock = ManualClock(t0)
        let h = try FlowHarness(
            """
            flow: backoff
            nodes:
              tick: {component: ticker, settings: {interval: 1m}}
              out: {component: modify}
            edges:
              - {from: tick.out, to: out.in}
            """, clock: clock)
        let service = FlowService(file: "backoff.yaml", runtime: h.runtime)
        service.prepareSlots(now: clock.now)
        func run(at due: Int, _ status: RunRecord.Status) -> Int? {
            #expect(service.takeDue(now: due) == ["tick"])
            clock.advance(due + second - clock.now)
            var record = RunRecord(id: "r\(due)", flow: "backoff", trigger: .scheduled, startedAt: due)
            record.status = status
            service.finished([record])
            return service.nextRun
        }
        #expect(service.nextRun == t0 + minute)
        #expect(run(at: t0 + minute, .failed) == t0 + 3 * minute)  // degraded: 2 slots on
        #expect(service.healthState == .degraded)
        #expect(run(at: t0 + 3 * minute, .failed) == t0 + 5 * minute)
        #expect(run(at: t0 + 5 * minute, .timedOut) == t0 + 15 * minute)  // failing: 10 slots on
        #expect(service.healthState == .failing)
        #expect(run(at: t0 + 15 * minute, .completed) == t0 + 16 * minute)  // healthy: the next slot
        #expect(service.healthState == .healthy)
        #expect(try h.store.get(flow: "backoff", key: "schedule/tick")?.intValue == t0 + 16 * minute)
    }

    /// A flow service under a manual clock: a due slot while a run is active is skipped and counted
    /// (or queued with `overlap: queue`); failures degrade the flow and a success heals it.
    @Test(arguments: ["skip", "queue"])
    func overlappingSlots(overlap: String) throws {
        let clock = ManualClock(t0)
        let h = try FlowHarness(
            """
            flow: overlap
            run: {overlap: \(overlap)}
            nodes:
              tick: {component: ticker, settings: {interval: 1m}}
              out: {component: modify}
            edges:
              - {from: tick.out, to: out.in}
            """, clock: clock)
        let service = FlowService(file: "overlap.yaml", runtime: h.runtime)
        service.prepareSlots(now: clock.now)
        #expect(service.nextRun == t0 + minute)
        #expect(service.takeDue(now: t0 + 30 * second).isEmpty)
        #expect(service.takeDue(now: t0 + minute) == ["tick"])  // a run starts and is still going on
        #expect(service.takeDue(now: t0 + 2 * minute).isEmpty)  // overlaps: skipped or queued
        #expect(service.skippedSlots == (overlap == "skip" ? 1 : 0))
        var failed = RunRecord(id: "r1", flow: "overlap", trigger: .scheduled, startedAt: t0)
        failed.status = .failed
        service.finished([failed])
        #expect(service.healthState == .degraded)
        // After the run: a queued slot fires at once; the next slot is two minutes on (degraded).
        #expect(service.takeDue(now: t0 + 2 * minute + second) == (overlap == "queue" ? ["tick"] : []))
        if overlap == "queue" {
            var ok = failed
            ok.status = .completed
            service.finished([ok])
            #expect(service.healthState == .healthy)
        }
        // Next-run times are remembered in the state store.
        #expect(try h.store.get(flow: "overlap", key: "schedule/tick")?.intValue == service.nextRun)
    }
}

/// Replicas sharing one state store (here two SQLite connections to one file, as two processes would
/// have): each due slot is claimed by exactly one of them, and both follow the same remembered grid.
@Suite struct ReplicaTests {
    @Test func eachSlotRunsOnceAcrossReplicas() throws {
        let t0 = 1_700_000_040_000_000_000  // on the minute: interval slots lie on the epoch's grid
        let minute = 60_000_000_000
        let path = NSTemporaryDirectory() + "flowrun-replicas-\(UUID().uuidString).db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try FlowHarness(
            """
            flow: shared
            nodes:
              tick: {component: ticker, settings: {interval: 1m}}
              out: {component: modify}
            edges:
              - {from: tick.out, to: out.in}
            """)
        func replica() throws -> FlowService {
            var options = FlowRuntime.Options()
            options.clock = { t0 }
            let runtime = try FlowRuntime(
                flow: h.flow, factories: .standard, store: try SQLiteStore(path: path), options: options)
            let service = FlowService(file: "shared.yaml", runtime: runtime)
            service.prepareSlots(now: t0)
            return service
        }
        let a = try replica()
        let b = try replica()
        #expect(a.nextRun == t0 + minute)
        #expect(b.nextRun == t0 + minute)  // the second replica follows the remembered grid
        var fired = 0
        for k in 1...5 {
            let now = t0 + k * minute
            for s in [a, b] {
                let due = s.takeDue(now: now)
                fired += due.count
                if !due.isEmpty { s.finished([]) }
            }
        }
        #expect(fired == 5)
        #expect(a.claimedSlots + b.claimedSlots == 5)
    }
}
