import FlowrunTesting
import Testing

@testable import Flowrun

/// I/O nodes: work in flight while the run goes on, per-node concurrency, order kept, back pressure.
@Suite struct AsyncNodeTests {
    func harness(concurrency: Int, items: Int, fail: [Int] = [], probe: TestDelay.Probe) throws -> FlowHarness {
        let array = "[" + (0..<items).map(String.init).joined(separator: ", ") + "]"
        return try FlowHarness(
            """
            flow: io
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {xs: \(array)}}}
              each: {component: iterator}
              slow: {component: test-delay, concurrency: \(concurrency), settings: {maxMillis: 3}}
              after: {component: modify}
              errors: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.xs>>}}
              - {from: each.item, to: slow.in, data: {i: <<$.item>>, fail: <<\(fail).includes($.item)>>}}
              - {from: slow.out, to: after.in}
              - {from: slow.error, to: errors.in, data: {i: <<$.input.i>>}}
            """, registry: TestDelay.registry(), factories: TestDelay.factories(probe))
    }

    @Test func concurrencyIsLimitedAndOrderKept() throws {
        let probe = TestDelay.Probe()
        let h = try harness(concurrency: 4, items: 60, probe: probe)
        let record = h.run()
        #expect(record.status == .completed)
        #expect(h.messages("after.out").map { $0["i"] } == (0..<60).map { Value.int($0) })
        #expect(probe.maxInFlight <= 4)
        #expect(probe.maxInFlight >= 2, "no overlap at all: \(probe.maxInFlight)")
        #expect(record[.created] == 60)
    }

    @Test func defaultConcurrencyIsOne() throws {
        let probe = TestDelay.Probe()
        let h = try harness(concurrency: 1, items: 10, probe: probe)
        h.run()
        #expect(probe.maxInFlight == 1)
        #expect(h.messages("after.out").count == 10)
    }

    @Test func ioFailuresGoToTheErrorPortInOrder() throws {
        let probe = TestDelay.Probe()
        let h = try harness(concurrency: 3, items: 12, fail: [2, 7], probe: probe)
        let record = h.run()
        #expect(h.messages("errors.out") == [["i": 2], ["i": 7]])
        #expect(h.messages("after.out").count == 10)
        let error = try #require(h.messages("slow.error").first)
        #expect(error["error"]["retryable"] == true)
        #expect(error["error"]["node"] == "slow")
        #expect(record.status == .completed)
    }

    @Test func aFastProducerIsHeldBack() throws {
        let probe = TestDelay.Probe()
        let h = try harness(concurrency: 2, items: 2000, probe: probe)
        let record = h.run()
        #expect(record.status == .completed)
        #expect(h.messages("after.out").count == 2000)
        #expect(probe.maxInFlight <= 2)
    }
}
