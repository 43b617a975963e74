import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// Disabled flows under a manual clock: the flag lives in the state store, a disabled flow's slots are
/// skipped and counted, manual runs are refused, and `run.health.disableAfter` disables a failing flow.
@Suite struct DisabledFlowTests {
    let second = 1_000_000_000
    let t0 = 1_700_000_040_000_000_000  // on the minute: interval slots lie on the epoch's grid
    var minute: Int { 60 * second }

    func service(_ run: String = "{}", clock: ManualClock) throws -> (FlowHarness, FlowService) {
        let h = try FlowHarness(
            """
            flow: user-sync
            run: \(run)
            nodes:
              tick: {component: ticker, settings: {interval: 1m}}
              out: {component: modify}
            edges:
              - {from: tick.out, to: out.in}
            """, clock: clock)
        let service = FlowService(file: "user-sync.yaml", runtime: h.runtime)
        service.prepareSlots(now: clock.now)
        return (h, service)
    }

    func failed(at t: Int) -> RunRecord {
        var r = RunRecord(id: "r\(t)", flow: "user-sync", trigger: .scheduled, startedAt: t)
        r.status = .failed
        return r
    }

    @Test func aDisabledFlowsSlotsAreSkippedAndCounted() throws {
        let clock = ManualClock(t0)
        let (h, service) = try service(clock: clock)
        #expect(!service.isDisabled)
        try FlowService.setDisabled(true, flow: "user-sync", store: h.store)  // as another replica would
        #expect(service.isDisabled)
        #expect(service.healthState == .disabled)
        #expect(service.takeDue(now: t0 + minute).isEmpty)
        #expect(service.takeDue(now: t0 + 2 * minute).isEmpty)
        #expect(service.skippedSlots == 2)
        #expect(service.nextRun == t0 + 3 * minute)  // the schedule moves on
        try service.setDisabled(false)
        #expect(try h.store.get(flow: "user-sync", key: "flow/disabled") == false)
        #expect(service.takeDue(now: t0 + 3 * minute) == ["tick"])
        #expect(service.healthState == .healthy)
    }

    @Test func manualRunsOfADisabledFlowAreRefused() throws {
        let clock = ManualClock(t0)
        let (h, flow) = try service(clock: clock)
        let service = Service(store: h.store, options: Service.Options())
        service.add(h.runtime, file: "user-sync.yaml")
        try FlowService.setDisabled(true, flow: "user-sync", store: h.store)
        #expect(service.trigger(flow: "user-sync", input: nil) == nil)
        #expect(flow.disabledMessage == "flow user-sync is disabled (flowrun flows enable user-sync)")
        try FlowService.setDisabled(false, flow: "user-sync", store: h.store)
        #expect(service.trigger(flow: "user-sync", input: nil) != nil)
    }

    @Test func disableAfterDisablesAFlowThatKeepsFailing() throws {
        let clock = ManualClock(t0)
        let (_, service) = try service("{health: {disableAfter: 2}}", clock: clock)
        #expect(service.takeDue(now: t0 + minute) == ["tick"])
        service.finished([failed(at: t0 + minute)])
        #expect(!service.isDisabled)
        #expect(service.takeDue(now: t0 + 3 * minute) == ["tick"])
        service.finished([failed(at: t0 + 3 * minute)])
        #expect(service.isDisabled)
        #expect(service.healthState == .disabled)
        #expect(service.takeDue(now: t0 + 20 * minute).isEmpty)
    }
}
