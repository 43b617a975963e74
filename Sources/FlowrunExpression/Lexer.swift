import FlowrunValue

/// A token of the expression language, with its byte range in the source file.
struct Token {
    enum Kind: Equatable {
        case number(Value)
        case string(String)
        case identifier(String)
        case dollar
        case punct(String)
        /// A regular expression literal `/source/flags` (Regex.swift).
        case regex(source: String, flags: String)
        case end
    }
    let kind: Kind
    let start: Int
    let end: Int
}

/// Splits the text of one `<<...>>` template (a byte range of a source file) into tokens.
struct Lexer {
    private let source: SourceFile
    private let bytes: [UInt8]
    private var pos: Int
    private let limit: Int

    init(source: SourceFile, range: Range<Int>) {
        self.source = source
        self.bytes = source.bytes
        self.pos = range.lowerBound
        self.limit = range.upperBound
    }

    /// Punctuation, longest first so that `===` wins over `==` and `?.` over `?`.
    private static let punctuation: [[UInt8]] = [
        "===", "!==", "...", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "=>",
        "+", "-", "*", "/", "%", "!", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "?",
    ].map { Array($0.utf8) }

    mutating func tokenize() throws(Diagnostic) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next(regexAllowed: Self.operandExpected(after: tokens.last?.kind))
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func span(_ start: Int, _ end: Int) -> Span { Span(source: source, start: start, end: end) }

    private mutating func next(regexAllowed: Bool) throws(Diagnostic) -> Token {
        while pos < limit, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 {
            pos += 1
        }
        guard pos < limit else { return Token(kind: .end, start: limit, end: limit) }
        let start = pos
        let c = bytes[pos]
        if c == UInt8(ascii: "$") {
            pos += 1
            return Token(kind: .dollar, start: start, end: pos)
        }
        if isDigit(c) || (c == UInt8(ascii: ".") && pos + 1 < limit && isDigit(bytes[pos + 1])) {
            return try number()
        }
        if isIdentStart(c) {
            while pos < limit, isIdentPart(bytes[pos]) { pos += 1 }
            return Token(kind: .identifier(source.slice(start, pos)), start: start, end: pos)
        }
        if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") { return try string(quote: c) }
        if c == UInt8(ascii: "/"), regexAllowed { return try regex() }
        for p in Self.punctuation where pos + p.count <= limit && bytes[pos..<pos + p.count].elementsEqual(p) {
            // `?.` followed by a digit is `? .5`, as in JavaScript.
            if p == Array("?.".utf8), pos + 2 < limit, isDigit(bytes[pos + 2]) { continue }
            pos += p.count
            return Token(kind: .punct(String(decoding: p, as: UTF8.self)), start: start, end: pos)
        }
        let scalarEnd = pos + max(1, utf8Length(c))
        throw .error(
            .syntax, "unexpected character '\(source.slice(pos, min(scalarEnd, limit)))'", at: span(pos, scalarEnd))
    }

    private mutating func number() throws(Diagnostic) -> Token {
        let start = pos
        var isDouble = false
        while pos < limit, isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") { pos += 1 }
        if pos < limit, bytes[pos] == UInt8(ascii: "."), pos + 1 < limit, isDigit(bytes[pos + 1]) {
            isDouble = true
            pos += 1
            while pos < limit, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < limit, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            var p = pos + 1
            if p < limit, bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-") { p += 1 }
            if p < limit, isDigit(bytes[p]) {
                isDouble = true
                pos = p
                while pos < limit, isDigit(bytes[pos]) { pos += 1 }
            }
        }
        if pos < limit, isIdentStart(bytes[pos]) {
            throw .error(.syntax, "invalid number literal", at: span(start, pos + 1))
        }
        let text = String(source.slice(start, pos).filter { $0 != "_" })
        if !isDouble {
            guard let i = Int(text) else {
                throw .error(.numberRange, "integer literal \(text) does not fit in 64 bits", at: span(start, pos))
            }
            return Token(kind: .number(.int(i)), start: start, end: pos)
        }
        guard let d = Double(text), d.isFinite else {
            throw .error(.numberRange, "number literal \(text) is out of range", at: span(start, pos))
        }
        return Token(kind: .number(.double(d)), start: start, end: pos)
    }

    private mutating func string(quote: UInt8) throws(Diagnostic) -> Token {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while pos < limit {
            let c = bytes[pos]
            if c == quote {
                pos += 1
                return Token(kind: .string(String(decoding: out, as: UTF8.self)), start: start, end: pos)
            }
            if c == UInt8(ascii: "\\"), pos + 1 < limit {
                try escape(into: &out)
                continue
            }
            out.append(c)
            pos += 1
        }
        throw .error(.syntax, "unterminated string literal", at: span(start, start + 1))
    }

