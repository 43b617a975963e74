import FlowrunValue

/// A value that may hold templates anywhere inside it: a setting, or the `data:` of an edge. Parts
/// without templates are stored as constants and cost nothing to evaluate.
public indirect enum ValueTemplate: Sendable {
    case constant(Value)
    case template(Template)
    case array([ValueTemplate])
    case object([(String, ValueTemplate)])

    /// Folds constant subtrees so that evaluation only walks the parts that hold templates.
    public static func array(folding items: [ValueTemplate]) -> ValueTemplate {
        let constants = items.compactMap { if case .constant(let v) = $0 { v } else { nil } }
        return constants.count == items.count ? .constant(.array(constants)) : .array(items)
    }

    public static func object(folding entries: [(String, ValueTemplate)]) -> ValueTemplate {
        var object = Value.Object()
        for (k, v) in entries {
            guard case .constant(let c) = v else { return .object(entries) }
            object[k] = c
        }
        return .constant(.object(object))
    }

    public var constantValue: Value? {
        if case .constant(let v) = self { return v }
        return nil
    }

    public func evaluate(_ input: Value, _ globals: Globals) throws(EvalError) -> Value {
        switch self {
        case .constant(let v): return v
        case .template(let t): return try t.evaluate(input, globals)
        case .array(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try item.evaluate(input, globals)) }
            return .array(out)
        case .object(let entries):
            var out = Value.Object(minimumCapacity: entries.count)
            for (k, v) in entries { out[k] = try v.evaluate(input, globals) }
            return .object(out)
        }
    }
}
