import FlowrunValue

/// A failure inside a builtin; the compiled call adds the call's location and turns it into an `EvalError`.
public struct BuiltinFailure: Error, Sendable {
    public let code: DiagnosticCode
    public let message: String
    public init(_ message: String) { self.init(.badArgument, message) }
    public init(_ code: DiagnosticCode, _ message: String) {
        self.code = code
        self.message = message
    }
    static func type(_ fn: String, _ expected: String, _ got: Value) -> BuiltinFailure {
        if case .bigInt(let digits) = got {
            return BuiltinFailure(.overflow, "\(fn): \(digits) is beyond the 64-bit int range")
        }
        return BuiltinFailure(.typeError, "\(fn) expects \(expected), got \(got.typeName)")
    }
}

/// A builtin function: its documentation and examples (run as golden tests), arity, result shape
/// and implementation. `Builtins.functions` is the only list.
public struct FunctionSpec: Sendable {
    public let name: String
    public let signature: String
    public let doc: String
    public let arity: ClosedRange<Int>
    /// `(expression, expected JSON result)`; the examples run in the test suite with `now()` fixed at
    /// 2023-11-14T22:13:20Z and render into components/expressions.md.
    public let examples: [(String, String)]
    let result: @Sendable ([Shape]) -> Shape
    let impl: @Sendable ([Value], Globals) throws(BuiltinFailure) -> Value
    /// A one-argument fast path that needs no argument array (and no globals).
    var unary: (@Sendable (Value) throws(BuiltinFailure) -> Value)? = nil
}

