import Foundation
import Testing

@testable import FlowrunComponents
@testable import FlowrunExpression

@Suite struct CronTests {
    func at(_ text: String) -> Int { Time.parse(text)! }
    func fmt(_ nanos: Int?) -> String { nanos.map { Time.rfc3339(nanos: $0) } ?? "none" }
    let utc = TimeZone(identifier: "UTC")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!
    let newYork = TimeZone(identifier: "America/New_York")!

    @Test(arguments: [
        ("0 * * * *", "2024-05-01T10:15:00Z", "2024-05-01T11:00:00.000Z"),
        ("*/15 * * * *", "2024-05-01T10:15:00Z", "2024-05-01T10:30:00.000Z"),
        ("30 9 * * mon-fri", "2024-05-03T10:00:00Z", "2024-05-06T09:30:00.000Z"),
        ("0 0 1 jan *", "2024-05-01T00:00:00Z", "2025-01-01T00:00:00.000Z"),
        ("0 12 29 feb *", "2024-03-01T00:00:00Z", "2028-02-29T12:00:00.000Z"),
        ("0 0 13 * 5", "2024-09-10T00:00:00Z", "2024-09-13T00:00:00.000Z"),  // day 13 OR Friday
        ("0 0 * * 7", "2024-05-01T00:00:00Z", "2024-05-05T00:00:00.000Z"),  // 7 is Sunday
        ("5,10-12/2 3 * * *", "2024-05-01T03:06:00Z", "2024-05-01T03:10:00.000Z"),
    ])
    func nextFiringInUTC(expression: String, after: String, expected: String) throws {
        #expect(fmt(try CronSchedule(expression).next(after: at(after), in: utc)) == expected)
    }

    @Test func springForwardSkipsTheMissingHour() throws {
        // Europe/Berlin, 2024-03-31: 02:00 local jumps to 03:00.
        let daily = try CronSchedule("30 2 * * *")
        #expect(fmt(daily.next(after: at("2024-03-30T12:00:00Z"), in: berlin)) == "2024-04-01T00:30:00.000Z")
        let hourly = try CronSchedule("0 * * * *")
        // 01:00Z is 03:00 CEST, the first hour after the jump.
        #expect(fmt(hourly.next(after: at("2024-03-31T00:30:00Z"), in: berlin)) == "2024-03-31T01:00:00.000Z")
    }

    @Test func fallBackFiresOnce() throws {
        // America/New_York, 2024-11-03: 01:00-02:00 local happens twice.
        let s = try CronSchedule("30 1 * * *")
        let first = try #require(s.next(after: at("2024-11-03T00:00:00Z"), in: newYork))
        #expect(fmt(first) == "2024-11-03T05:30:00.000Z")  // 01:30 EDT
        #expect(fmt(s.next(after: first, in: newYork)) == "2024-11-04T06:30:00.000Z")  // next day, EST
    }

    @Test(arguments: [
        "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *", "5-1 * * * *", "x * * * *",
    ])
    func rejectsBadExpressions(_ text: String) {
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule(text) }
    }
}
