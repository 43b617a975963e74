import FlowrunValue

/// Finds `<<...>>` spans in text. A `>>` inside a quoted string of the expression does not end it;
/// `\<<` is a literal `<<`; `<<:` (a YAML merge key) is not a template.
public enum TemplateScanner {
    public enum Piece: Equatable, Sendable {
        /// Literal text (byte range), with `\<<` still escaped.
        case text(Range<Int>)
        /// A template: the whole `<<...>>` range and the expression range inside it.
        case template(outer: Range<Int>, inner: Range<Int>)
        /// A literal `<<` written as `\<<` (the range covers the three bytes).
        case escape(Range<Int>)
    }

    /// Splits `range` of `bytes` into text, escapes and templates. A `<<` without `>>` is reported and
    /// kept as text, so that scanning (and checking) goes on.
    public static func scan(_ source: SourceFile, _ range: Range<Int>) -> (pieces: [Piece], diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let b = source.bytes
        var pieces: [Piece] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">")
        func flush(_ end: Int) {
            if end > textStart { pieces.append(.text(textStart..<end)) }
        }
        while i + 1 < range.upperBound {
            if b[i] == UInt8(ascii: "\\"), i + 2 < range.upperBound, b[i + 1] == lt, b[i + 2] == lt {
                flush(i)
                pieces.append(.escape(i..<i + 3))
                i += 3
                textStart = i
                continue
            }
            guard b[i] == lt, b[i + 1] == lt, !(i + 2 < range.upperBound && b[i + 2] == UInt8(ascii: ":")) else {
                i += 1
                continue
            }
            let open = i
            var j = i + 2
            var quote: UInt8? = nil
            var close: Int? = nil
            var depth = 0
            while j < range.upperBound {
                let c = b[j]
                if let q = quote {
                    if c == UInt8(ascii: "\\") { j += 2; continue }
                    if c == q || c == 0x0A { quote = nil }
                } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                    quote = c
                } else if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    depth += 1
                } else if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    depth -= 1
                } else if c == 0x0A, depth <= 0, startsYAMLEntry(b, j + 1, range.upperBound) {
                    // The template would run into the next YAML key or list item: it was never closed.
                    break
                } else if c == gt, j + 1 < range.upperBound, b[j + 1] == gt {
                    close = j
                    break
                }
                j += 1
            }
            guard let close else {
                diagnostics.append(
                    .error(
                        .unterminatedTemplate, "'<<' has no matching '>>'",
                        at: Span(source: source, start: open, end: open + 2),
                        help: quote != nil ? "a quote inside the template is not closed" : "write \\<< for a literal <<"
                    ))
                i += 2
                continue
            }
            flush(open)
            pieces.append(.template(outer: open..<close + 2, inner: open + 2..<close))
            i = close + 2
            textStart = i
        }
        flush(range.upperBound)
        return (pieces, diagnostics)
    }

    /// Whether the line starting at `i` looks like a YAML list item (`- `) or a key (`name:`).
    static func startsYAMLEntry(_ b: [UInt8], _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end, b[i] == 0x20 { i += 1 }
        guard i < end else { return false }
        if b[i] == UInt8(ascii: "-"), i + 1 < end, b[i + 1] == 0x20 { return true }
        var j = i
        while j < end {
            let c = b[j]
            let word = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 45
            if !word { break }
            j += 1
        }
        guard j > i, j < end, b[j] == UInt8(ascii: ":") else { return false }
        return j + 1 >= end || b[j + 1] == 0x20 || b[j + 1] == 0x0A
    }
}

/// A string that may hold templates. Exactly one template (with only whitespace around it) yields a
/// typed value; anything else is string interpolation.
public struct Template: Sendable {
    public enum Part: Sendable {
        case text(String)
        case expression(CompiledExpression)
    }

    public let parts: [Part]
    /// The single expression, if the template is exactly one `<<expr>>`.
    public let wholeExpression: CompiledExpression?

    public init(parts: [Part]) {
        self.parts = parts
        self.wholeExpression = Template.whole(parts)
    }

    private static func whole(_ parts: [Part]) -> CompiledExpression? {
        var found: CompiledExpression?
        for part in parts {
            switch part {
            case .text(let t): if !t.allSatisfy(\.isWhitespace) { return nil }
            case .expression(let e):
                if found != nil { return nil }
                found = e
            }
        }
        return found
    }

    public func evaluate(_ input: Value, _ globals: Globals) throws(EvalError) -> Value {
        if let whole = wholeExpression { return try whole.evaluate(input, globals) }
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .expression(let e): out += try e.evaluate(input, globals).interpolated
            }
        }
        return .string(out)
    }
}

/// Parse, check and compile in one call, collecting every diagnostic.
public enum ExpressionCompiler {
    public struct Result: Sendable {
        public let compiled: CompiledExpression?
        public let shape: Shape
        public let diagnostics: [Diagnostic]
    }

    /// Compiles the expression in `range` (the text between `<<` and `>>`).
    public static func compile(source: SourceFile, range: Range<Int>, context: CheckContext) -> Result {
        let expr: Expr
        do { expr = try Parser.parse(source: source, range: range) } catch {
            return Result(compiled: nil, shape: .any, diagnostics: [error])
        }
        var checker = Checker(context: context)
        let shape = checker.check(expr)
        if checker.diagnostics.contains(where: { $0.severity == .error }) {
            return Result(compiled: nil, shape: shape, diagnostics: checker.diagnostics)
        }
        do {
            return Result(compiled: try Compiler.compile(expr), shape: shape, diagnostics: checker.diagnostics)
        } catch {
            return Result(compiled: nil, shape: shape, diagnostics: checker.diagnostics + [error])
        }
    }

    /// Compiles a whole template string such as `'<<$.a + 1>>'` or `'page <<$.page>>'`: the entry
    /// point of `flowrun eval` and of tests. Text that holds no `<<` is taken as one expression.
    public static func compileTemplate(_ text: String, path: String = "<expr>", context: CheckContext = CheckContext())
        -> (template: Template?, shape: Shape, diagnostics: [Diagnostic])
    {
        let source = SourceFile(path: path, text: text)
        let (pieces, scanDiagnostics) = TemplateScanner.scan(source, 0..<source.bytes.count)
        if !scanDiagnostics.isEmpty { return (nil, .any, scanDiagnostics) }
        if !pieces.contains(where: { if case .text = $0 { false } else { true } }) {
            let r = compile(source: source, range: 0..<source.bytes.count, context: context)
            return (r.compiled.map { Template(parts: [.expression($0)]) }, r.shape, r.diagnostics)
        }
        var parts: [Template.Part] = []
        var diagnostics: [Diagnostic] = []
        var shape = Shape.string
        var count = 0
        for piece in pieces {
            switch piece {
            case .text(let r): parts.append(.text(source.slice(r.lowerBound, r.upperBound)))
            case .escape: parts.append(.text("<<"))
            case .template(_, let inner):
                count += 1
                let r = compile(source: source, range: inner, context: context)
                diagnostics += r.diagnostics
                shape = r.shape
                if let c = r.compiled { parts.append(.expression(c)) }
            }
        }
        let template = Template(parts: parts)
        if !(count == 1 && template.wholeExpression != nil) { shape = .string }
        return (diagnostics.contains { $0.severity == .error } ? nil : template, shape, diagnostics)
    }
}
