import FlowrunValue
import Testing

/// Issue 15 items 2 and 4: JavaScript's string equality/order and Number::toString, at the boundaries.
@Suite struct JSTextTests {
    @Test(arguments: [
        (1e21, "1e+21"), (999_999_999_999_999_900_000.0, "999999999999999900000"), (1e-6, "0.000001"),
        (1e-7, "1e-7"), (-1.5e-7, "-1.5e-7"), (1.25e22, "1.25e+22"), (0x1p53, "9007199254740992"),
        (0x1p53 + 2, "9007199254740994"), (-0.0, "0"), (123.456, "123.456"), (-2.0, "-2"), (5e-324, "5e-324"),
        (.infinity, "Infinity"), (-.infinity, "-Infinity"), (.nan, "NaN"),
    ])
    func numberToString(_ d: Double, _ expected: String) {
        #expect(JSText.number(d) == expected)
    }

    @Test func equalityAndOrderByCodeUnits() {
        #expect(!JSText.equal("e\u{301}", "\u{e9}"))
        #expect("e\u{301}" == "\u{e9}", "Swift's own == uses canonical equivalence; JSText does not")
        #expect(JSText.equal("😀x", "😀x"))
        #expect(Value.string("e\u{301}") != Value.string("\u{e9}"))
        #expect(JSText.compare("\u{ff61}", "😀") == 1)
        #expect(JSText.compare("😀", "😁") == -1)
        #expect(JSText.compare("a", "ab") == -1)
        #expect(JSText.compare("é", "é") == 0)
        #expect(JSText.compare("\u{e000}", "\u{10000}") == 1)
        #expect(JSText.compare("\u{d7ff}", "\u{10000}") == -1)
    }
}
