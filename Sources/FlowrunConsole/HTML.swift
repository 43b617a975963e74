/// HTML text that is safe to send: every interpolated `String` (or number, or anything printed) is
/// escaped, so a record holding `<script>` shows as text. Only another `HTML` value is kept as is; a
/// page is built from literals and escaped values, never by splicing raw strings.
public struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var text: String

    public init(stringLiteral value: String) { text = value }

    public init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    /// Markup that is already HTML (assets written in this module); the name says so.
    public init(unsafeRaw text: String) { self.text = text }

    public var description: String { text }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(unsafeRaw: a.text + b.text) }

    public static func += (a: inout HTML, b: HTML) { a.text += b.text }

    /// Pieces joined with nothing between them.
    public static func join<S: Sequence>(_ parts: S) -> HTML where S.Element == HTML {
        HTML(unsafeRaw: parts.map(\.text).joined())
    }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""

        public init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity * 2) }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        public mutating func appendInterpolation(_ html: HTML) { text += html.text }

        public mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }

        public mutating func appendInterpolation(_ value: Substring) { text += HTML.escape(String(value)) }

        public mutating func appendInterpolation(_ value: Int) { text += String(value) }

        public mutating func appendInterpolation<T>(_ value: T) { text += HTML.escape(String(describing: value)) }
    }

    /// Escapes the five characters that matter in text and in quoted attribute values.
    public static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Percent-encodes a path segment or query value for a link (then escaped as an attribute).
    public static func urlComponent(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
