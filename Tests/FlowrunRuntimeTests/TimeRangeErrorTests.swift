import FlowrunTesting
import Testing

@testable import Flowrun

/// Issue 13 item 1 in a flow: a record whose time cannot be an int of nanoseconds is a located error
/// on the node's error port (the process used to die with SIGILL); its neighbours go through, and the
/// same sentinel re-formatted as text passes unchanged.
@Suite struct TimeRangeErrorTests {
    @Test func aTimeOutsideIntNanosecondsIsALocatedErrorOfTheRecord() throws {
        let h = try FlowHarness(
            """
            flow: times
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: ['2024-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z']}}}
              each: {component: iterator}
              calc: {component: modify}
              errors: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {text: <<RFC3339($.item)>>, nanos: <<parseTime($.item)>>}}
              - {from: calc.error, to: errors.in}
            """)
        let record = h.run()
        #expect(h.messages("calc.out") == [["text": "2024-01-01T00:00:00.000Z", "nanos": 1_704_067_200_000_000_000]])
        let errors = h.messages("calc.error")
        #expect(errors.count == 2)
        #expect(errors.map { $0["error"]["location"] } == ["test.yaml:9:79", "test.yaml:9:79"])
        #expect(
            errors.first?["error"]["message"]
                == "parseTime: '9999-12-31T23:59:59Z' is outside the range of int nanoseconds (1677-09-21T00:12:43Z .. 2262-04-11T23:47:16Z)"
        )
        #expect(errors.map { $0["input"]["item"] } == ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
        #expect(record.status == .completed)
    }
}

/// A ticker interval of centuries (a valid duration) used to overflow when added to the clock.
@Suite struct TickerOverflowTests {
    @Test func anIntervalPastTheEndOfIntNanosecondsHasNoNextFiring() {
        let schedule = TickerSchedule(kind: .interval(8_640_000_000_000_000_000))  // 100,000 days
        // Interval slots lie on the epoch's grid: the one multiple of 100,000 days left in int nanoseconds
        // (in 2243) still fires, the next one would pass the end.
        #expect(schedule.next(after: 1_700_000_000_000_000_000) == 8_640_000_000_000_000_000)
        #expect(schedule.next(after: 8_640_000_000_000_000_000) == nil)
        #expect(schedule.next(after: 0) == 8_640_000_000_000_000_000)
    }
}
