import FlowrunValue

/// What the checker knows about the names an expression may read.
public struct CheckContext: Sendable {
    /// The shape of `$`.
    public var input: Shape
    public var vars: Shape
    public var secrets: Shape
    public var env: Shape
    public var run: Shape
    public var flow: Shape
    /// Whether `$` exists at all (settings templates have no message).
    public var hasInput: Bool

    public init(
        input: Shape = .any, vars: Shape = .anyObject, secrets: Shape = .anyObject, hasInput: Bool = true
    ) {
        self.input = input
        self.vars = vars
        self.secrets = secrets
        self.env = .object(ObjectShape([], open: true))
        self.run = .object([
            Field("id", .string, doc: "the run's id"), Field("startedAt", .int, doc: "Unix nanoseconds"),
            Field("trigger", .string, doc: "manual, scheduled, webhook, retry, replay or rescue"),
            Field("dryRun", .bool, doc: "whether writes are skipped"),
            Field(
                "fence", .oneOf([.int, .null]),
                doc:
                    "the fencing token of the run's lease (grows with every run that takes the flow's lease; with run.overlap: allow each run has a lease of its own): guard a destination write with it so a run that lost its lease cannot overwrite a newer one"
            ),
            Field("node", .string, doc: "the cluster node running it (FLOWRUN_NODE_ID)"),
            Field(
                "slot", .oneOf([.int, .null]),
                doc:
                    "the schedule slot (Unix nanoseconds) a scheduled run fires, also in its retries and rescue runs; null for other runs: key a destination write by it to make a rescued slot idempotent"
            ),
        ])
        self.flow = .object([
            Field("name", .string, doc: "the flow's name (`flow:`)"),
            Field("dir", .string, doc: "the absolute directory of the flow file: for files kept beside the flow"),
        ])
        self.hasInput = hasInput
    }

    static let globalNames = ["vars", "secrets", "env", "run", "flow"]
}

/// Resolves names, checks arity and infers the result shape of an expression, reporting every
/// problem it can prove: unknown names, functions and methods, impossible field reads, operators
/// on the wrong types. `any` never causes an error.
public struct Checker {
    public private(set) var diagnostics: [Diagnostic] = []
    private let context: CheckContext
    private var scope: [(name: String, shape: Shape)] = []

    public init(context: CheckContext) { self.context = context }

    /// Checks `expr` and returns its result shape.
    public mutating func check(_ expr: Expr) -> Shape { check(expr, probing: false) }

    private mutating func report(_ code: DiagnosticCode, _ message: String, _ span: Span, help: String? = nil) {
        diagnostics.append(.error(code, message, at: span, help: help))
    }

