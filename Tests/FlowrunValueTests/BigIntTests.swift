import FlowrunValue
import Testing

/// Issue 13 item 9: integers beyond 64 bits in JSON were parsed as doubles, so
/// 18446744073709551615 and 18446744073709551614 compared equal and merged into one row.
@Suite struct BigIntTests {
    @Test(arguments: [
        "18446744073709551615", "-9223372036854775809", "9223372036854775808",
        "123456789012345678901234567890123456789", "[18446744073709551615,18446744073709551614]",
        "{\"id\":18446744073709551615,\"n\":1,\"x\":2.5}",
    ])
    func roundTripsExactly(_ text: String) throws {
        #expect(JSON.serialize(try JSON.parse(text)) == text)
    }

    @Test func keepsTheExactDigitsInsteadOfADouble() throws {
        #expect(try JSON.parse("18446744073709551615") == .bigInt("18446744073709551615"))
        #expect(try JSON.parse("9223372036854775807") == .int(Int.max))
        #expect(try JSON.parse("-9223372036854775808") == .int(Int.min))
        #expect(try JSON.parse("1.8446744073709552e19") == .double(18_446_744_073_709_551_615))
        #expect(try JSON.parse("18446744073709551615").interpolated == "18446744073709551615")
        #expect(try JSON.parse("18446744073709551615").typeName == "int")
        #expect(try JSON.parse("18446744073709551615").doubleValue == nil, "no silent rounding to a double")
    }

    /// Distinct ids stay distinct in equality and in hashing (dedupe keys, sets, dictionaries).
    @Test func comparesAndHashesExactly() throws {
        let ids = try JSON.parse("[18446744073709551615, 18446744073709551614, 18446744073709551615]").arrayValue!
        #expect(ids[0] != ids[1])
        #expect(ids[0] == ids[2])
        #expect(Set(ids).count == 2)
        #expect(ids[0] != .double(18_446_744_073_709_551_615), "a rounded double is not the exact integer")
        #expect(ids[0] != .string("18446744073709551615"))
    }

    @Test(arguments: [
        ("18446744073709551615", Value.bigInt("18446744073709551615")),
        ("-00018446744073709551615", .bigInt("-18446744073709551615")),
        ("0009223372036854775808", .bigInt("9223372036854775808")),
        ("-9223372036854775808", .int(Int.min)),
        ("42", .int(42)),
    ])
    func integersFromTextAreCanonical(_ text: String, _ expected: Value) {
        #expect(Value.integer(text) == expected)
    }

    @Test(arguments: ["", "-", "1.5", "1e30", "12a", "--1", "1-"])
    func nonIntegersAreNotIntegers(_ text: String) {
        #expect(Value.integer(text) == nil)
    }

    @Test func ordersBySignThenMagnitude() throws {
        let sorted = [
            "-18446744073709551616", "-9223372036854775809", "-5", "0", "7", "9223372036854775808",
            "18446744073709551614", "18446744073709551615", "100000000000000000000",
        ].map { Value.integer($0)! }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(Value.compareIntegers(a, b) == -1, "\(a) < \(b)")
            #expect(Value.compareIntegers(b, a) == 1, "\(b) > \(a)")
        }
        #expect(Value.compareIntegers(sorted[7], Value.integer("18446744073709551615")!) == 0)
    }
}
