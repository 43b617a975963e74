/// Hexadecimal digits in escapes: JSON's `\uXXXX` (`JSON.parse`) and the expression language's `\xXX`,
/// `\uXXXX` and `\u{X...}` (FlowrunExpression's `Lexer`) read them with this one function.
public enum HexDigit {
    /// The value of one ASCII hex digit (`0-9`, `A-F`, `a-f`), or nil for any other byte.
    @inlinable
    public static func value(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: UInt32(c &- 48)
        case 65...70: UInt32(c &- 55)
        case 97...102: UInt32(c &- 87)
        default: nil
        }
    }
}
