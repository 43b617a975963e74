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
                let e = bytes[pos + 1]
                pos += 2
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "0"): out.append(0)
                case UInt8(ascii: "u"):
                    var v: UInt32 = 0
                    var digits = 0
                    while digits < 4, pos < limit, let d = hexValue(bytes[pos]) {
                        v = v * 16 + d
                        pos += 1
                        digits += 1
                    }
                    guard digits == 4, let scalar = Unicode.Scalar(v) else {
                        throw .error(
                            .syntax, "invalid \\u escape (four hex digits expected)", at: span(pos - digits - 2, pos))
                    }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default: out.append(e)
                }
                continue
            }
            out.append(c)
            pos += 1
        }
        throw .error(.syntax, "unterminated string literal", at: span(start, start + 1))
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
    private func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: UInt32(c - 48)
        case 65...70: UInt32(c - 55)
        case 97...102: UInt32(c - 87)
        default: nil
        }
    }
    private func utf8Length(_ c: UInt8) -> Int {
        c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4
    }
}
