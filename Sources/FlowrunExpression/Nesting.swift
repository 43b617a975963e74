import FlowrunValue

/// Keeps values built at run time within `Value.maxDepth`, so that no value an expression or a
/// template builds can exhaust the stack when it is serialized, compared or released. Only the
/// places that put an existing value one level deeper check: array and object literals, `.map`,
/// `.concat` of a non-array, `entries()` and YAML arrays and objects holding templates. Spreading
/// and reading never nest deeper.
enum Nesting {
    /// Throws when `value`, placed inside a new array or object, would make it nest deeper than
    /// `Value.maxDepth`. A scalar costs one comparison; an array or object is walked, and the walk
    /// stops at the limit.
    @inline(__always)
    static func check(_ value: Value, at span: Span?) throws(EvalError) {
        switch value {
        case .array, .object:
            // `nests` skips scalar elements without a call, so a flat record costs one pass.
            if value.nests(deeperThan: Value.maxDepth - 1) { throw tooDeep(at: span) }
        default: return
        }
    }

    /// The same check for builtins, which report failures without a location; `levels` is how many
    /// new arrays and objects the builtin puts around `value`.
    @inline(__always)
    static func check(_ value: Value, levels: Int = 1) throws(BuiltinFailure) {
        switch value {
        case .array, .object:
            if value.nests(deeperThan: Value.maxDepth - levels) { throw BuiltinFailure(.valueTooDeep, message) }
        default: return
        }
    }

    static func tooDeep(at span: Span?) -> EvalError { EvalError(.valueTooDeep, message, at: span) }

    static let message = "this would build a value nested more than \(Value.maxDepth) arrays and objects deep"
}
