import FlowrunExpression
import FlowrunValue

/// Compiles positioned YAML (settings, edge `data:`) into `ValueTemplate`s, infers their shapes and
/// validates them against declared shapes, collecting diagnostics.
struct TemplateCompiling {
    var diagnostics: [Diagnostic] = []
    /// When false, only shapes are computed (used during propagation, where diagnostics would repeat).
    var reporting = true

    private mutating func report(_ d: Diagnostic) {
        if reporting { diagnostics.append(d) }
    }

    /// Compiles a node and returns the template and the shape of what it evaluates to.
    mutating func compile(_ node: YNode, _ context: CheckContext) -> (ValueTemplate?, Shape) {
        switch node.kind {
        case .scalar(.template(let pieces)):
            var parts: [Template.Part] = []
            var shape = Shape.string
            var failed = false
            var expressions = 0
            for piece in pieces {
                switch piece {
                case .text(let t): parts.append(.text(t))
                case .expression(let range):
                    expressions += 1
                    let r = ExpressionCompiler.compile(source: node.span.source, range: range, context: context)
                    for d in r.diagnostics { report(d) }
                    if let c = r.compiled { parts.append(.expression(c)) } else { failed = true }
                    shape = r.shape
                }
            }
            let template = Template(parts: parts)
            let whole =
                expressions == 1
                && pieces.allSatisfy {
                    if case .text(let t) = $0 { t.allSatisfy(\.isWhitespace) } else { true }
                }
            return (failed ? nil : .template(template), whole ? shape : .string)
        case .scalar:
            let v = node.constant ?? .null
            return (.constant(v), Shape(of: v))
        case .sequence(let items):
            var compiled: [ValueTemplate] = []
            var element = Shape.never
            var failed = false
            for item in items {
                let (t, s) = compile(item, context)
                if let t { compiled.append(t) } else { failed = true }
                element = Shape.join(element, s)
            }
            return (failed ? nil : .array(folding: compiled), .array(element))
        case .mapping(let entries):
            var compiled: [(String, ValueTemplate)] = []
            var fields: [Field] = []
            var failed = false
            for (k, v) in entries {
                let key = k.string ?? ""
                let (t, s) = compile(v, context)
                if let t { compiled.append((key, t)) } else { failed = true }
                fields.append(Field(key, s))
            }
            return (failed ? nil : .object(folding: compiled), .object(fields))
        }
    }

    /// Checks that `node` fits `expected`; `what` names it in messages ("setting 'interval'").
    mutating func validate(_ node: YNode, against expected: Shape, what: String, context: CheckContext)
        -> ValueTemplate?
    {
        if case .scalar(.template) = node.kind {
            let (t, shape) = compile(node, context)
            if t != nil, !shape.mayConform(to: expected) {
                report(
                    .error(.settingType, "\(what) must be \(expected), but this template gives \(shape)", at: node.span)
                )
            }
            return t
        }
        let before = diagnostics.count
        conform(node, expected, what: what, context: context)
        let (t, _) = compile(node, context)
        return diagnostics.count == before || !reporting ? t : nil
    }

    private mutating func conform(_ node: YNode, _ expected: Shape, what: String, context: CheckContext) {
        if case .scalar(.template) = node.kind {
            let (_, shape) = compile(node, context)
            if !shape.mayConform(to: expected) {
                report(
                    .error(.settingType, "\(what) must be \(expected), but this template gives \(shape)", at: node.span)
                )
            }
            return
        }
        func mismatch() {
            report(.error(.settingType, "\(what) must be \(expected), not \(node.kindName)", at: node.span))
        }
        switch expected {
        case .any, .never: return
        case .oneOf(let members):
            var probe = TemplateCompiling()
            for m in members {
                probe.diagnostics = []
                probe.conform(node, m, what: what, context: context)
                if probe.diagnostics.isEmpty { return }
            }
            mismatch()
        case .null:
            if case .scalar(.null) = node.kind { return }
            mismatch()
        case .bool:
            if case .scalar(.bool) = node.kind { return }
            mismatch()
        case .int:
            if case .scalar(.int) = node.kind { return }
            if case .scalar(.double(let d)) = node.kind, d.rounded() == d { return }
            mismatch()
        case .number:
            switch node.kind {
            case .scalar(.int), .scalar(.double): return
            default: mismatch()
            }
        case .string:
            if node.string != nil { return }
            mismatch()
        case .duration:
            if case .scalar(.int) = node.kind { return }
            guard let s = node.string else { return mismatch() }
            if Durations.parse(s) == nil {
                report(
                    .error(
                        .invalidValue, "\(what): '\(s)' is not a duration", at: node.span,
                        help: "write a number with a unit: 500ms, 30s, 5m, 1h30m"))
            }
        case .enumeration(let values):
            guard let s = node.string else { return mismatch() }
            if !values.contains(s) {
                report(
                    .error(
                        .invalidValue, "\(what): '\(s)' is not one of \(values.joined(separator: ", "))", at: node.span,
                        help: didYouMean(s, values)))
            }
        case .array(let element):
            guard let items = node.items else { return mismatch() }
            for (i, item) in items.enumerated() { conform(item, element, what: "\(what)[\(i)]", context: context) }
        case .object(let object):
            guard let entries = node.entries else { return mismatch() }
            for (k, v) in entries {
                let key = k.string ?? ""
                if let field = object.field(key) {
                    conform(v, field.shape, what: "\(what).\(key)", context: context)
                } else if !object.open {
                    report(
                        .error(
                            .settingType, "\(what) has no field '\(key)'", at: k.span,
                            help: didYouMean(key, object.fields.map(\.name))
                                ?? "fields are \(object.fields.map(\.name).joined(separator: ", "))"))
                }
            }
            for f in object.fields where f.required && !entries.contains(where: { $0.key.string == f.name }) {
                report(.error(.settingType, "\(what) is missing its field '\(f.name)'", at: node.span))
            }
        }
    }
}
