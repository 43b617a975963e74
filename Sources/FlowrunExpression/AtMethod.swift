import FlowrunValue

extension Methods {
    /// `x.at(i)`: JavaScript's `Array.prototype.at` and `String.prototype.at` (UTF-16 code units).
    static let at = MethodSpec(
        name: "at", signature: "x.at(i: int) -> item | null",
        doc: "The item (or the UTF-16 code unit, as a string) at index `i`, counting from the end when `i` is "
            + "negative; null when out of range.",
        receivers: ["array", "string"], arity: 1...1,
        examples: [("[1, 2, 3].at(-1)", "3"), ("[1, 2, 3].at(5)", "null"), ("'abc'.at(-2)", "\"b\"")],
        lambdaParams: nil,
        result: { r, _ in Shape.optional(r.kind == "string" ? .string : r.element) },
        impl: .plain { recv, args throws(BuiltinFailure) in
            guard let i = args[0].intValue else { throw .type("at", "an int index", args[0]) }
            switch recv {
            case .array(let a):
                let k = i < 0 ? a.count + i : i
                return a.indices.contains(k) ? a[k] : .null
            case .string(let s):
                let units = s.utf16
                let k = i < 0 ? units.count + i : i
                guard k >= 0, k < units.count else { return .null }
                let unit = units[units.index(units.startIndex, offsetBy: k)]
                return .string(String(decoding: [unit], as: UTF16.self))
            default: throw .type("at", "an array or string", recv)
            }
        })
}
