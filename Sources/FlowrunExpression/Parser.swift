import FlowrunValue

/// Recursive-descent parser for the expression language, one method per grammar rule.
///
/// Precedence, loosest first: arrow, `?:`, `??`, `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* / %`,
/// unary `! - +`, postfix (`.x ?.x [i] (args)`), primary.
public struct Parser {
    public static let maxDepth = 100

    private let source: SourceFile
    private var tokens: [Token]
    private var index = 0
    private var depth = 0

    /// Parses the expression in `range` of `source` (the text between `<<` and `>>`).
    public static func parse(source: SourceFile, range: Range<Int>) throws(Diagnostic) -> Expr {
        var lexer = Lexer(source: source, range: range)
        var parser = Parser(source: source, tokens: try lexer.tokenize())
        if case .end = parser.peek.kind {
            throw .error(
                .syntax, "empty expression",
                at: Span(source: source, start: range.lowerBound - 2, end: range.upperBound + 2))
        }
        let expr = try parser.expression()
        guard case .end = parser.peek.kind else {
            throw .error(
                .syntax, "unexpected \(parser.describe(parser.peek)) after the expression", at: parser.span(parser.peek)
            )
        }
        return expr
    }

    private init(source: SourceFile, tokens: [Token]) {
        self.source = source
        self.tokens = tokens
    }

