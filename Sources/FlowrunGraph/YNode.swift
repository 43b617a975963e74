import FlowrunExpression
import FlowrunValue

/// A YAML node with its exact position in the original flow file. Scalars that hold `<<...>>`
/// templates keep the byte ranges of every template so expressions report exact positions.
public struct YNode: Sendable {
    public indirect enum Kind: Sendable {
        case scalar(Scalar)
        case sequence([YNode])
        case mapping([(key: YNode, value: YNode)])
    }

    public enum Scalar: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        /// Text and templates; `TemplatePiece.expression` ranges point into the original file.
        case template([TemplatePiece])
    }

    public enum TemplatePiece: Sendable {
        case text(String)
        case expression(Range<Int>)
    }

    public let kind: Kind
    public let span: Span

    /// The scalar's string, if it is a plain string scalar.
    public var string: String? {
        if case .scalar(.string(let s)) = kind { return s }
        return nil
    }

    public var entries: [(key: YNode, value: YNode)]? {
        if case .mapping(let m) = kind { return m }
        return nil
    }

    public var items: [YNode]? {
        if case .sequence(let s) = kind { return s }
        return nil
    }

    public var hasTemplates: Bool {
        switch kind {
        case .scalar(.template): true
        case .scalar: false
        case .sequence(let items): items.contains { $0.hasTemplates }
        case .mapping(let m): m.contains { $0.value.hasTemplates }
        }
    }

    /// The node's value when it holds no templates.
    public var constant: Value? {
        switch kind {
        case .scalar(let s):
            switch s {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let t): return .string(t)
            case .template: return nil
            }
        case .sequence(let items):
            var out: [Value] = []
            for i in items {
                guard let v = i.constant else { return nil }
                out.append(v)
            }
            return .array(out)
        case .mapping(let m):
            var out = Value.Object()
            for (k, v) in m {
                guard let key = k.string, let value = v.constant else { return nil }
                out[key] = value
            }
            return .object(out)
        }
    }

    /// A short name of the node's kind for diagnostics.
    public var kindName: String {
        switch kind {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let s):
            switch s {
            case .null: "null"
            case .bool: "a bool"
            case .int: "an int"
            case .double: "a number"
            case .string: "a string"
            case .template: "a template"
            }
        }
    }

    /// Looks up a key of a mapping.
    public subscript(key: String) -> YNode? {
        entries?.first { $0.key.string == key }?.value
    }

    public func keySpan(_ key: String) -> Span? {
        entries?.first { $0.key.string == key }?.key.span
    }
}
