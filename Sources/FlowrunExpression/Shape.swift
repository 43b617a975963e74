import FlowrunValue

/// The static shape of a message, setting or expression result: JSON-Schema-like, used by port
/// declarations, by the checker that propagates shapes through a flow, and by the generated docs.
public indirect enum Shape: Sendable, Equatable {
    /// No value ever arrives here (the bottom of the lattice: joins to anything).
    case never
    /// Anything; never the cause of an error.
    case any
    case null
    case bool
    case int
    /// Any number, int or float.
    case number
    case string
    /// A string holding a duration such as `90s`, `5m`, `1h30m`.
    case duration
    /// One of these strings.
    case enumeration([String])
    case array(Shape)
    case object(ObjectShape)
    /// One of several shapes (at most `Shape.maxUnion`, otherwise `any`).
    case oneOf([Shape])

    static let maxUnion = 4
    static let maxDepth = 8

    /// An object whose fields are unknown.
    public static let anyObject = Shape.object(ObjectShape([], open: true))

    public static func object(_ fields: [Field], open: Bool = false) -> Shape {
        .object(ObjectShape(fields, open: open))
    }

    public static func optional(_ shape: Shape) -> Shape { join(shape, .null) }

    /// The shape of a literal value: objects are closed, arrays have the join of their elements.
    public init(of value: Value, depth: Int = 0) {
        guard depth < Shape.maxDepth else { self = .any; return }
        switch value {
        case .null: self = .null
        case .bool: self = .bool
        case .int, .bigInt: self = .int
        case .double: self = .number
        case .string: self = .string
        case .array(let a):
            self = .array(a.prefix(32).reduce(Shape.never) { Shape.join($0, Shape(of: $1, depth: depth + 1)) })
        case .object(let o):
            self = .object(o.map { Field($0.key, Shape(of: $0.value, depth: depth + 1)) })
        }
    }

    /// The shape cut down to `maxDepth` levels and about `budget` nodes, deeper or larger parts
    /// widened to `any`. Propagation applies it so that loops which nest a message inside itself
    /// (a response that carries its request that carries the previous response...) converge.
    public func limited(budget: Int = 400) -> Shape {
        var remaining = budget
        return limited(depth: 0, remaining: &remaining)
    }

    private func limited(depth: Int, remaining: inout Int) -> Shape {
        remaining -= 1
        if remaining <= 0 || depth >= Shape.maxDepth { return .any }
        switch self {
        case .array(let e): return .array(e.limited(depth: depth + 1, remaining: &remaining))
        case .object(let o):
            var fields: [Field] = []
            for f in o.fields {
                fields.append(
                    Field(
                        f.name, f.shape.limited(depth: depth + 1, remaining: &remaining), required: f.required,
                        doc: f.doc))
            }
            return .object(ObjectShape(fields, open: o.open))
        case .oneOf(let ms): return .oneOf(ms.map { $0.limited(depth: depth + 1, remaining: &remaining) })
        default: return self
        }
    }

    /// The members of a union, or the shape itself.
    public var members: [Shape] {
        if case .oneOf(let m) = self { return m }
        return [self]
    }

    public var isNever: Bool { self == .never }

    /// The shape without its `null` member (unchanged when it is only null).
    public var nonNull: Shape {
        guard case .oneOf(let ms) = self else { return self }
        let rest = ms.filter { $0 != .null }
        return rest.isEmpty ? self : rest.count == 1 ? rest[0] : .oneOf(rest)
    }

    /// Whether a value of this shape could be null.
    public var mayBeNull: Bool { members.contains { $0 == .null || $0 == .any } }

    // MARK: Lattice

    /// The least shape that covers both; unions are capped and deep shapes widen to `any` so that
    /// propagation around loops reaches a fixpoint.
    public static func join(_ a: Shape, _ b: Shape, depth: Int = 0) -> Shape {
        if a == b { return a }
        switch (a, b) {
        case (.never, _): return b
        case (_, .never): return a
        case (.any, _), (_, .any): return .any
        default: break
        }
        guard depth < maxDepth else { return .any }
        var result: [Shape] = a.members
        for m in b.members {
            if let i = result.firstIndex(where: { $0.mergeable(with: m) }) {
                result[i] = merge(result[i], m, depth: depth)
            } else {
                result.append(m)
            }
        }
        if result.count == 1 { return result[0] }
        return result.count > maxUnion ? .any : .oneOf(result)
    }

    private func mergeable(with other: Shape) -> Bool {
        switch (self, other) {
        case (.int, .number), (.number, .int), (.int, .int), (.number, .number): true
        case (.string, .string), (.string, .duration), (.duration, .string), (.duration, .duration): true
        case (.string, .enumeration), (.enumeration, .string), (.enumeration, .enumeration): true
        case (.duration, .enumeration), (.enumeration, .duration): true
        case (.array, .array), (.object, .object), (.null, .null), (.bool, .bool), (.any, .any): true
        default: false
        }
    }

    private static func merge(_ a: Shape, _ b: Shape, depth: Int) -> Shape {
        switch (a, b) {
        case (.int, .int): return .int
        case (.int, .number), (.number, .int), (.number, .number): return .number
        case (.enumeration(let x), .enumeration(let y)): return .enumeration(x + y.filter { !x.contains($0) })
        case (.duration, .duration): return .duration
        case (.string, _), (_, .string), (.duration, _), (_, .duration): return .string
        case (.array(let x), .array(let y)): return .array(join(x, y, depth: depth + 1))
        case (.object(let x), .object(let y)): return .object(x.joined(with: y, depth: depth + 1))
        default: return a
        }
    }

    // MARK: Access

    /// What reading field `name` gives, or nil when the shape proves the field cannot exist.
    public func field(_ name: String) -> Shape? {
        switch self {
        case .never: return .never
        case .any: return .any
        case .object(let o):
            if let f = o.field(name) { return f.required ? f.shape : Shape.join(f.shape, .null) }
            return o.open ? .any : nil
        case .array, .string, .duration, .enumeration:
            return name == "length" ? .int : nil
        case .oneOf(let ms):
            var result = Shape.never
            var possible = false
            for m in ms {
                if m == .null { continue }  // a null receiver is a runtime error, not a proof of absence
                if let s = m.field(name) {
                    possible = true
                    result = Shape.join(result, s)
                }
            }
            return possible || ms.allSatisfy({ $0 == .null }) ? result : nil
        case .null: return .any  // reported at run time, or probed with ?.
        case .bool, .int, .number: return nil
        }
    }

    /// The element shape of an array (or `any` when unknown).
    public var element: Shape {
        switch self {
        case .array(let e): e
        case .never: .never
        case .string, .duration, .enumeration: .string
        case .oneOf(let ms): ms.reduce(Shape.never) { Shape.join($0, $1.element) }
        default: .any
        }
    }

    /// The broad kind of value for method dispatch: "array", "string", "object", ... or nil when unknown.
    public var kind: String? {
        switch self {
        case .array: "array"
        case .string, .duration, .enumeration: "string"
        case .object: "object"
        case .int, .number: "number"
        case .bool: "bool"
        case .null: "null"
        case .never, .any, .oneOf: nil
        }
    }

    // MARK: Compatibility

    /// Whether a value of shape `self` may be acceptable where `expected` is required. Only a definite
    /// mismatch answers false: `any` and unions that overlap are accepted.
    public func mayConform(to expected: Shape) -> Bool {
        switch (self, expected) {
        case (.never, _), (.any, _), (_, .any): return true
        case (.oneOf(let ms), _): return ms.contains { $0.mayConform(to: expected) }
        case (_, .oneOf(let ms)): return ms.contains { self.mayConform(to: $0) }
        case (.null, .null), (.bool, .bool), (.int, .int), (.int, .number), (.number, .number): return true
        case (.number, .int): return true  // 3.0 is an acceptable int
        case (.string, .string), (.duration, .string), (.enumeration, .string): return true
        case (.string, .duration), (.duration, .duration): return true
        case (.string, .enumeration): return true
        case (.enumeration(let a), .enumeration(let b)): return a.contains { b.contains($0) }
        case (.array(let a), .array(let b)): return a.mayConform(to: b)
        case (.object(let a), .object(let b)):
            for f in b.fields where f.required {
                if a.field(f.name) == nil, !a.open { return false }
            }
            for f in a.fields {
                if let g = b.field(f.name), !f.shape.mayConform(to: g.shape) { return false }
            }
            return true
        case (.int, .duration): return true  // nanoseconds
        default: return false
        }
    }
}