    private var peek: Token { tokens[index] }
    private func peek(_ offset: Int) -> Token { tokens[min(index + offset, tokens.count - 1)] }
    private func span(_ t: Token) -> Span { Span(source: source, start: t.start, end: max(t.end, t.start + 1)) }
    private func span(from start: Int) -> Span {
        Span(source: source, start: start, end: tokens[max(0, index - 1)].end)
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: "end of expression"
        case .number: "number"
        case .string: "string"
        case .identifier(let n): "'\(n)'"
        case .dollar: "'$'"
        case .punct(let p): "'\(p)'"
        case .regex: "regular expression"
        }
    }

    private func isPunct(_ p: String, _ t: Token? = nil) -> Bool {
        if case .punct(let q) = (t ?? peek).kind { return q == p }
        return false
    }

    @discardableResult
    private mutating func advance() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private mutating func expect(_ p: String, _ what: String) throws(Diagnostic) -> Token {
        guard isPunct(p) else {
            throw .error(.syntax, "expected '\(p)' \(what), found \(describe(peek))", at: span(peek))
        }
        return advance()
    }

    private mutating func nest() throws(Diagnostic) {
        depth += 1
        if depth > Self.maxDepth {
            throw .error(.tooDeep, "expression nested more than \(Self.maxDepth) levels deep", at: span(peek))
        }
    }

    /// expression := arrow | conditional
    private mutating func expression() throws(Diagnostic) -> Expr {
        try nest()
        defer { depth -= 1 }
        if let arrow = try arrow() { return arrow }
        return try conditional()
    }

    /// arrow := IDENT '=>' expression | '(' (IDENT (',' IDENT)*)? ')' '=>' expression
    private mutating func arrow() throws(Diagnostic) -> Expr? {
        let start = peek.start
        var params: [String] = []
        if case .identifier(let name) = peek.kind, isPunct("=>", peek(1)) {
            params = [name]
            advance()
        } else if isPunct("(") {
            var i = 1
            var names: [String] = []
            while true {
                guard case .identifier(let n) = peek(i).kind else { break }
                names.append(n)
                i += 1
                if isPunct(",", peek(i)) { i += 1 } else { break }
            }
            guard isPunct(")", peek(i)), isPunct("=>", peek(i + 1)) else { return nil }
            params = names
            index += i
            advance()
        } else {
            return nil
        }
        advance()  // =>
        let body = try expression()
        return Expr(.arrow(params, body), span(from: start))
    }

    /// conditional := coalesce ('?' expression ':' expression)?
    ///
    /// A conditional in the `:` branch (`a ? x : b ? y : z`) is parsed by the same loop: the chain is
    /// one flat `conditionals` node, however many branches it has.
    private mutating func conditional() throws(Diagnostic) -> Expr {
        var condition = try binary(level: 0)
        guard isPunct("?") else { return condition }
        let start = condition.span
        var branches: [ExprKind.Branch] = []
        var otherwise: Expr
        while true {
            advance()  // ?
            let then = try expression()
            _ = try expect(":", "in a conditional expression")
            branches.append(ExprKind.Branch(condition: condition, then: then))
            if let arrow = try arrow() {
                otherwise = arrow
                break
            }
            let next = try binary(level: 0)
            guard isPunct("?") else {
                otherwise = next
                break
            }
            condition = next
        }
        if branches.count == 1 {
            return Expr(.conditional(branches[0].condition, branches[0].then, otherwise), start.to(otherwise.span))
        }
        return Expr(.conditionals(branches, otherwise: otherwise), start.to(otherwise.span))
    }

    /// Binary operator levels, loosest first.
    private static let levels: [[String: BinaryOp]] = [
        ["??": .coalesce],
        ["||": .or],
        ["&&": .and],
        ["==": .equal, "!=": .notEqual, "===": .equal, "!==": .notEqual],
        ["<": .less, "<=": .lessEqual, ">": .greater, ">=": .greaterEqual],
        ["+": .add, "-": .subtract],
        ["*": .multiply, "/": .divide, "%": .remainder],
    ]

    /// Each operator with its level in `levels`.
    private static let operators: [String: (op: BinaryOp, level: Int)] = {
        var all: [String: (op: BinaryOp, level: Int)] = [:]
        for (level, ops) in levels.enumerated() { for (text, op) in ops { all[text] = (op, level) } }
        return all
    }()

    /// binary(n) := unary (OP(m) binary(m+1))*   for operators of level m >= n, all left-associative
    ///
    /// Precedence climbing: one loop per call, and a nested call only where the precedence rises
    /// (`a + b * c`), so an operand costs one stack frame, not one per level. The loop folds from the
    /// left: one operator gives a `binary` node, more give one flat `chain`, so that long chains such
    /// as `1 + 1 + ...` cost no recursion in the checker, the compiler or at run time either.
    private mutating func binary(level: Int) throws(Diagnostic) -> Expr {
        let first = try unary()
        var links: [ExprKind.Link] = []
        while case .punct(let p) = peek.kind, let (op, opLevel) = Self.operators[p], opLevel >= level {
            advance()
            let rhs = try binary(level: opLevel + 1)
            links.append(ExprKind.Link(op: op, rhs: rhs, span: first.span.to(rhs.span)))
        }
        switch links.count {
        case 0: return first
        case 1: return Expr(.binary(links[0].op, first, links[0].rhs), links[0].span)
        default: return Expr(.chain(first, links), links[links.count - 1].span)
        }
    }

    /// unary := ('!' | '-' | '+') unary | postfix
    private mutating func unary() throws(Diagnostic) -> Expr {
        let start = peek.start
        let op: UnaryOp? = isPunct("!") ? .not : isPunct("-") ? .negate : isPunct("+") ? .plus : nil
        guard let op else { return try postfix() }
        advance()
        try nest()
        defer { depth -= 1 }
        let operand = try unary()
        if op == .negate, case .literal(let v) = operand.kind {
            if case .int(let i) = v { return Expr(.literal(.int(-i)), span(from: start)) }
            if case .double(let d) = v { return Expr(.literal(.double(-d)), span(from: start)) }
        }
        return Expr(.unary(op, operand), span(from: start))
    }

    /// Postfix chains up to this many links become nested nodes (`member`, `index`, `method`), which
    /// the compiler turns into its fastest closures; longer ones one flat `access` node.
    static let nestedPostfixLimit = 8

    /// postfix := primary ( '.' IDENT | '?.' IDENT | '[' expression ']' | '?.[' expression ']' | '(' args ')' )*
    ///
    /// A loop; only the first `nestedPostfixLimit` links count towards the nesting depth, as only they
    /// nest in the syntax tree.
    private mutating func postfix() throws(Diagnostic) -> Expr {
        var base = try primary()
        let start = base.span.start
        var links: [ExprKind.Access] = []
        var counted = 0
        defer { depth -= counted }
        while true {
            if links.count < Self.nestedPostfixLimit, isPunct(".") || isPunct("?.") || isPunct("[") || isPunct("(") {
                counted += 1
                try nest()
            }
            if isPunct(".") || isPunct("?.") {
                let optional = isPunct("?.")
                advance()
                if optional, isPunct("[") {
                    advance()
                    let index = try expression()
                    _ = try expect("]", "to close the index")
                    links.append(ExprKind.Access(kind: .index(index, optional: true), span: span(from: start)))
                    continue
                }
                guard case .identifier(let name) = peek.kind else {
                    throw .error(.syntax, "expected a field name after '.', found \(describe(peek))", at: span(peek))
                }
                advance()
                if isPunct("(") {
                    let args = try arguments()
                    if links.isEmpty, case .name("JSON") = base.kind {
                        base = Expr(.call("JSON." + name, args), span(from: start))
                    } else {
                        let kind = ExprKind.Access.Kind.method(name, args, optional: optional)
                        links.append(ExprKind.Access(kind: kind, span: span(from: start)))
                    }
                } else {
                    links.append(ExprKind.Access(kind: .member(name, optional: optional), span: span(from: start)))
                }
            } else if isPunct("[") {
                advance()
                let index = try expression()
                _ = try expect("]", "to close the index")
                links.append(ExprKind.Access(kind: .index(index, optional: false), span: span(from: start)))
            } else if isPunct("(") {
                guard links.isEmpty, case .name(let fn) = base.kind else {
                    throw .error(.syntax, "only named functions and methods can be called", at: span(peek))
                }
                let args = try arguments()
                base = Expr(.call(fn, args), span(from: start))
            } else {
                break
            }
        }
        if links.count > Self.nestedPostfixLimit {
            // `$.field` and `item.field` keep their fast paths as the start of the chain.
            if case .member = links[0].kind, Self.isNameOrInput(base) {
                base = Self.nest(base, links[0])
                links.removeFirst()
            }
            return Expr(.access(base, links), links[links.count - 1].span)
        }
        for link in links { base = Self.nest(base, link) }
        return base
    }

    private static func isNameOrInput(_ e: Expr) -> Bool {
        switch e.kind {
        case .name, .input: true
        default: false
        }
    }

    /// The nested node for one postfix link applied to `base`.
    private static func nest(_ base: Expr, _ link: ExprKind.Access) -> Expr {
        switch link.kind {
        case .member(let name, let optional): Expr(.member(base, name, optional: optional), link.span)
        case .index(let index, let optional): Expr(.index(base, index, optional: optional), link.span)
        case .method(let name, let args, let optional): Expr(.method(base, name, args, optional: optional), link.span)
        }
    }

    /// args := '(' (expression (',' expression)* ','?)? ')'
    private mutating func arguments() throws(Diagnostic) -> [Expr] {
        _ = try expect("(", "to start the arguments")
        var args: [Expr] = []
        while !isPunct(")") {
            args.append(try expression())
            if isPunct(",") { advance() } else { break }
        }
        _ = try expect(")", "to close the argument list")
        return args
    }

    /// primary := NUMBER | STRING | REGEX | 'true' | 'false' | 'null' | '$' | IDENT | '(' expression ')' | array | object
    private mutating func primary() throws(Diagnostic) -> Expr {
        let token = peek
        switch token.kind {
        case .number(let v):
            advance()
            return Expr(.literal(v), span(token))
        case .string(let s):
            advance()
            return Expr(.literal(.string(s)), span(token))
        case .regex(let pattern, let flags):
            // `/p/f` is `regex('p', 'f')`: a constant pattern, compiled once when the expression is.
            advance()
            let at = span(token)
            return Expr(.call("regex", [Expr(.literal(.string(pattern)), at), Expr(.literal(.string(flags)), at)]), at)
        case .dollar:
            advance()
            return Expr(.input, span(token))
        case .identifier(let name):
            advance()
            switch name {
            case "true": return Expr(.literal(.bool(true)), span(token))
            case "false": return Expr(.literal(.bool(false)), span(token))
            case "null", "undefined": return Expr(.literal(.null), span(token))
            default: return Expr(.name(name), span(token))
            }
        case .punct("("):
            advance()
            let inner = try expression()
            _ = try expect(")", "to close the parenthesis")
            return Expr(inner.kind, span(from: token.start))
        case .punct("["):
            return try arrayLiteral()
        case .punct("{"):
            return try objectLiteral()
        default:
            throw .error(.syntax, "expected a value, found \(describe(token))", at: span(token))
        }
    }

    /// array := '[' (('...' expression | expression) (',' ...)* ','?)? ']'
    private mutating func arrayLiteral() throws(Diagnostic) -> Expr {
        let start = advance().start
        var elements: [ExprKind.Element] = []
        while !isPunct("]") {
            if isPunct("...") {
                advance()
                elements.append(.spread(try expression()))
            } else {
                elements.append(.value(try expression()))
            }
            if isPunct(",") { advance() } else { break }
        }
        _ = try expect("]", "to close the array")
        return Expr(.array(elements), span(from: start))
    }

    /// object := '{' ((KEY ':' expression | '...' expression) (',' ...)* ','?)? '}'   KEY := IDENT | STRING | NUMBER
    private mutating func objectLiteral() throws(Diagnostic) -> Expr {
        let start = advance().start
        var entries: [ExprKind.Entry] = []
        while !isPunct("}") {
            if isPunct("...") {
                advance()
                entries.append(.spread(try expression()))
            } else {
                let keyToken = advance()
                let key: String
                switch keyToken.kind {
                case .identifier(let n): key = n
                case .string(let s): key = s
                case .number(let v): key = v.interpolated
                default:
                    throw .error(
                        .syntax, "expected a key in the object, found \(describe(keyToken))", at: span(keyToken))
                }
                _ = try expect(":", "after the key '\(key)' (shorthand keys are not supported)")
                entries.append(.pair(key, try expression()))
            }
            if isPunct(",") { advance() } else { break }
        }
        _ = try expect("}", "to close the object")
        return Expr(.object(entries), span(from: start))
    }
}
