import Foundation

/// A 5-field cron schedule (minute hour day-of-month month day-of-week) evaluated in a time zone.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists, and names (`jan`, `mon`);
/// day-of-week 0 and 7 are Sunday. When both day fields are restricted a day matches either (as in
/// Vixie cron). Across DST changes: a local time that does not exist (the skipped hour) does not fire,
/// and a local time that happens twice fires once, at its first occurrence.
public struct CronSchedule: Sendable, Equatable {
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ expression: String) throws(ParseError) {
        let fields = expression.split(whereSeparator: \.isWhitespace).map { $0.lowercased() }
        guard fields.count == 5 else {
            throw ParseError(
                description: "a cron expression has 5 fields (minute hour day month weekday), got \(fields.count)")
        }
        minutes = try Self.field(fields[0], 0...59, "minute")
        hours = try Self.field(fields[1], 0...23, "hour")
        days = try Self.field(fields[2], 1...31, "day of month")
        months = try Self.field(fields[3], 1...12, "month", names: Self.monthNames, nameBase: 1)
        var weekdays = try Self.field(fields[4], 0...7, "day of week", names: Self.dayNames, nameBase: 0)
        if weekdays.contains(7) { weekdays.remove(7); weekdays.insert(0) }
        self.weekdays = weekdays
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static func field(
        _ text: String, _ range: ClosedRange<Int>, _ what: String, names: [String] = [], nameBase: Int = 0
    )
        throws(ParseError) -> Set<Int>
    {
        func number(_ s: Substring) throws(ParseError) -> Int {
            if let i = names.firstIndex(of: String(s)) { return i + nameBase }
            guard let n = Int(s), range.contains(n) else {
                throw ParseError(description: "\(what): '\(s)' is not in \(range.lowerBound)-\(range.upperBound)")
            }
            return n
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else {
                throw ParseError(description: "\(what): '\(part)' is malformed")
            }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else {
                    throw ParseError(description: "\(what): bad step in '\(part)'")
                }
                step = s
            }
            let lo: Int, hi: Int
            if pieces[0] == "*" {
                (lo, hi) = (range.lowerBound, range.upperBound)
            } else if let dash = pieces[0].firstIndex(of: "-") {
                lo = try number(pieces[0][..<dash])
                hi = try number(pieces[0][pieces[0].index(after: dash)...])
                guard lo <= hi else { throw ParseError(description: "\(what): empty range '\(part)'") }
            } else {
                lo = try number(pieces[0])
                hi = pieces.count == 2 ? range.upperBound : lo
            }
            result.formUnion(stride(from: lo, through: hi, by: step))
        }
        return result
    }

    /// The first firing strictly after `after` (Unix nanoseconds), or nil if none within 5 years.
    public func next(after: Int, in timeZone: TimeZone) -> Int? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = Date(timeIntervalSince1970: Double(after) / 1e9)
        let sortedHours = hours.sorted(), sortedMinutes = minutes.sorted()
        var day = calendar.startOfDay(for: start)
        for _ in 0..<(366 * 5) {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let y = c.year, let m = c.month, let d = c.day, let wd = c.weekday,
                matchesDay(month: m, day: d, weekday: wd - 1)
            {
                for h in sortedHours {
                    for mi in sortedMinutes {
                        let wanted = DateComponents(year: y, month: m, day: d, hour: h, minute: mi)
                        // Earliest instant with this wall time (the first of a repeated hour).
                        guard let date = calendar.date(from: wanted), date > start else { continue }
                        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
                        // A wall time skipped by a DST change does not exist: no firing.
                        guard back.hour == h, back.minute == mi, back.day == d else { continue }
                        return Int((date.timeIntervalSince1970 * 1e9).rounded())
                    }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: next)
        }
        return nil
    }

    func matchesDay(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }
}
