/// RFC 3339 times and Go-style durations, without Foundation: both run per message in mappings.
///
/// A time parsed from text is an `Instant` (seconds and nanoseconds since 1970), so every year from
/// 0000 to 9999 parses and formats; only the conversion to an int of Unix nanoseconds (`unixNanos`)
/// is limited to that int's range, 1677-09-21 .. 2262-04-11, and reports when a time is outside it.
public enum Time {
    /// A point in time: whole seconds since 1970-01-01T00:00:00Z and the nanoseconds within that second.
    public struct Instant: Sendable, Equatable, Comparable {
        public var seconds: Int
        /// `0..<1_000_000_000`.
        public var nanos: Int

        public init(seconds: Int, nanos: Int) {
            self.seconds = seconds
            self.nanos = nanos
        }

        /// The instant of Unix nanoseconds; any int is one (floor division, so negative times work).
        public init(unixNanos: Int) {
            var (q, r) = unixNanos.quotientAndRemainder(dividingBy: 1_000_000_000)
            if r < 0 {
                q -= 1
                r += 1_000_000_000
            }
            self.init(seconds: q, nanos: r)
        }

        /// Unix nanoseconds, or nil when the instant is outside an int's range (before 1677-09-21T00:12:43Z
        /// or after 2262-04-11T23:47:16Z).
        public var unixNanos: Int? {
            // Borrow a second when negative, so that Int.min (-9223372037 s + 145224192 ns) is reachable.
            let (s, n) = seconds < 0 && nanos > 0 ? (seconds + 1, nanos - 1_000_000_000) : (seconds, nanos)
            let (scaled, o1) = s.multipliedReportingOverflow(by: 1_000_000_000)
            let (total, o2) = scaled.addingReportingOverflow(n)
            return o1 || o2 ? nil : total
        }

        public static func < (a: Instant, b: Instant) -> Bool {
            a.seconds != b.seconds ? a.seconds < b.seconds : a.nanos < b.nanos
        }
    }

    /// The range of times that are an int of Unix nanoseconds, as users read it in errors.
    public static let nanosRange = "1677-09-21T00:12:43Z .. 2262-04-11T23:47:16Z"

    /// Formats Unix nanoseconds as RFC 3339 in UTC with millisecond precision: `2024-01-31T12:00:00.000Z`.
    /// Every int is a time in 1677 .. 2262, so this never fails.
    public static func rfc3339(nanos: Int) -> String { rfc3339(Instant(unixNanos: nanos)) }