public enum Builtins {
    public static let functions: [FunctionSpec] =
        [
            fn(
                "now", "now() -> int", "The current time as Unix nanoseconds (the run's clock).", 0...0,
                [("now() > 0", "true"), ("RFC3339(now())", "\"2023-11-14T22:13:20.000Z\"")], { _ in .int }
            ) { _, g in
                .int(g.clock())
            },
            fn(
                "RFC3339", "RFC3339(t: int | string) -> string",
                "Formats Unix nanoseconds (or re-formats a time string, years 0000-9999) as RFC 3339 in UTC with millisecond precision.",
                1...1,
                [
                    ("RFC3339(0)", "\"1970-01-01T00:00:00.000Z\""),
                    ("RFC3339('2024-03-01T12:00:00+02:00')", "\"2024-03-01T10:00:00.000Z\""),
                    ("RFC3339('9999-12-31T23:59:59Z')", "\"9999-12-31T23:59:59.000Z\""),
                ], { _ in .string }
            ) { a, _ throws(BuiltinFailure) in
                try rfc3339(a[0])
            },
            fn(
                "parseTime", "parseTime(s: string) -> int",
                "Parses an RFC 3339 time (or a bare date) to Unix nanoseconds; a time outside 1677-09-21 .. 2262-04-11 (an int's range) is an error.",
                1...1,
                [("parseTime('1970-01-01T00:00:01Z')", "1000000000"), ("parseTime('1970-01-02')", "86400000000000")],
                { _ in .int }
            ) { a, _ throws(BuiltinFailure) in
                guard case .string(let s) = a[0] else { throw .type("parseTime", "a string", a[0]) }
                return .int(try timeNanos(s, "parseTime"))
            },
            fn(
                "int", "int(x) -> int",
                "Converts a number (truncating), a numeric string, a bool, or an RFC 3339 time string (to nanoseconds) to an int.",
                1...1,
                [
                    ("int(3.9)", "3"), ("int('42')", "42"), ("int(true)", "1"),
                    ("int('1970-01-01T00:00:02Z')", "2000000000"),
                ], { _ in .int }
            ) { a, _ throws(BuiltinFailure) in
                try toInt(a[0])
            },
            fn(
                "float", "float(x) -> number", "Converts a number, numeric string or bool to a floating-point number.",
                1...1,
                [("float(2)", "2.0"), ("float('1.5')", "1.5")], { _ in .number }
            ) { a, _ throws(BuiltinFailure) in
                switch a[0] {
                case .int(let i): return .double(Double(i))
                case .bigInt(let t): return .double(Double(t)!)
                case .double: return a[0]
                case .bool(let b): return .double(b ? 1 : 0)
                case .string(let s):
                    guard let d = Double(s.trimmingSpaces()), d.isFinite else {
                        throw BuiltinFailure("float: '\(s)' is not a number")
                    }
                    return .double(d)
                default: throw .type("float", "a number or string", a[0])
                }
            },
            fn(
                "bool", "bool(x) -> bool",
                "Truthiness (`null false 0 ''` are false), except that the strings `'false'` and `'0'` are false too.",
                1...1, [("bool(1)", "true"), ("bool('false')", "false"), ("bool('')", "false"), ("bool([])", "true")],
                { _ in .bool }
            ) { a, _ in
                if case .string(let s) = a[0], s == "false" || s == "0" { return .bool(false) }
                return .bool(a[0].isTruthy)
            },
            fn(
                "string", "string(x) -> string",
                "The interpolation form: strings as-is, numbers canonically, null as '', arrays and objects as compact JSON.",
                1...1,
                [
                    ("string(42)", "\"42\""), ("string(1.5)", "\"1.5\""), ("string([1, 'a'])", "\"[1,\\\"a\\\"]\""),
                    ("string(null)", "\"\""),
                ], { _ in .string }
            ) { a, _ in
                .string(a[0].interpolated)
            },
            fn(
                "len", "len(x: string | array | object) -> int",
                "Length of a string (in UTF-16 code units, as `.length`), an array, or an object (number of keys).",
                1...1,
                [("len('héllo')", "5"), ("len('😀')", "2"), ("len([1, 2, 3])", "3"), ("len({a: 1})", "1")], { _ in .int }
            ) { a, _ throws(BuiltinFailure) in
                switch a[0] {
                case .string(let s): return .int(JSString.length(s))
                case .array(let x): return .int(x.count)
                case .object(let o): return .int(o.count)
                default: throw .type("len", "a string, array or object", a[0])
                }
            },
            stringFn("lower", "Lower-cases a string.", [("lower('Ann@Example.COM')", "\"ann@example.com\"")]) {
                JSString.lowercased($0)
            },
            stringFn("upper", "Upper-cases a string.", [("upper('abc')", "\"ABC\"")]) { $0.uppercased() },
            stringFn("trim", "Removes leading and trailing whitespace.", [("trim('  a b  ')", "\"a b\"")]) {
                JSString.trim($0)
            },
            rounding("ceil", "Rounds up to an int.", [("ceil(250 / 100)", "3"), ("ceil(2)", "2")]) { $0.rounded(.up) },
            rounding("floor", "Rounds down to an int.", [("floor(2.7)", "2"), ("floor(-2.5)", "-3")]) {
                $0.rounded(.down)
            },
            fn(
                "round", "round(x: number, digits?: int) -> number",
                "Rounds half away from zero to an int, or to `digits` decimal places.", 1...2,
                [("round(2.5)", "3"), ("round(3.14159, 2)", "3.14")], { a in a.count > 1 ? .number : .int }
            ) { a, _ throws(BuiltinFailure) in
                if case .bigInt = a[0] { return a[0] }
                guard let x = a[0].doubleValue else { throw .type("round", "a number", a[0]) }
                if a.count == 1 {
                    if case .int = a[0] { return a[0] }
                    return try integral(x.rounded(.toNearestOrAwayFromZero), "round")
                }
                guard case .int(let digits) = a[1], (0...15).contains(digits) else {
                    throw BuiltinFailure("round: digits must be an int between 0 and 15")
                }
                var scale = 1.0
                for _ in 0..<digits { scale *= 10 }
                return .double((x * scale).rounded(.toNearestOrAwayFromZero) / scale)
            },
            fn(
                "abs", "abs(x: number) -> number", "Absolute value.", 1...1, [("abs(-3)", "3"), ("abs(-1.5)", "1.5")],
                { $0.first ?? .number }
            ) { a, _ throws(BuiltinFailure) in
                switch a[0] {
                case .int(let i):
                    guard i != Int.min else { throw BuiltinFailure(.overflow, "abs overflows") }
                    return .int(Swift.abs(i))
                case .bigInt(let t): return .bigInt(t.hasPrefix("-") ? String(t.dropFirst()) : t)
                case .double(let d): return .double(Swift.abs(d))
                default: throw .type("abs", "a number", a[0])
                }
            },
            extremum(
                "min", "Smallest of its arguments, or of one array argument (null for an empty array).",
                [("min(3, 1, 2)", "1"), ("min([4, 2.5])", "2.5"), ("min([]) ?? 0", "0")]
            ) { $0 < 0 },
            extremum(
                "max", "Largest of its arguments, or of one array argument (null for an empty array).",
                [("max(3, 1, 2)", "3"), ("max(['a', 'b'])", "\"b\""), ("max([]) ?? 'cursor-0'", "\"cursor-0\"")]
            ) { $0 > 0 },
            fn(
                "range", "range(end) or range(start, end) -> array<int>",
                "The ints from `start` (default 0) up to, not including, `end` (at most 1,000,000 of them).", 1...2,
                [("range(3)", "[0,1,2]"), ("range(2, 5)", "[2,3,4]"), ("range(5, 2)", "[]")], { _ in .array(.int) }
            ) { a, _ throws(BuiltinFailure) in
                guard let first = a[0].intValue, a.count == 1 || a[1].intValue != nil else {
                    throw .type("range", "ints", a.count > 1 && a[1].intValue == nil ? a[1] : a[0])
                }
                let (lo, hi) = a.count == 1 ? (0, first) : (first, a[1].intValue!)
                guard lo < hi else { return .array([]) }
                // The width of range(-2, Int.max) does not fit in an int: an overflow is a range that is too long.
                let (width, overflow) = hi.subtractingReportingOverflow(lo)
                guard !overflow, width <= 1_000_000 else { throw BuiltinFailure("range: at most 1,000,000 ints") }
                return .array((lo..<hi).map { .int($0) })
            },
            fn(
                "keys", "keys(o: object) -> array<string>", "An object's keys, in order.", 1...1,
                [("keys({b: 1, a: 2})", "[\"b\",\"a\"]")], { _ in .array(.string) }
            ) { a, _ throws(BuiltinFailure) in
                guard case .object(let o) = a[0] else { throw .type("keys", "an object", a[0]) }
                return .array(o.keys.map { .string($0) })
            },
            fn(
                "values", "values(o: object) -> array", "An object's values, in order.", 1...1,
                [("values({b: 1, a: 2})", "[1,2]")], { _ in .array(.any) }
            ) { a, _ throws(BuiltinFailure) in
                guard case .object(let o) = a[0] else { throw .type("values", "an object", a[0]) }
                return .array(Array(o.values))
            },
            fn(
                "entries", "entries(o: object) -> array<array>", "An object's `[key, value]` pairs, in order.", 1...1,
                [("entries({a: 1})", "[[\"a\",1]]")], { _ in .array(.array(.any)) }
            ) { a, _ throws(BuiltinFailure) in
                guard case .object(let o) = a[0] else { throw .type("entries", "an object", a[0]) }
                for v in o.values { try Nesting.check(v, levels: 2) }
                return .array(o.map { .array([.string($0.key), $0.value]) })
            },
            fn(
                "uuid", "uuid() -> string", "A random (version 4) UUID in lower case.", 0...0,
                [("len(uuid())", "36"), ("uuid().split('-').length", "5")], { _ in .string }
            ) { _, _ in
                .string(Hashing.uuid())
            },
            fn(
                "sha256", "sha256(s: string) -> string", "Hex SHA-256 of the string's UTF-8 bytes.", 1...1,
                [("sha256('abc')", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")],
                { _ in .string }
            ) { a, _ throws(BuiltinFailure) in
                .string(Hashing.sha256Hex(Array(try text(a[0], "sha256").utf8)))
            },
            fn(
                "base64", "base64(s: string) -> string", "Base64 of the string's UTF-8 bytes.", 1...1,
                [("base64('user:pass')", "\"dXNlcjpwYXNz\"")], { _ in .string }
            ) { a, _ throws(BuiltinFailure) in
                .string(Hashing.base64(Array(try text(a[0], "base64").utf8)))
            },
            fn(
                "base64decode", "base64decode(s: string) -> string",
                "Decodes Base64 (standard or URL-safe) to a UTF-8 string.",
                1...1, [("base64decode('dXNlcjpwYXNz')", "\"user:pass\"")], { _ in .string }
            ) { a, _ throws(BuiltinFailure) in
                guard let bytes = Hashing.base64Decode(try text(a[0], "base64decode")),
                    let s = String(validating: bytes, as: UTF8.self)
                else { throw BuiltinFailure("base64decode: not Base64-encoded UTF-8 text") }
                return .string(s)
            },
            fn(
                "duration", "duration(s: string) -> int", "A duration such as `'1h30m'` or `'250ms'` in nanoseconds.",
                1...1,
                [("duration('1m30s')", "90000000000"), ("duration('1h') / 1000000000", "3600")], { _ in .int }
            ) { a, _ throws(BuiltinFailure) in
                let s = try text(a[0], "duration")
                guard let n = Durations.parse(s) else {
                    throw BuiltinFailure("duration: '\(s)' is not a duration like '90s' or '1h30m'")
                }
                return .int(n)
            },
            fn(
                "JSON.stringify", "JSON.stringify(x, indent?) or JSON.stringify(x, null, indent) -> string",
                "Serializes a value as JSON: compact, or indented as JavaScript's `JSON.stringify(x, null, indent)` (a number of spaces up to 10, or a string cut to 10 characters; 0, '' and null are compact). The two-argument form takes the indent second (flowrun has no replacer functions).",
                1...3,
                [
                    ("JSON.stringify({a: [1, 'x']})", "\"{\\\"a\\\":[1,\\\"x\\\"]}\""),
                    ("JSON.stringify({a: 1}, null, 2)", "\"{\\n  \\\"a\\\": 1\\n}\""),
                    ("JSON.stringify([1], 0)", "\"[1]\""), ("JSON.stringify([1], '--')", "\"[\\n--1\\n]\""),
                ], { _ in .string }
            ) { a, _ throws(BuiltinFailure) in
                switch a.count {
                case 1: return .string(JSON.serialize(a[0]))
                case 2: return .string(JSON.serialize(a[0], indent: try jsonIndent(a[1])))
                default:
                    guard a[1].isNull else {
                        throw BuiltinFailure(
                            "JSON.stringify: the replacer must be null (replacer functions are not supported)")
                    }
                    return .string(JSON.serialize(a[0], indent: try jsonIndent(a[2])))
                }
            },
            fn(
                "JSON.parse", "JSON.parse(s: string) -> any", "Parses JSON text; invalid text is an error, never null.",
                1...1,
                [("JSON.parse('{\"a\": [1, 2.0]}')", "{\"a\":[1,2.0]}")], { _ in .any }
            ) { a, _ throws(BuiltinFailure) in
                let s = try text(a[0], "JSON.parse")
                do throws(JSON.ParseError) { return try JSON.parse(s) } catch {
                    throw BuiltinFailure("JSON.parse: \(error.description)")
                }
            },
        ] + regexFunctions + uriFunctions + timeFunctions

    public static let byName: [String: FunctionSpec] = Dictionary(
        uniqueKeysWithValues: functions.map { spec in
            var spec = spec
            if spec.unary == nil, let f = unaryFastPaths[spec.name] { spec.unary = f }
            return (spec.name, spec)
        })

    /// One-argument fast paths for builtins used per item in mappings.
    static let unaryFastPaths: [String: @Sendable (Value) throws(BuiltinFailure) -> Value] = [
        "RFC3339": { x throws(BuiltinFailure) in try rfc3339(x) },
        "int": { x throws(BuiltinFailure) in try toInt(x) },
        "string": { x in .string(x.interpolated) },
        "JSON.stringify": { x in .string(JSON.serialize(x)) },
        "len": { x throws(BuiltinFailure) in
            switch x {
            case .string(let s): return .int(JSString.length(s))
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.count)
            default: throw .type("len", "a string, array or object", x)
            }
        },
    ]

    // MARK: Helpers

    private static func fn(
        _ name: String, _ signature: String, _ doc: String, _ arity: ClosedRange<Int>, _ examples: [(String, String)],
        _ result: @escaping @Sendable ([Shape]) -> Shape,
        _ impl: @escaping @Sendable ([Value], Globals) throws(BuiltinFailure) -> Value
    ) -> FunctionSpec {
        FunctionSpec(
            name: name, signature: signature, doc: doc, arity: arity, examples: examples, result: result, impl: impl)
    }

    private static func stringFn(
        _ name: String, _ doc: String, _ examples: [(String, String)], _ f: @escaping @Sendable (String) -> String
    ) -> FunctionSpec {
        var spec = fn(name, "\(name)(s: string) -> string", doc, 1...1, examples, { _ in .string }) {
            a, _ throws(BuiltinFailure) in
            .string(f(try text(a[0], name)))
        }
        spec.unary = { x throws(BuiltinFailure) in .string(f(try text(x, name))) }
        return spec
    }

    private static func rounding(
        _ name: String, _ doc: String, _ examples: [(String, String)], _ f: @escaping @Sendable (Double) -> Double
    ) -> FunctionSpec {
        let unary: @Sendable (Value) throws(BuiltinFailure) -> Value = { x throws(BuiltinFailure) in
            switch x {
            case .int, .bigInt: return x
            case .double(let d): return try integral(f(d), name)
            default: throw .type(name, "a number", x)
            }
        }
        var spec = fn(name, "\(name)(x: number) -> int", doc, 1...1, examples, { _ in .int }) {
            a, _ throws(BuiltinFailure) in
            try unary(a[0])
        }
        spec.unary = unary
        return spec
    }

    private static func extremum(
        _ name: String, _ doc: String, _ examples: [(String, String)], _ better: @escaping @Sendable (Int) -> Bool
    ) -> FunctionSpec {
        fn(
            name, "\(name)(a, b, ...) or \(name)(array)", doc, 1...64, examples,
            { args in
                // One array argument may be empty: then the result is null (`max(xs) ?? fallback`).
                args.count == 1 ? Shape.optional(args[0].element) : args.reduce(Shape.never) { Shape.join($0, $1) }
            }
        ) { a, _ throws(BuiltinFailure) in
            var items = a
            if a.count == 1 {
                guard case .array(let x) = a[0] else { throw .type(name, "several arguments or an array", a[0]) }
                items = x
            }
            guard var best = items.first else { return .null }
            for item in items.dropFirst() {
                guard let order = compare(item, best) else {
                    throw BuiltinFailure(.typeError, "\(name) cannot compare \(item.typeName) with \(best.typeName)")
                }
                if better(order) { best = item }
            }
            if items.count == 1, compare(best, best) == nil { throw .type(name, "numbers or strings", best) }
            return best
        }
    }

    /// The indent argument of `JSON.stringify` as JavaScript reads it: a number of spaces (clamped to
    /// 0...10, fractions dropped), a string's first 10 code units, `null` for none.
    static func jsonIndent(_ v: Value) throws(BuiltinFailure) -> String {
        switch v {
        case .null: return ""
        case .int(let i): return String(repeating: " ", count: min(max(i, 0), 10))
        case .bigInt(let t): return t.hasPrefix("-") ? "" : String(repeating: " ", count: 10)
        case .double(let d): return d >= 1 ? String(repeating: " ", count: Int(min(d, 10))) : ""
        case .string(let s): return JSString.slice(s, 0, min(JSString.length(s), 10))
        default: throw .type("JSON.stringify", "an int or string indent", v)
        }
    }

    static func text(_ v: Value, _ fn: String) throws(BuiltinFailure) -> String {
        guard case .string(let s) = v else { throw .type(fn, "a string", v) }
        return s
    }

    static func integral(_ d: Double, _ fn: String) throws(BuiltinFailure) -> Value {
        // -2^63 ..< 2^63 are exactly the doubles that convert to an Int without trapping.
        guard d >= -0x1p63, d < 0x1p63 else {
            throw BuiltinFailure(.overflow, "\(fn): \(d) does not fit in an int")
        }
        return .int(Int(d))
    }

    /// `RFC3339(x)`: ints (and integral floats) are Unix nanoseconds; strings are re-formatted without
    /// going through nanoseconds, so every year 0000-9999 works.
    static func rfc3339(_ v: Value) throws(BuiltinFailure) -> Value {
        switch v {
        case .int(let i): return .string(Time.rfc3339(nanos: i))
        case .double(let d): return .string(Time.rfc3339(nanos: try integral(d, "RFC3339").intValue!))
        case .string(let s):
            guard let t = Time.instant(s) else { throw BuiltinFailure("RFC3339: '\(s)' is not an RFC 3339 time") }
            return .string(Time.rfc3339(t))
        default: throw .type("RFC3339", "nanoseconds or a time string", v)
        }
    }

    /// A time string as Unix nanoseconds: not a time, and a time outside an int's range, are distinct errors.
    static func timeNanos(_ s: String, _ fn: String) throws(BuiltinFailure) -> Int {
        guard let t = Time.instant(s) else { throw BuiltinFailure("\(fn): '\(s)' is not an RFC 3339 time") }
        guard let n = t.unixNanos else {
            throw BuiltinFailure(
                .overflow, "\(fn): '\(s)' is outside the range of int nanoseconds (\(Time.nanosRange))")
        }
        return n
    }

    static func toInt(_ v: Value) throws(BuiltinFailure) -> Value {
        switch v {
        case .int, .bigInt: return v
        case .double(let d): return try integral(d.rounded(.towardZero), "int")
        case .bool(let b): return .int(b ? 1 : 0)
        case .string(let s):
            let t = s.trimmingSpaces()
            if let i = Value.integer(t) { return i }
            if let d = Double(t), d.isFinite { return try integral(d.rounded(.towardZero), "int") }
            if Time.instant(t) != nil { return .int(try timeNanos(t, "int")) }
            throw BuiltinFailure("int: '\(s)' is not a number or an RFC 3339 time")
        default: throw .type("int", "a number, string or bool", v)
        }
    }

    /// Ordering for `< <= > >=`, `min`, `max`: numbers with numbers, strings with strings; nil otherwise.
    public static func compare(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.string(let x), .string(let y)): return JSText.compare(x, y)
        case (.bigInt, .int), (.int, .bigInt), (.bigInt, .bigInt): return Value.compareIntegers(a, b)
        case (.bigInt(let x), .double(let y)): return compare(.double(Double(x)!), .double(y))
        case (.double(let x), .bigInt(let y)): return compare(.double(x), .double(Double(y)!))
        default:
            guard let x = a.doubleValue, let y = b.doubleValue else { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        }
    }
}
