import FlowrunValue

/// The syntax tree of one expression. Names are not resolved yet; the checker and the compiler do that.
public indirect enum ExprKind: Sendable {
    case literal(Value)
    /// `$`, the incoming message.
    case input
    /// A bare name: an arrow parameter, or one of the globals `vars secrets env run flow JSON`.
    case name(String)
    /// `a.b` or `a?.b`.
    case member(Expr, String, optional: Bool)
    /// `a[i]` or `a?.[i]`.
    case index(Expr, Expr, optional: Bool)
    /// `f(args)`, and `JSON.stringify(x)` as the function `JSON.stringify`.
    case call(String, [Expr])
    /// `recv.m(args)` or `recv?.m(args)`.
    case method(Expr, String, [Expr], optional: Bool)
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    /// Two or more binary operators folded from the left, `a + b - c * d == e` at one precedence level
    /// or across levels: `((first op0 rhs0) op1 rhs1) ...`. Kept flat so that a chain of 100,000 terms
    /// is checked, compiled, evaluated and released without one stack frame per term.
    case chain(Expr, [Link])
    case conditional(Expr, Expr, Expr)
    /// `c1 ? t1 : c2 ? t2 : ... : otherwise` with two or more conditions, kept flat like `chain`.
    case conditionals([Branch], otherwise: Expr)
    case array([Element])
    case object([Entry])
    /// A long run of postfix operations, `base.a[0].b(x)...`, kept flat (see `Parser.nestedPostfixLimit`):
    /// a chain of any length is checked, compiled, evaluated and released without a frame per link.
    case access(Expr, [Access])
    /// `x => body` or `(acc, x) => body`; only valid as a method argument.
    case arrow([String], Expr)

    public enum Element: Sendable {
        case value(Expr)
        case spread(Expr)
    }

    public enum Entry: Sendable {
        case pair(String, Expr)
        case spread(Expr)
    }

    /// One postfix operation of an `access` chain, with the span from the start of the chain to its end.
    public struct Access: Sendable {
        public enum Kind: Sendable {
            case member(String, optional: Bool)
            case index(Expr, optional: Bool)
            case method(String, [Expr], optional: Bool)
        }
        public let kind: Kind
        public let span: Span

        public var optional: Bool {
            switch kind {
            case .member(_, let o), .index(_, let o), .method(_, _, let o): o
            }
        }
    }

    /// One `condition ? then :` of a `conditionals` chain.
    public struct Branch: Sendable {
        public let condition: Expr
        public let then: Expr
    }

    /// One step of a `chain`: the operator, its right operand, and the span from the start of the chain
    /// to the end of this operand (the span a nested `binary` would have).
    public struct Link: Sendable {
        public let op: BinaryOp
        public let rhs: Expr
        public let span: Span
    }
}

public enum UnaryOp: String, Sendable {
    case not = "!"
    case negate = "-"
    case plus = "+"
}

public enum BinaryOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case and = "&&", or = "||", coalesce = "??"
}

public struct Expr: Sendable {
    public let kind: ExprKind
    public let span: Span

    public init(_ kind: ExprKind, _ span: Span) {
        self.kind = kind
        self.span = span
    }
}
