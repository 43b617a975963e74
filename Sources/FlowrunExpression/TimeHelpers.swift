import FlowrunValue

/// `addDuration`, `formatTime`, and Unix seconds and milliseconds in and out. A time is what `now()` and
/// `parseTime` give (an int of Unix nanoseconds) or an RFC 3339 string; every result is in UTC.
enum TimeHelpers {
    static func instant(_ v: Value, _ fn: String) throws(BuiltinFailure) -> Time.Instant {
        switch v {
        case .int(let n): return Time.Instant(unixNanos: n)
        case .string(let s):
            guard let t = Time.instant(s) else { throw BuiltinFailure("\(fn): '\(s)' is not an RFC 3339 time") }
            return t
        default: throw .type(fn, "a time (int nanoseconds or an RFC 3339 string)", v)
        }
    }

    /// `t + d`: nanoseconds stay nanoseconds (overflow is an error), a time string gives an RFC 3339 string.
    static func add(_ t: Value, _ d: Value) throws(BuiltinFailure) -> Value {
        let nanos: Int
        switch d {
        case .int(let n): nanos = n
        case .string(let s):
            guard let n = Durations.parse(s) else {
                throw BuiltinFailure("addDuration: '\(s)' is not a duration like '90s', '-1h30m' or '2d'")
            }
            nanos = n
        default: throw .type("addDuration", "a duration string or int nanoseconds", d)
        }
        if case .int(let n) = t {
            let (sum, overflow) = n.addingReportingOverflow(nanos)
            guard !overflow else {
                throw BuiltinFailure(.overflow, "addDuration: the result is outside \(Time.nanosRange)")
            }
            return .int(sum)
        }
        let start = try instant(t, "addDuration")
        let shift = Time.Instant(unixNanos: nanos)
        var result = Time.Instant(seconds: start.seconds + shift.seconds, nanos: start.nanos + shift.nanos)
        if result.nanos >= 1_000_000_000 {
            result.seconds += 1
            result.nanos -= 1_000_000_000
        }
        guard (-62_167_219_200..<253_402_300_800).contains(result.seconds) else {
            throw BuiltinFailure(.overflow, "addDuration: the result is outside the years 0000-9999")
        }
        return .string(Time.rfc3339(result))
    }

    /// The tokens of `formatTime`, longest first; text in `[...]` is literal, other characters are kept.
    static let tokens = [
        "YYYY", "SSS", "MM", "DD", "HH", "mm", "ss", "ZZ", "YY", "M", "D", "H", "m", "s", "Z", "X", "x",
    ]

    static func format(_ t: Time.Instant, _ layout: String) -> String {
        let days = t.seconds >= 0 ? t.seconds / 86400 : (t.seconds - 86399) / 86400
        let secondOfDay = t.seconds - days * 86400
        let (y, mo, d) = Time.civil(fromDays: days)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        var out = ""
        var rest = Substring(layout)
        while let c = rest.first {
            if c == "[", let close = rest.firstIndex(of: "]") {
                out += rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                continue
            }
            guard let token = tokens.first(where: { rest.hasPrefix($0) }) else {
                out.append(c)
                rest = rest.dropFirst()
                continue
            }
            rest = rest.dropFirst(token.count)
            switch token {
            case "YYYY": out += pad(y, 4)
            case "YY": out += pad(y % 100, 2)
            case "MM": out += pad(mo, 2)
            case "M": out += String(mo)
            case "DD": out += pad(d, 2)
            case "D": out += String(d)
            case "HH": out += pad(secondOfDay / 3600, 2)
            case "H": out += String(secondOfDay / 3600)
            case "mm": out += pad(secondOfDay / 60 % 60, 2)
            case "m": out += String(secondOfDay / 60 % 60)
            case "ss": out += pad(secondOfDay % 60, 2)
            case "s": out += String(secondOfDay % 60)
            case "SSS": out += pad(t.nanos / 1_000_000, 3)
            case "Z": out += "+00:00"
            case "ZZ": out += "+0000"
            case "X": out += String(t.seconds)
            default: out += String(t.seconds * 1000 + t.nanos / 1_000_000)  // x
            }
        }
        return out
    }

    /// Unix seconds (or milliseconds, `scale` 1000) as int nanoseconds; a float keeps its fraction.
    static func fromUnix(_ v: Value, scale: Int, _ fn: String) throws(BuiltinFailure) -> Value {
        let perUnit = 1_000_000_000 / scale
        switch v {
        case .int(let n):
            let (nanos, overflow) = n.multipliedReportingOverflow(by: perUnit)
            guard !overflow else { throw BuiltinFailure(.overflow, "\(fn): \(n) is outside \(Time.nanosRange)") }
            return .int(nanos)
        case .double(let d): return try Builtins.integral((d * Double(perUnit)).rounded(.down), fn)
        default: throw .type(fn, "a number", v)
        }
    }
}

