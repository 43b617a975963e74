import OrderedCollections

/// The runtime value every message, setting and expression result is made of.
///
/// Objects keep their keys in insertion order, so JSON round-trips keep the order a user wrote and
/// an API returned. Ints and doubles stay distinct (`3` and `3.0` are different values that compare
/// equal numerically).
///
/// An integer beyond the 64-bit range (an id such as `18446744073709551615` in JSON) is a `bigInt`
/// holding its exact decimal text, never a rounded double: it round-trips through JSON unchanged,
/// compares exactly (equality, ordering, hashing), is bound to databases as that text (PostgreSQL
/// reads it as `numeric` in a numeric column), and its type is `int`. Arithmetic on it is an error,
/// never a silent rounding. Make one with `Value.integer(_:)`, which keeps the invariant that a
/// `bigInt` never holds a number that fits in `Int`.
public enum Value: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// The canonical decimal text (`-?[1-9][0-9]*`) of an integer outside `Int.min...Int.max`.
    case bigInt(String)
    case double(Double)
    case string(String)
    case array([Value])
    case object(Object)

    public typealias Object = OrderedDictionary<String, Value>

    /// The name of the value's type as users see it in diagnostics: `null bool int number string array object`.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// JavaScript truthiness: `null false 0 0.0 ''` are falsy, everything else (including `[]` and `{}`) is truthy.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .bigInt: true
        case .double(let d): d != 0 && !d.isNaN
        case .string(let s): !s.isEmpty
        case .array, .object: true
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    public var arrayValue: [Value]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: Object? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Reads a field of an object; anything else (and a missing key) reads as `null`.
    public subscript(key: String) -> Value {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }

    /// Reads an element of an array; out of range (and non-arrays) read as `null`. Negative indexes count from the end.
    public subscript(index: Int) -> Value {
        guard case .array(let a) = self else { return .null }
        let i = index < 0 ? a.count + index : index
        return a.indices.contains(i) ? a[i] : .null
    }

    /// Follows a dotted path such as `response.bodyJson.data.0`; numeric segments index arrays.
    public func value(atPath path: String) -> Value {
        var current = self
        for segment in path.split(separator: ".", omittingEmptySubsequences: true) {
            if case .array = current, let i = Int(segment) {
                current = current[i]
            } else {
                current = current[String(segment)]
            }
        }
        return current
    }

    /// The canonical string form used by string interpolation: strings as-is, numbers as JavaScript
    /// writes them (`0.00001`, `2` for the float 2.0, `1e+21`),
    /// `null` as empty, arrays and objects as compact JSON.
    public var interpolated: String {
        switch self {
        case .null: ""
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .bigInt(let digits): digits
        case .double(let d): JSText.number(d)
        case .array, .object: JSON.serialize(self)
        }
    }

    /// An integer from its decimal text (`-?[0-9]+`, leading zeros allowed): `.int` when it fits in 64
    /// bits, `.bigInt` with the canonical text otherwise; nil for anything else.
    public static func integer(_ text: some StringProtocol) -> Value? {
        if let i = Int(text) { return .int(i) }
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let significant = digits.drop { $0 == "0" }
        return .bigInt((negative ? "-" : "") + significant)
    }

    /// Ordering of two integers where at least one is beyond 64 bits: by sign, then length, then digits.
    public static func compareIntegers(_ a: Value, _ b: Value) -> Int? {
        func parts(_ v: Value) -> (negative: Bool, digits: Substring)? {
            switch v {
            case .int(let i): let t = String(i); return t.hasPrefix("-") ? (true, t.dropFirst()) : (false, Substring(t))
            case .bigInt(let t): return t.hasPrefix("-") ? (true, t.dropFirst()) : (false, Substring(t))
            default: return nil
            }
        }
        guard let x = parts(a), let y = parts(b) else { return nil }
        if x.negative != y.negative { return x.negative ? -1 : 1 }
        var order =
            x.digits.count != y.digits.count
            ? (x.digits.count < y.digits.count ? -1 : 1) : (x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : 0)
        if x.negative { order = -order }
        return order
    }

    /// The JSON text of a double: JavaScript's Number::toString (`0.00001`, `1e+21`), with `.0` after
    /// an integral value so that it reads back as a double (`3.0`, `10000000000000000.0`); non-finite is `null`.
    public static func canonical(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }
        let text = JSText.number(d)
        return text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") }) ? text : text + ".0"
    }
}

extension Value: Equatable {
    /// Deep equality; ints and doubles compare numerically (`1 == 1.0`), everything else by type and content.
    /// Recursive for the first `JSON.recursiveLevels` levels, then with an explicit stack (Nesting.swift).
    public static func == (lhs: Value, rhs: Value) -> Bool { equal(lhs, rhs, depth: 0) }
}

extension Value: Hashable {
    /// Consistent with `==`: ints hash as the equal double, objects independently of key order.
    public func hash(into hasher: inout Hasher) { hash(into: &hasher, depth: 0) }
}

extension Value: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Object(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension Value: CustomStringConvertible {
    public var description: String { JSON.serialize(self) }
}