    /// `probing` is true where a missing field is expected and handled (left of `??`, conditions, ...).
    private mutating func check(_ expr: Expr, probing: Bool) -> Shape {
        let span = expr.span
        switch expr.kind {
        case .literal(let v):
            return Shape(of: v)
        case .input:
            if !context.hasInput {
                report(.unknownIdentifier, "'$' is not available here: settings are evaluated without a message", span)
                return .any
            }
            return context.input
        case .name(let name):
            if let local = scope.last(where: { $0.name == name }) { return local.shape }
            switch name {
            case "vars": return context.vars
            case "secrets": return context.secrets
            case "env": return context.env
            case "run": return context.run
            case "flow": return context.flow
            case "JSON":
                report(.unknownIdentifier, "JSON can only be used as JSON.stringify(...) or JSON.parse(...)", span)
                return .any
            default:
                let candidates = scope.map(\.name) + CheckContext.globalNames
                let help =
                    didYouMean(name, candidates)
                    ?? (Builtins.byName[name] != nil ? "\(name) is a function: call it as \(name)(...)" : nil)
                report(
                    .unknownIdentifier, "unknown name '\(name)'", span,
                    help: help ?? "names are arrow parameters or one of $ vars secrets env run flow")
                return .any
            }
        case .member(let base, let name, let optional):
            if case .input = base.kind, name == "secrets" { return context.secrets }
            let b = check(base, probing: probing)
            return access(b, name, lenient: probing || optional || Compiler.nullSafe(expr), base: base.span, span: span)
        case .index(let base, let index, let optional):
            let b = check(base, probing: probing)
            return self.index(b, index, lenient: probing || optional, base: base.span, span: span)
        case .access(let base, let links):
            // The nested nodes' rules, link by link, with the shape so far as the base.
            var shape = check(base, probing: probing)
            var safe = Compiler.nullSafe(base)
            var baseSpan = base.span
            for link in links {
                safe = safe || link.optional
                switch link.kind {
                case .member(let name, let optional):
                    shape = access(shape, name, lenient: probing || optional || safe, base: baseSpan, span: link.span)
                case .index(let index, let optional):
                    shape = self.index(shape, index, lenient: probing || optional, base: baseSpan, span: link.span)
                case .method(let name, let args, let optional):
                    shape = method(shape, name, args, optional: optional, probing: probing, span: link.span)
                }
                baseSpan = link.span
            }
            return shape
        case .call(let name, let args):
            let shapes = args.map { checkArgument($0) }
            guard let spec = Builtins.byName[name] else {
                report(
                    .unknownFunction, "unknown function '\(name)'", span, help: Suggestions.function(name))
                return .any
            }
            if name == "regex", case .failure(let failure)? = RegexOps.constant(args) {
                report(failure.code, failure.message, span)
            }
            if !spec.arity.contains(args.count) {
                report(
                    .arity, "\(name) takes \(Compiler.describe(spec.arity)), got \(args.count)", span,
                    help: "usage: \(spec.signature)")
                return spec.result(shapes)
            }
            return spec.result(shapes)
        case .method(let receiver, let name, let args, let optional):
            let r = check(receiver, probing: probing)
            return method(r, name, args, optional: optional, probing: probing, span: span)
        case .unary(let op, let operand):
            let o = check(operand, probing: op == .not || probing)
            if op == .not { return .bool }
            if definitelyNot(o, ["number"]) {
                report(.operandType, "unary \(op.rawValue) needs a number, but this is \(o)", operand.span)
            }
            return o.kind == "number" ? o : .number
        case .binary(let op, let lhs, let rhs):
            let l = check(lhs, probing: Self.lhsProbing(op, probing))
            return binary(op, l, lhs.span, rhs, probing: probing, span: span)
        case .chain(let first, let links):
            // The chain is the left-deep tree ((first op0 rhs0) op1 rhs1) ...: each link's left operand
            // probes as its parent operator says, so the flags are found from the top down first.
            var probings = [Bool](repeating: probing, count: links.count)
            for k in stride(from: links.count - 1, to: 0, by: -1) {
                probings[k - 1] = Self.lhsProbing(links[k].op, probings[k])
            }
            var shape = check(first, probing: Self.lhsProbing(links[0].op, probings[0]))
            var lhsSpan = first.span
            for (k, link) in links.enumerated() {
                shape = binary(link.op, shape, lhsSpan, link.rhs, probing: probings[k], span: link.span)
                lhsSpan = link.span
            }
            return shape
        case .conditional(let c, let t, let f):
            _ = check(c, probing: true)
            return Shape.join(check(t, probing: probing), check(f, probing: probing))
        case .conditionals(let branches, let otherwise):
            var shape = Shape.never
            for branch in branches {
                _ = check(branch.condition, probing: true)
                shape = Shape.join(shape, check(branch.then, probing: probing))
            }
            return Shape.join(shape, check(otherwise, probing: probing))
        case .array(let elements):
            var element = Shape.never
            for e in elements {
                switch e {
                case .value(let x): element = Shape.join(element, check(x, probing: probing))
                case .spread(let x):
                    let s = check(x, probing: probing)
                    if definitelyNot(s, ["array"]) { report(.operandType, "cannot spread \(s) into an array", x.span) }
                    element = Shape.join(element, s.element)
                }
            }
            return .array(element)
        case .object(let entries):
            var object = ObjectShape([])
            for e in entries {
                switch e {
                case .pair(let key, let x):
                    object = object.spreading(ObjectShape([Field(key, check(x, probing: probing))]))
                case .spread(let x):
                    let s = check(x, probing: probing)
                    switch s {
                    case .object(let o): object = object.spreading(o)
                    case .null, .never: break
                    default:
                        if definitelyNot(s, ["object", "null"]) {
                            report(.operandType, "cannot spread \(s) into an object", x.span)
                        }
                        object = object.spreading(ObjectShape([], open: true))
                    }
                }
            }
            return .object(object)
        case .arrow:
            report(.misplacedArrow, "an arrow function can only be passed to a method such as .map", span)
            return .any
        }
    }