    /// One escape sequence after a backslash at `pos`, as JavaScript reads it (non-strict): `\\b \\f \\n
    /// \\r \\t \\v \\0`, `\\xHH`, `\\uHHHH` (a surrogate pair in two escapes makes one character),
    /// `\\u{H...}`, a backslash before a line break continues the line, and any other character stands
    /// for itself (`'\\q'` is `"q"`). Malformed hex escapes, lone surrogates and legacy octal escapes
    /// (`\\1`) are errors with the escape's location.
    private mutating func escape(into out: inout [UInt8]) throws(Diagnostic) {
        let start = pos
        let e = bytes[pos + 1]
        pos += 2
        func append(_ v: UInt32) { out.append(contentsOf: String(Character(Unicode.Scalar(v)!)).utf8) }
        switch e {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "v"): out.append(0x0B)
        case UInt8(ascii: "0") where !(pos < limit && isDigit(bytes[pos])): out.append(0)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            throw .error(.syntax, "octal escapes are not supported (use \\x or \\u)", at: span(start, pos))
        case 0x0D:
            if pos < limit, bytes[pos] == 0x0A { pos += 1 }
        case 0x0A: break
        case UInt8(ascii: "x"):
            guard pos + 1 < limit, let h = HexDigit.value(bytes[pos]), let l = HexDigit.value(bytes[pos + 1]) else {
                throw .error(.syntax, "invalid \\x escape (two hex digits expected)", at: span(start, min(pos, limit)))
            }
            pos += 2
            append(h * 16 + l)
        case UInt8(ascii: "u"):
            let v = try unicodeEscape(start)
            if (0xD800..<0xDC00).contains(v), pos + 1 < limit, bytes[pos] == UInt8(ascii: "\\"),
                bytes[pos + 1] == UInt8(ascii: "u")
            {
                let second = pos
                pos += 2
                let w = try unicodeEscape(second)
                guard (0xDC00..<0xE000).contains(w) else {
                    throw .error(
                        .syntax, "a lone surrogate cannot be in a string (\\u escapes \(hex(v)) then \(hex(w)))",
                        at: span(start, pos))
                }
                append(0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00))
            } else if (0xD800..<0xE000).contains(v) {
                throw .error(
                    .syntax, "a lone surrogate (\(hex(v))) cannot be in a string; write a pair or \\u{...}",
                    at: span(start, pos))
            } else {
                append(v)
            }
        default: out.append(e)
        }
    }

    /// The code point of `\\uHHHH` or `\\u{H...}` (at most U+10FFFF), with `pos` just after the `u`.
    private mutating func unicodeEscape(_ start: Int) throws(Diagnostic) -> UInt32 {
        var v: UInt32 = 0
        if pos < limit, bytes[pos] == UInt8(ascii: "{") {
            pos += 1
            var digits = 0
            while pos < limit, let d = HexDigit.value(bytes[pos]) {
                v = v &* 16 &+ d
                pos += 1
                digits += 1
                if v > 0x10FFFF { break }
            }
            guard digits > 0, v <= 0x10FFFF, pos < limit, bytes[pos] == UInt8(ascii: "}") else {
                throw .error(
                    .syntax, "invalid \\u{...} escape (hex digits up to 10FFFF expected)",
                    at: span(start, min(pos + 1, limit)))
            }
            pos += 1
            return v
        }
        var digits = 0
        while digits < 4, pos < limit, let d = HexDigit.value(bytes[pos]) {
            v = v * 16 + d
            pos += 1
            digits += 1
        }
        guard digits == 4 else {
            throw .error(.syntax, "invalid \\u escape (four hex digits expected)", at: span(start, pos))
        }
        return v
    }

    private func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Whether a `/` after this token starts a regex literal: where an operand is expected, as in JavaScript
    /// (after an operator, an opening bracket, a comma or colon, or at the start), never after a value.
    private static func operandExpected(after previous: Token.Kind?) -> Bool {
        switch previous {
        case nil: true
        case .punct(let p): p != ")" && p != "]" && p != "}"
        default: false
        }
    }

    /// regex := '/' (char | '\\' char | '[' class ']')+ '/' flags; the pattern itself is compiled (and
    /// its errors reported) by the checker and compiler.
    private mutating func regex() throws(Diagnostic) -> Token {
        let start = pos
        pos += 1
        var inClass = false
        while pos < limit {
            let c = bytes[pos]
            if c == 0x0A || c == 0x0D { break }
            if c == UInt8(ascii: "\\"), pos + 1 < limit {
                pos += 2
                continue
            }
            if c == UInt8(ascii: "[") { inClass = true }
            if c == UInt8(ascii: "]") { inClass = false }
            if c == UInt8(ascii: "/"), !inClass {
                let body = source.slice(start + 1, pos)
                pos += 1
                let flagsStart = pos
                while pos < limit, isIdentPart(bytes[pos]) { pos += 1 }
                guard !body.isEmpty else { throw .error(.syntax, "empty regular expression", at: span(start, pos)) }
                return Token(
                    kind: .regex(source: body, flags: source.slice(flagsStart, pos)), start: start, end: pos)
            }
            pos += 1
        }
        throw .error(.syntax, "unterminated regular expression literal", at: span(start, start + 1))
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "_")
    }
    private func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
    private func utf8Length(_ c: UInt8) -> Int {
        c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
    }
}
