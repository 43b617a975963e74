import FlowrunExpression
import FlowrunValue
import Testing

/// Issue 13 items 1, 2 and 9: times outside int nanoseconds, integer overflow, integers beyond 64 bits.
/// Each of these expressions trapped (SIGILL) or rounded silently before.
@Suite struct TimesAndIntegersTests {
    /// Years 0001-9999 parse and format as text; comparing time strings and re-formatted times works.
    @Test(arguments: [
        ("RFC3339('9999-12-31T00:00:00Z')", "\"9999-12-31T00:00:00.000Z\""),
        ("RFC3339('9999-12-31T23:59:59.999999999Z')", "\"9999-12-31T23:59:59.999Z\""),
        ("RFC3339('0001-01-01T00:00:00Z')", "\"0001-01-01T00:00:00.000Z\""),
        ("RFC3339('0001-01-01T00:30:00+01:00')", "\"0000-12-31T23:30:00.000Z\""),
        ("RFC3339('1600-02-29')", "\"1600-02-29T00:00:00.000Z\""),
        ("RFC3339('2262-04-12T00:00:00Z')", "\"2262-04-12T00:00:00.000Z\""),
        ("RFC3339('9999-12-31T00:00:00Z') > RFC3339('2024-01-01T00:00:00Z')", "true"),
        ("RFC3339('0001-01-01T00:00:00Z') < RFC3339('1970-01-01T00:00:00Z')", "true"),
        ("max(['0001-01-01T00:00:00Z', '9999-12-31T00:00:00Z'])", "\"9999-12-31T00:00:00Z\""),
        // Every int is a time: the extremes format (floor division, no overflow).
        ("RFC3339(-9223372036854775807 - 1)", "\"1677-09-21T00:12:43.145Z\""),
        ("RFC3339(9223372036854775807)", "\"2262-04-11T23:47:16.854Z\""),
        ("RFC3339(-1)", "\"1969-12-31T23:59:59.999Z\""),
        ("int('2262-04-11T23:47:16.854775807Z')", "9223372036854775807"),
        ("parseTime('1677-09-21T00:12:43.145224192Z')", "-9223372036854775808"),
    ])
    func timesOfEveryFourDigitYear(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Where a time must be an int of nanoseconds and cannot be, the error is located and says why.
    @Test(arguments: [
        (
            "parseTime('9999-12-31T23:59:59Z')",
            "parseTime: '9999-12-31T23:59:59Z' is outside the range of int nanoseconds"
        ),
        ("int('0001-01-01T00:00:00Z')", "int: '0001-01-01T00:00:00Z' is outside the range of int nanoseconds"),
        ("parseTime('2262-04-11T23:47:16.854775808Z')", "is outside the range of int nanoseconds"),
        ("parseTime('2024-13-01')", "parseTime: '2024-13-01' is not an RFC 3339 time"),
    ])
    func timesOutsideIntNanosAreLocatedErrors(_ expression: String, _ message: String) {
        let out = evaluate("<<\(expression)>>")
        #expect(out.contains(message), "\(out)")
        #expect(out.contains("<expr>:1:3"), "the error points at the call: \(out)")
    }

    /// `Time.parse` (the nanoseconds API) answers nil instead of trapping; `Time.instant` keeps the time.
    @Test func timeAPIsNeverTrap() {
        #expect(Time.parse("9999-12-31T23:59:59Z") == nil)
        #expect(Time.parse("0001-01-01T00:00:00Z") == nil)
        let t = Time.instant("9999-12-31T23:59:59.5Z")
        #expect(t.map(Time.rfc3339) == "9999-12-31T23:59:59.500Z")
        #expect(t?.unixNanos == nil)
        #expect(Time.Instant(unixNanos: Int.min).unixNanos == Int.min)
        #expect(Time.Instant(unixNanos: Int.max).unixNanos == Int.max)
        #expect(Durations.format(Int.min) == "-9223372036854775808ns")
    }

    /// Overflow anywhere in integer arithmetic is a located runtime error, never a trap.
    @Test(arguments: [
        ("range(-2, 9223372036854775807)", "range: at most 1,000,000 ints"),
        ("range(-9223372036854775807 - 1, 9223372036854775807)", "range: at most 1,000,000 ints"),
        ("9223372036854775807 + 1", "integer overflow in +"),
        ("9223372036854775807 + $.one", "integer overflow in +"),
        ("-9223372036854775807 - 2", "integer overflow in -"),
        ("4611686018427387904 * 2", "integer overflow in *"),
        ("(-9223372036854775807 - 1) / -1", "integer overflow in /"),
        ("-(-9223372036854775807 - 1)", "integer overflow in negation"),
        ("abs(-9223372036854775807 - 1)", "abs overflows"),
        ("int(1e300)", "does not fit in an int"),
        ("int(-1e19)", "does not fit in an int"),
        ("int(9.223372036854775808e18)", "does not fit in an int"),
        ("int('1e300')", "does not fit in an int"),
        ("floor(1e19)", "does not fit in an int"),
        ("round(-1e300)", "does not fit in an int"),
        ("RFC3339(1e19)", "does not fit in an int"),
        ("[9223372036854775807, 1].reduce((a, x) => a + x)", "integer overflow in +"),
    ])
    func overflowIsALocatedError(_ expression: String, _ message: String) {
        let out = evaluate("<<\(expression)>>", input: ["one": 1])
        #expect(out.contains(message), "\(out)")
        #expect(out.contains("error[E"), "\(out)")
    }

    @Test(arguments: [
        ("(-9223372036854775807 - 1) % -1", "0"),
        ("range(9223372036854775806, 9223372036854775807)", "[9223372036854775806]"),
        ("range(9223372036854775807, -9223372036854775807 - 1)", "[]"),
        ("int(9.2e18)", "9200000000000000000"),
        ("int(-9.223372036854775808e18)", "-9223372036854775808"),
    ])
    func edgesThatFit(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Integers beyond 64 bits stay exact: compared, ordered, converted to text exactly; arithmetic on
    /// them is an error, never a rounding.
    @Test(arguments: [
        ("$.a == $.b", "false"),
        ("$.a == $.a2", "true"),
        ("$.a > $.b", "true"),
        ("$.neg < -9223372036854775807 - 1", "true"),
        ("$.a > 9223372036854775807", "true"),
        ("[$.a, $.b, 1].map(x => string(x))", "[\"18446744073709551615\",\"18446744073709551614\",\"1\"]"),
        ("'id-' + $.a", "\"id-18446744073709551615\""),
        ("JSON.stringify({id: $.a})", "\"{\\\"id\\\":18446744073709551615}\""),
        ("max([$.b, $.a, 3])", "18446744073709551615"),
        ("min([$.b, $.a, $.neg])", "-9223372036854775809"),
        ("[$.a, $.b, $.a2].filter(x => x == $.a).length", "2"),
        ("-$.a", "-18446744073709551615"),
        ("-$.neg", "9223372036854775809"),
        ("abs($.neg)", "9223372036854775809"),
        ("int('18446744073709551615')", "18446744073709551615"),
        ("int($.a)", "18446744073709551615"),
        ("JSON.parse('[18446744073709551615, 0018]')", "<error>"),
        ("JSON.parse('18446744073709551616')", "18446744073709551616"),
        ("-JSON.parse('9223372036854775808')", "-9223372036854775808"),
        ("[1, 2][$.a]", "null"),
        ("'ab'[$.neg]", "null"),
    ])
    func bigIntegersStayExact(_ expression: String, _ expected: String) throws {
        let input = try JSON.parse(
            #"{"a": 18446744073709551615, "a2": 18446744073709551615, "b": 18446744073709551614, "neg": -9223372036854775809}"#
        )
        let out = evaluate("<<\(expression)>>", input: input)
        if expected == "<error>" {
            #expect(out.contains("error["), "\(out)")
        } else {
            #expect(out == expected)
        }
    }

    @Test(arguments: [
        "range($.a)", "range(0, $.a)", "[1].slice($.a)", "$.a + 1", "$.a - $.b", "$.a * 1", "$.a / 1", "$.a % 2",
        "1.5 + $.a", "$.a + $.b",
    ])
    func arithmeticOnBigIntegersIsAnError(_ expression: String) throws {
        let input = try JSON.parse(#"{"a": 18446744073709551615, "b": 18446744073709551614}"#)
        let out = evaluate("<<\(expression)>>", input: input)
        #expect(out.contains("is beyond the 64-bit int range"), "\(out)")
        #expect(out.contains("<expr>:1:3"), "\(out)")
    }

    /// The checker types a big integer as `int`, like any other integer.
    @Test func aBigIntegerIsAnInt() throws {
        #expect(Shape(of: try JSON.parse("18446744073709551615")) == .int)
        #expect(try JSON.parse("18446744073709551615").typeName == "int")
    }
}