    /// Formats an instant as RFC 3339 in UTC with millisecond precision (years 0000-9999 as four digits).
    /// Writes the 24 bytes directly: this runs per item in mappings.
    public static func rfc3339(_ instant: Instant) -> String {
        let ms = instant.nanos / 1_000_000
        var seconds = instant.seconds
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        seconds -= days * 86400
        let (y, m, d) = civil(fromDays: days)
        guard (0...9999).contains(y) else {
            return "\(y)-\(m)-\(d)T\(seconds / 3600):\(seconds / 60 % 60):\(seconds % 60).\(ms)Z"
        }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var v = value
                for k in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[k] = UInt8(48 + v % 10)
                    v /= 10
                }
            }
            put(y, 4, at: 0); buffer[4] = 45; put(m, 2, at: 5); buffer[7] = 45; put(d, 2, at: 8); buffer[10] = 84
            put(seconds / 3600, 2, at: 11); buffer[13] = 58; put(seconds / 60 % 60, 2, at: 14); buffer[16] = 58
            put(seconds % 60, 2, at: 17); buffer[19] = 46; put(ms, 3, at: 20); buffer[23] = 90
            return 24
        }
    }

    /// Parses RFC 3339 (`2024-01-31T12:00:00Z`, fractional seconds, `+02:00` offsets, a space for `T`,
    /// or a bare date) to Unix nanoseconds; nil when the text is not such a time or the time is outside
    /// an int's range (`instant(_:)` tells the two apart).
    public static func parse(_ text: String) -> Int? { instant(text)?.unixNanos }

    /// Parses RFC 3339 text (years 0000-9999) to an instant; nil when the text is not such a time.
    public static func instant(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8 { instant(bytes: $0) }
    }

    /// Reads an RFC 3339 text left to right. A struct, not closures over a local index: a captured
    /// `var` is boxed and every access checked for exclusivity at run time, which was 760 instructions
    /// per row of the user sync (12 `digits` calls per timestamp).
    private struct Reader {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

        var atEnd: Bool { i == b.count }

        mutating func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }

        mutating func take(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        /// Nanoseconds from the digits after a decimal point (at least one); nil when there are none.
        mutating func fraction() -> Int? {
            var nanos = 0
            var scale = 100_000_000
            var any = false
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                nanos += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
                any = true
            }
            return any ? nanos : nil
        }
    }

    static func instant(bytes b: UnsafeBufferPointer<UInt8>) -> Instant? {
        var r = Reader(b)
        let dash = UInt8(ascii: "-"), colon = UInt8(ascii: ":")
        guard let y = r.digits(4), r.take(dash), let mo = r.digits(2), r.take(dash), let d = r.digits(2) else {
            return nil
        }
        guard (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d) else { return nil }
        // Four-digit years keep every sum below about 3.2e11 seconds: no overflow is possible.
        var seconds = days(fromYear: y, month: mo, day: d) * 86_400
        var nanos = 0
        if r.atEnd { return Instant(seconds: seconds, nanos: 0) }
        guard r.take(UInt8(ascii: "T")) || r.take(UInt8(ascii: "t")) || r.take(UInt8(ascii: " ")) else { return nil }
        guard let h = r.digits(2), r.take(colon), let mi = r.digits(2), r.take(colon), let s = r.digits(2) else {
            return nil
        }
        guard h < 24, mi < 60, s < 61 else { return nil }
        seconds += (h * 60 + mi) * 60 + s
        if r.take(UInt8(ascii: ".")) {
            guard let fraction = r.fraction() else { return nil }
            nanos = fraction
        }
        if r.take(UInt8(ascii: "Z")) || r.take(UInt8(ascii: "z")) {
            return r.atEnd ? Instant(seconds: seconds, nanos: nanos) : nil
        }
        let sign: Int
        if r.take(UInt8(ascii: "+")) { sign = 1 } else if r.take(dash) { sign = -1 } else { return nil }
        guard let oh = r.digits(2), r.take(colon), let om = r.digits(2), r.atEnd, oh < 24, om < 60 else { return nil }
        return Instant(seconds: seconds - sign * (oh * 60 + om) * 60, nanos: nanos)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func days(fromYear y: Int, month m: Int, day d: Int) -> Int {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z: Int) -> (Int, Int, Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// Go-style durations: `1h30m`, `90s`, `250ms`, `1.5h`, plus `d` for days. Values are nanoseconds.
public enum Durations {
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9),
    ]

    public static func parse(_ text: String) -> Int? {
        var rest = Substring(text.trimmingSpaces())
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        var negative = false
        if rest.first == "-" { negative = true; rest = rest.dropFirst() }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total < 9.0e18 else { return nil }
        return Int(negative ? -total : total)
    }

    /// `1h30m0s`-style text for nanoseconds, shortest exact form (`90s` -> `1m30s`).
    public static func format(_ nanos: Int) -> String {
        if nanos == 0 { return "0s" }
        var n = nanos.magnitude
        var out = nanos < 0 ? "-" : ""
        if n % 1_000_000_000 != 0 { return out + (n % 1_000_000 == 0 ? "\(n / 1_000_000)ms" : "\(n)ns") }
        n /= 1_000_000_000
        if n >= 3600 { out += "\(n / 3600)h"; n %= 3600 }
        if n >= 60 { out += "\(n / 60)m"; n %= 60 }
        if n > 0 { out += "\(n)s" }
        return out
    }
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
