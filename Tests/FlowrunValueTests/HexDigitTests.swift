import FlowrunValue
import Testing

/// `HexDigit.value`, the one reader of hex digits in escapes (JSON's `\u`, the expression Lexer's `\x`
/// and `\u`): every byte, and JSON escapes at the edges of the digit ranges.
@Suite struct HexDigitTests {
    @Test func everyByteIsReadAsSwiftReadsOneHexDigit() {
        for byte in UInt8.min...UInt8.max {
            let expected = UInt32(String(UnicodeScalar(byte)), radix: 16)
            #expect(HexDigit.value(byte) == expected, "byte \(byte)")
        }
    }

    /// The bytes either side of each digit range ('/' ':' '@' 'G' '`' 'g') are not digits.
    @Test(arguments: ["/", ":", "@", "G", "`", "g"])
    func jsonRefusesANonDigitBesideTheDigitRanges(_ c: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse("\"\\u00A\(c)\"") }
    }

    @Test func jsonReadsDigitsOfEitherCase() throws {
        #expect(try JSON.parse(#""\u00e9\u00C9\u0030\u0039\u004A\u004a\u006F\u006f""#) == "éÉ09JJoo")
        #expect(try JSON.parse(#""\uD83D\uDE00""#) == "😀")
    }
}