    /// The shape of `index` applied to a base of shape `b`.
    private mutating func index(_ b: Shape, _ index: Expr, lenient: Bool, base: Span, span: Span) -> Shape {
        let i = check(index, probing: false)
        if case .literal(.string(let key)) = index.kind, b.kind == "object" || b == .any {
            return access(b, key, lenient: lenient, base: base, span: span)
        }
        if b.kind == "array" || b.kind == "string" {
            if let k = i.kind, k != "number" {
                report(.operandType, "an index into \(b.kind!) must be an int, not \(i)", index.span)
            }
            return Shape.optional(b.element)
        }
        if let k = b.kind, k != "object", k != "null" {
            report(.operandType, "cannot index \(b)", span)
        }
        return .any
    }

    /// The shape of the method call `.name(args)` on a receiver of shape `r`.
    private mutating func method(_ r: Shape, _ name: String, _ args: [Expr], optional: Bool, probing: Bool, span: Span)
        -> Shape
    {
        guard let spec = Methods.byName[name] else {
            for a in args { _ = checkIgnoringArrow(a) }
            report(.unknownMethod, "unknown method '.\(name)'", span, help: Suggestions.method(name))
            return .any
        }
        if let kind = r.kind, kind != "null" || !(optional || probing), !spec.receivers.contains(kind) {
            report(
                .methodOnType,
                "\(kind) has no method .\(name) (it is a method of \(spec.receivers.joined(separator: " and ")))",
                span,
                help: kind == "object" ? "use keys(), values() or entries() to turn an object into an array" : nil)
        }
        if !spec.arity.contains(args.count) {
            report(
                .arity, ".\(name) takes \(Compiler.describe(spec.arity)), got \(args.count)", span,
                help: "usage: \(spec.signature)")
            for a in args { _ = checkIgnoringArrow(a) }
            return .any
        }
        var shapes: [Shape] = []
        if let allowed = spec.lambdaParams {
            guard case .arrow(let params, let body) = args[0].kind else {
                report(.misplacedArrow, ".\(name) expects an arrow function such as x => ...", args[0].span)
                return .any
            }
            if params.count > allowed.upperBound {
                report(
                    .arity, "the function passed to .\(name) takes at most \(allowed.upperBound) parameters",
                    args[0].span)
            }
            let rest = args.dropFirst().map { checkArgument($0) }
            let element = r.element
            let paramShapes: [Shape] =
                name == "reduce"
                ? [rest.first.map { Shape.join($0, element) } ?? element, element, .int] : [element, .int]
            for (p, s) in zip(params, paramShapes) { scope.append((p, s)) }
            let bodyShape = check(body, probing: false)
            scope.removeLast(min(params.count, paramShapes.count))
            shapes = [bodyShape] + rest
        } else {
            shapes = args.map { checkArgument($0) }
        }
        return spec.result(r, shapes)
    }

    /// Checks an argument of a call that is already reported as wrong, without a second report for an arrow.
    private mutating func checkIgnoringArrow(_ e: Expr) -> Shape {
        if case .arrow = e.kind { return .any }
        return check(e, probing: false)
    }

    private mutating func checkArgument(_ e: Expr) -> Shape {
        if case .arrow = e.kind {
            report(.misplacedArrow, "an arrow function can only be passed to a method such as .map", e.span)
            return .any
        }
        return check(e, probing: false)
    }

    private mutating func access(_ b: Shape, _ name: String, lenient: Bool, base: Span, span: Span) -> Shape {
        if let s = b.field(name) { return s }
        if lenient { return .null }
        var help: String?
        // Fields of every object the value may be (a declared body is `object | null`).
        let names = b.members.flatMap { m -> [String] in
            if case .object(let o) = m { return o.fields.map(\.name) }
            return []
        }
        help = didYouMean(name, names)
        if help == nil, b.kind == "array", Methods.byName[name] != nil {
            help = "\(name) is a method: call it as .\(name)(...)"
        }
        let what = describe(base)
        var shape = b.description
        if shape.count > 120 { shape = String(shape.prefix(117)) + "..." }
        report(.noSuchField, "\(what) has no field '\(name)' (its shape is \(shape))", span, help: help)
        return .any
    }

