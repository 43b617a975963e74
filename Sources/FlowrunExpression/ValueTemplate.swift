import FlowrunValue
import OrderedCollections

/// A value that may hold templates anywhere inside it: a setting, or the `data:` of an edge. Parts
/// without templates are stored as constants and cost nothing to evaluate.
public indirect enum ValueTemplate: Sendable {
    case constant(Value)
    case template(Template)
    case array([ValueTemplate])
    case object(ObjectTemplate)

    /// An object with templates among its values: the key set is built once. A class, so that
    /// evaluating one per message borrows its arrays instead of copying them out of the enum.
    public final class ObjectTemplate: Sendable {
        let keys: OrderedSet<String>
        let values: [ValueTemplate]
        /// For each value that is exactly one `<<expr>>`, that expression: evaluated directly, without
        /// unwrapping the value's template (the usual `data:` of an edge, evaluated per message).
        let expressions: [CompiledExpression?]
        public var entries: [(String, ValueTemplate)] { Array(zip(keys, values)) }

        init(keys: OrderedSet<String>, values: [ValueTemplate]) {
            self.keys = keys
            self.values = values
            self.expressions = values.map { value in
                if case .template(let t) = value { t.wholeExpression } else { nil }
            }
        }
    }

    public static func object(_ entries: [(String, ValueTemplate)]) -> ValueTemplate {
        let keys = OrderedSet(entries.map(\.0))
        if keys.count != entries.count {
            // Duplicate keys (impossible from YAML): the last one wins, as in a dictionary.
            var merged: [(String, ValueTemplate)] = []
            for (k, v) in entries {
                if let i = merged.firstIndex(where: { $0.0 == k }) { merged[i].1 = v } else { merged.append((k, v)) }
            }
            return .object(merged)
        }
        return .object(ObjectTemplate(keys: keys, values: entries.map(\.1)))
    }

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
            for item in items {
                let v = try item.evaluate(input, globals)
                try Self.checkNesting(v, item)
                out.append(v)
            }
            return .array(out)
        case .object(let template):
            var values = ContiguousArray<Value>()
            values.reserveCapacity(template.values.count)
            for i in template.values.indices {
                if let expression = template.expressions[i] {
                    let v = try expression.evaluate(input, globals)
                    do throws(EvalError) { try Nesting.check(v, at: nil) } catch {
                        throw Nesting.tooDeep(at: expression.span)
                    }
                    values.append(v)
                    continue
                }
                let v = try template.values[i].evaluate(input, globals)
                try Self.checkNesting(v, template.values[i])
                values.append(v)
            }
            return .object(Value.Object(uncheckedUniqueKeys: template.keys, values: values))
        }
    }

    /// A template's value placed in a YAML array or object must leave room for that level.
    @inline(__always)
    private static func checkNesting(_ value: Value, _ item: ValueTemplate) throws(EvalError) {
        if case .constant = item { return }
        do throws(EvalError) { try Nesting.check(value, at: nil) } catch {
            throw Nesting.tooDeep(at: item.firstSpan)
        }
    }

    /// The location of the first expression inside, for errors about the value as a whole.
    var firstSpan: Span? {
        switch self {
        case .constant: return nil
        case .template(let t):
            for case .expression(let e) in t.parts { return e.span }
            return nil
        case .array(let items): return items.lazy.compactMap(\.firstSpan).first
        case .object(let o): return o.values.lazy.compactMap(\.firstSpan).first
        }
    }
}
