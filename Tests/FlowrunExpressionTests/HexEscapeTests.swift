import FlowrunExpression
import FlowrunValue
import Testing

/// The Lexer's `\x` and `\u` escapes read their digits with `HexDigit.value` (shared with JSON): either
/// case, every digit, and a byte beside a digit range is not a digit.
@Suite struct HexEscapeTests {
    @Test(arguments: [
        (#"'\x30\x39\x41\x46\x61\x66'"#, #""09AFaf""#),
        (#"'\u0030\u004a\u004A\u006f\u006F'"#, #""0JJoo""#),
        (#"'\u{6f}\u{6F}\u{1f600}' == 'oo😀'"#, "true"),
        (#"'\uD83D\ude00' == '😀'"#, "true"),
    ])
    func digitsOfEitherCase(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    @Test(arguments: ["/", ":", "@", "G", "`", "g"])
    func aByteBesideTheDigitRangesEndsTheEscape(_ c: String) {
        #expect(evaluate("<<'\\x4\(c)'>>").contains("invalid \\x escape"))
        #expect(evaluate("<<'\\u004\(c)'>>").contains("invalid \\u escape"))
    }
}