    private func describe(_ e: Expr) -> String { describe(e.span) }

    private func describe(_ span: Span) -> String {
        guard span.end - span.start <= 160 else { return "this value" }
        let text = span.source.slice(span.start, span.end)
        return text.count <= 40 && !text.contains("\n") ? "`\(text)`" : "this value"
    }

    /// True when every possible kind of `s` is known and none is in `allowed` (so the operation surely fails).
    private func definitelyNot(_ s: Shape, _ allowed: Set<String>) -> Bool {
        let members = s.members.filter { !$0.isNever }
        guard !members.isEmpty else { return false }
        return members.allSatisfy { m in m.kind.map { !allowed.contains($0) } ?? false }
    }

    /// Whether the left operand of `op` may probe for missing fields.
    private static func lhsProbing(_ op: BinaryOp, _ probing: Bool) -> Bool {
        switch op {
        case .coalesce, .or, .and, .equal, .notEqual: true
        default: probing
        }
    }

    /// The shape of `lhs op rhs`, given the shape `l` of the left operand (checked by the caller with
    /// `lhsProbing`) and the span of that operand.
    private mutating func binary(_ op: BinaryOp, _ l: Shape, _ lhsSpan: Span, _ rhs: Expr, probing: Bool, span: Span)
        -> Shape
    {
        switch op {
        case .coalesce, .or, .and:
            let r = check(rhs, probing: probing || op == .and)
            if op == .coalesce {
                let nonNull = l.members.filter { $0 != .null }
                let left = nonNull.reduce(Shape.never) { Shape.join($0, $1) }
                return Shape.join(left, r)
            }
            return Shape.join(l, r)
        case .equal, .notEqual:
            _ = check(rhs, probing: true)
            return .bool
        case .less, .lessEqual, .greater, .greaterEqual:
            let r = check(rhs, probing: probing)
            if let a = l.kind, let b = r.kind, a != b || !["number", "string"].contains(a) {
                report(.operandType, "cannot compare \(l) with \(r) using \(op.rawValue)", span)
            }
            return .bool
        case .add:
            // A null operand is a runtime error, so the result's shape is inferred from the other members.
            let l = l.nonNull, r = check(rhs, probing: probing).nonNull
            if l.isNever || r.isNever { return .never }
            let lk = l.kind, rk = r.kind
            if lk == "string" || rk == "string" {
                let other = lk == "string" ? r : l
                if definitelyNot(other, ["string", "number", "bool"]) {
                    report(
                        .operandType,
                        "cannot add \(other) to a string\(other == .null ? " (use ?? '' for a default)" : "")", span)
                }
                return .string
            }
            // Valid at run time: number + number, and a string with a string, number or bool on either side.
            // So a bool is wrong only beside an operand that cannot be a string (`$.s + true` is fine).
            let never: Set<String> = ["number", "string", "bool"], boolOnly: Set<String> = ["number", "string"]
            if definitelyNot(l, never) || definitelyNot(r, never)
                || (definitelyNot(l, boolOnly) && definitelyNot(r, ["string"]))
                || (definitelyNot(r, boolOnly) && definitelyNot(l, ["string"]))
            {
                report(.operandType, "cannot apply + to \(l) and \(r)", span)
                return .any
            }
            if l == .int, r == .int { return .int }
            return lk == "number" && rk == "number" ? .number : .any
        case .subtract, .multiply, .divide, .remainder:
            let l = l.nonNull, r = check(rhs, probing: probing).nonNull
            if l.isNever || r.isNever { return .never }
            for (s, e) in [(l, lhsSpan), (r, rhs.span)] where definitelyNot(s, ["number"]) {
                report(.operandType, "\(op.rawValue) needs numbers, but \(describe(e)) is \(s)", e)
            }
            if l == .int, r == .int, op != .divide { return .int }
            return .number
        }
    }
}