extension Builtins {
    static let timeFunctions: [FunctionSpec] = [
        FunctionSpec(
            name: "addDuration", signature: "addDuration(t: int | string, d: string | int) -> int | string",
            doc: "The time `t` moved by the duration `d` (`'1h'`, `'-90m'`, `'1h30m'`, `'2d'`, or int nanoseconds): "
                + "nanoseconds give nanoseconds, a time string gives an RFC 3339 string.", arity: 2...2,
            examples: [
                ("addDuration('2024-02-28T23:30:00Z', '1h')", "\"2024-02-29T00:30:00.000Z\""),
                ("addDuration('2024-03-01T00:00:00Z', '-90m')", "\"2024-02-29T22:30:00.000Z\""),
                ("addDuration(0, '2d') / 1000000000", "172800"),
            ],
            result: { a in a.first == .int ? .int : a.first == .string ? .string : .any },
            impl: { a, _ throws(BuiltinFailure) in try TimeHelpers.add(a[0], a[1]) }),
        FunctionSpec(
            name: "formatTime", signature: "formatTime(t: int | string, layout: string) -> string",
            doc: "Formats a time in UTC. Tokens: `YYYY YY MM M DD D HH H mm m ss s SSS` (milliseconds), `Z` "
                + "(`+00:00`), `ZZ` (`+0000`), `X` (Unix seconds), `x` (Unix milliseconds); text in `[...]` is "
                + "literal, any other character is kept.", arity: 2...2,
            examples: [
                ("formatTime('2024-03-01T12:34:56.789Z', 'YYYY-MM-DD')", "\"2024-03-01\""),
                ("formatTime(now(), 'DD.MM.YYYY HH:mm:ss.SSS Z')", "\"14.11.2023 22:13:20.000 +00:00\""),
                ("formatTime(now(), '[day] D, X')", "\"day 14, 1700000000\""),
            ], result: { _ in .string },
            impl: { a, _ throws(BuiltinFailure) in
                .string(TimeHelpers.format(try TimeHelpers.instant(a[0], "formatTime"), try text(a[1], "formatTime")))
            }),
        FunctionSpec(
            name: "unixSeconds", signature: "unixSeconds(t: int | string) -> int",
            doc: "A time as whole Unix seconds (rounded down).", arity: 1...1,
            examples: [("unixSeconds('2023-11-14T22:13:20.9Z')", "1700000000"), ("unixSeconds(now())", "1700000000")],
            result: { _ in .int },
            impl: { a, _ throws(BuiltinFailure) in .int(try TimeHelpers.instant(a[0], "unixSeconds").seconds) }),
        FunctionSpec(
            name: "unixMillis", signature: "unixMillis(t: int | string) -> int",
            doc: "A time as whole Unix milliseconds (rounded down).", arity: 1...1,
            examples: [("unixMillis('1970-01-01T00:00:01.5Z')", "1500")], result: { _ in .int },
            impl: { a, _ throws(BuiltinFailure) in
                let t = try TimeHelpers.instant(a[0], "unixMillis")
                return .int(t.seconds * 1000 + t.nanos / 1_000_000)
            }),
        FunctionSpec(
            name: "fromUnixSeconds", signature: "fromUnixSeconds(n: number) -> int",
            doc: "Unix seconds as a time (int nanoseconds, as `now()` gives); `RFC3339(...)` makes it text.",
            arity: 1...1,
            examples: [("RFC3339(fromUnixSeconds(1700000000))", "\"2023-11-14T22:13:20.000Z\"")], result: { _ in .int },
            impl: { a, _ throws(BuiltinFailure) in try TimeHelpers.fromUnix(a[0], scale: 1, "fromUnixSeconds") }),
        FunctionSpec(
            name: "fromUnixMillis", signature: "fromUnixMillis(n: number) -> int",
            doc: "Unix milliseconds as a time (int nanoseconds).", arity: 1...1,
            examples: [("RFC3339(fromUnixMillis(1500))", "\"1970-01-01T00:00:01.500Z\"")], result: { _ in .int },
            impl: { a, _ throws(BuiltinFailure) in try TimeHelpers.fromUnix(a[0], scale: 1000, "fromUnixMillis") }),
    ]
}