/// A field of an object shape.
public struct Field: Sendable, Equatable {
    public let name: String
    public let shape: Shape
    public let required: Bool
    public let doc: String

    public init(_ name: String, _ shape: Shape, required: Bool = true, doc: String = "") {
        self.name = name
        self.shape = shape
        self.required = required
        self.doc = doc
    }

    public static func == (a: Field, b: Field) -> Bool {
        a.name == b.name && a.shape == b.shape && a.required == b.required
    }
}

/// The fields of an object shape, in declaration order; `open` objects may hold other fields too.
public struct ObjectShape: Sendable, Equatable {
    public private(set) var fields: [Field]
    public let open: Bool

    public init(_ fields: [Field], open: Bool = false) {
        self.fields = fields
        self.open = open
    }

    public func field(_ name: String) -> Field? { fields.first { $0.name == name } }

    /// Join of two object shapes: fields of both; a field is required only if both require it.
    func joined(with other: ObjectShape, depth: Int) -> ObjectShape {
        var result: [Field] = []
        for f in fields {
            if let g = other.field(f.name) {
                result.append(
                    Field(
                        f.name, Shape.join(f.shape, g.shape, depth: depth), required: f.required && g.required,
                        doc: f.doc))
            } else {
                result.append(Field(f.name, f.shape, required: false, doc: f.doc))
            }
        }
        for g in other.fields where field(g.name) == nil {
            result.append(Field(g.name, g.shape, required: false, doc: g.doc))
        }
        if result.count > 64 { return ObjectShape([], open: true) }
        return ObjectShape(result, open: open || other.open)
    }

    /// This object with `other`'s fields laid over it (object spread).
    public func spreading(_ other: ObjectShape) -> ObjectShape {
        var result = fields
        for g in other.fields {
            if let i = result.firstIndex(where: { $0.name == g.name }) {
                result[i] =
                    g.required ? g : Field(g.name, Shape.join(result[i].shape, g.shape), required: result[i].required)
            } else {
                result.append(g)
            }
        }
        return ObjectShape(result, open: open || other.open)
    }
}

extension Shape: CustomStringConvertible {
    /// `object{a: int, b?: string}`, `array<string>`, `int | null`, ...
    public var description: String {
        switch self {
        case .never: "never"
        case .any: "any"
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .number: "number"
        case .string: "string"
        case .duration: "duration"
        case .enumeration(let values): values.map { "'\($0)'" }.joined(separator: " | ")
        case .array(let e): "array<\(e)>"
        case .object(let o):
            if o.fields.isEmpty {
                o.open ? "object" : "object{}"
            } else {
                "object{" + o.fields.map { "\($0.name)\($0.required ? "" : "?"): \($0.shape)" }.joined(separator: ", ")
                    + (o.open ? ", ..." : "") + "}"
            }
        case .oneOf(let ms): ms.map(\.description).joined(separator: " | ")
        }
    }
}
