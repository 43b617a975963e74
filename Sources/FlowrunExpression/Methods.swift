import FlowrunValue

/// A compiled arrow function: its body and the frame slots its parameters occupy.
struct Lambda {
    let body: Compiled
    let slots: [Int]
    /// Whether the body reads its first parameter from the frame (other than as `param.field`, which
    /// reads `Env.item`); when it does not, an object argument is never stored in the frame.
    let readsFirstSlot: Bool

    @inline(__always)
    func call(_ env: Env, _ a: Value, _ b: Value = .null, _ c: Value = .null) throws(EvalError) -> Value {
        // An arrow without parameters (`() => 3`) may be the only one: then the evaluation has no frame.
        guard let first = slots.first else { return try body(env) }
        let frame = env.frame!.slots
        if slots.count > 1 { frame[slots[1]] = b }
        if slots.count > 2 { frame[slots[2]] = c }
        if case .object(let o) = a {
            if readsFirstSlot { frame[first] = a }
            return try body(Env(env, item: consume o))
        }
        frame[first] = a
        return try body(Env(withoutItem: env))
    }
}

/// A method of strings or arrays. Higher-order methods take an arrow function as first argument.
public struct MethodSpec: Sendable {
    public let name: String
    public let signature: String
    public let doc: String
    /// The receiver kinds (`"array"`, `"string"`) that have this method.
    public let receivers: [String]
    /// Arity, not counting the receiver (the arrow function counts).
    public let arity: ClosedRange<Int>
    public let examples: [(String, String)]
    /// Whether the first argument must be an arrow function (and how many parameters it may take).
    public let lambdaParams: ClosedRange<Int>?
    let result: @Sendable (_ receiver: Shape, _ args: [Shape]) -> Shape
    let impl: Impl

    enum Impl: Sendable {
        case plain(@Sendable (Value, [Value]) throws(BuiltinFailure) -> Value)
        case higherOrder(@Sendable (Value, Lambda, [Value], Env) throws(EvalError) -> Value)
    }
}

public enum Methods {
    /// Every method: the core list below, then the JavaScript string methods of issue 15.
    public static let all: [MethodSpec] = core + JSStringMethods.all + regexMethods + [at]

    static let core: [MethodSpec] = [
        higher(
            "map", "arr.map((item, index) => value) -> array", "A new array of the function's results.",
            [("[1, 2, 3].map(x => x * 2)", "[2,4,6]"), ("['a', 'b'].map((x, i) => x + i)", "[\"a0\",\"b1\"]")],
            { _, a in .array(a.first ?? .any) }
        ) { recv, f, _, env throws(EvalError) in
            let items = recv.arrayValue!
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for i in items.indices {
                // Indexing lends the item to the call; `enumerated()` would copy it (and its buffers).
                let v = try f.call(env, items[i], .int(i))
                try Nesting.check(v, at: nil)
                out.append(v)
            }
            return .array(out)
        },
        higher(
            "filter", "arr.filter((item, index) => bool) -> array", "The items for which the function is truthy.",
            [("[1, 2, 3, 4].filter(x => x % 2 == 0)", "[2,4]")], { r, _ in r }
        ) { recv, f, _, env throws(EvalError) in
            var out: [Value] = []
            for (i, item) in recv.arrayValue!.enumerated() where try f.call(env, item, .int(i)).isTruthy {
                out.append(item)
            }
            return .array(out)
        },
        higher(
            "find", "arr.find((item, index) => bool) -> item | null",
            "The first item for which the function is truthy, or null.",
            [("[{id: 1}, {id: 2}].find(u => u.id == 2)", "{\"id\":2}"), ("[1].find(x => x > 5)", "null")],
            { r, _ in Shape.optional(r.element) }
        ) { recv, f, _, env throws(EvalError) in
            for (i, item) in recv.arrayValue!.enumerated() where try f.call(env, item, .int(i)).isTruthy { return item }
            return .null
        },
        higher(
            "some", "arr.some((item, index) => bool) -> bool", "Whether the function is truthy for any item.",
            [("[1, 5].some(x => x > 3)", "true")], { _, _ in .bool }
        ) { recv, f, _, env throws(EvalError) in
            for (i, item) in recv.arrayValue!.enumerated() where try f.call(env, item, .int(i)).isTruthy {
                return .bool(true)
            }
            return .bool(false)
        },
        higher(
            "every", "arr.every((item, index) => bool) -> bool", "Whether the function is truthy for every item.",
            [("[1, 5].every(x => x > 3)", "false"), ("[].every(x => false)", "true")], { _, _ in .bool }
        ) {
            recv, f, _, env throws(EvalError) in
            for (i, item) in recv.arrayValue!.enumerated() where try !f.call(env, item, .int(i)).isTruthy {
                return .bool(false)
            }
            return .bool(true)
        },
        MethodSpec(
            name: "reduce", signature: "arr.reduce((acc, item, index) => value, initial?) -> value",
            doc: "Folds the array from the left; without `initial` the first item starts the fold.",
            receivers: ["array"], arity: 1...2,
            examples: [
                ("[1, 2, 3].reduce((acc, x) => acc + x, 0)", "6"), ("['a', 'b'].reduce((a, x) => a + x)", "\"ab\""),
            ],
            lambdaParams: 2...3, result: { _, a in a.count > 1 ? Shape.join(a[0], a[1]) : (a.first ?? .any) },
            impl: .higherOrder { recv, f, args, env throws(EvalError) in
                var items = recv.arrayValue![...]
                var acc: Value
                if let initial = args.first {
                    acc = initial
                } else {
                    guard let first = items.first else {
                        throw EvalError(.badArgument, "reduce of an empty array with no initial value", at: nil)
                    }
                    acc = first
                    items = items.dropFirst()
                }
                for (i, item) in zip(items.indices, items) { acc = try f.call(env, acc, item, .int(i)) }
                return acc
            }),
        plain(
            "slice", ["array", "string"], "x.slice(start?, end?) -> same",
            "Part of an array or string from `start` up to (not including) `end`; negative indexes count from the end.",
            0...2,
            [("[1, 2, 3, 4].slice(1, 3)", "[2,3]"), ("'hello'.slice(-3)", "\"llo\"")], { r, _ in r }
        ) { recv, args throws(BuiltinFailure) in
            switch recv {
            case .array(let a):
                let (lo, hi) = try bounds(args, count: a.count, "slice")
                return .array(Array(a[lo..<hi]))
            case .string(let s):
                let (lo, hi) = try bounds(args, count: JSString.length(s), "slice")
                return .string(JSString.slice(s, lo, hi))
            default: throw .type("slice", "an array or string", recv)
            }
        },
        plain(
            "concat", ["array"], "arr.concat(other, ...) -> array",
            "The array followed by the items of the other arrays (or values).",
            0...16, [("[1].concat([2, 3], 4)", "[1,2,3,4]")],
            { r, a in
                .array(a.reduce(r.element) { Shape.join($0, $1.kind == "array" ? $1.element : $1) })
            }
        ) { recv, args throws(BuiltinFailure) in
            var out = recv.arrayValue!
            for a in args {
                if case .array(let x) = a {
                    out.append(contentsOf: x)
                } else {
                    try Nesting.check(a)
                    out.append(a)
                }
            }
            return .array(out)
        },
        plain(
            "includes", ["array", "string"], "x.includes(item) -> bool",
            "Whether an array holds the item (deep equality, as `==`) or a string holds the substring.", 1...1,
            [("[1, 2].includes(2)", "true"), ("'hello'.includes('ell')", "true")], { _, _ in .bool }
        ) { recv, args throws(BuiltinFailure) in
            switch recv {
            case .array(let a): return .bool(a.contains(args[0]))
            case .string(let s): return .bool(JSString.includes(s, try Builtins.text(args[0], "includes")))
            default: throw .type("includes", "an array or string", recv)
            }
        },
        plain(
            "indexOf", ["array", "string"], "x.indexOf(item) -> int",
            "Index of the first occurrence (deep equality, as `==`; in a string, of the substring in UTF-16 code units), or -1.",
            1...1,
            [("['a', 'b'].indexOf('b')", "1"), ("'hello'.indexOf('l')", "2"), ("[1].indexOf(9)", "-1")],
            { _, _ in .int }
        ) {
            recv, args throws(BuiltinFailure) in
            switch recv {
            case .array(let a): return .int(a.firstIndex(of: args[0]) ?? -1)
            case .string(let s): return .int(JSString.indexOf(s, try Builtins.text(args[0], "indexOf")))
            default: throw .type("indexOf", "an array or string", recv)
            }
        },
        plain(
            "join", ["array"], "arr.join(separator?) -> string",
            "The items' string forms joined by `separator` (default `,`).", 0...1,
            [("[1, 'a', null].join('-')", "\"1-a-\""), ("[1, 2].join()", "\"1,2\"")], { _, _ in .string }
        ) { recv, args throws(BuiltinFailure) in
            let sep = args.isEmpty ? "," : try Builtins.text(args[0], "join")
            return .string(recv.arrayValue!.map(\.interpolated).joined(separator: sep))
        },
        stringMethod("toLowerCase", "Lower-cases the string.", [("'AbC'.toLowerCase()", "\"abc\"")]) { s, _ in
            .string(JSString.lowercased(s))
        },
        stringMethod("toUpperCase", "Upper-cases the string.", [("'AbC'.toUpperCase()", "\"ABC\"")]) { s, _ in
            .string(s.uppercased())
        },
        stringMethod(
            "trim", "Removes leading and trailing whitespace (JavaScript's set: includes U+FEFF, not U+0085).",
            [("' x '.trim()", "\"x\""), ("'\\u{feff} x\\r\\n'.trim()", "\"x\"")]
        ) { s, _ in
            .string(JSString.trim(s))
        },
        stringMethod(
            "split",
            "Splits on a separator (a string, or a regex whose groups are spliced in); an empty separator splits into UTF-16 code units.",
            [
                ("'a,b,,c'.split(',')", "[\"a\",\"b\",\"\",\"c\"]"), ("'a\\r\\nb'.split('\\n')", "[\"a\\r\",\"b\"]"),
                ("'a1b22c'.split(/\\d+/)", "[\"a\",\"b\",\"c\"]"),
            ],
            arity: 1...1,
            result: .array(.string)
        ) { s, args throws(BuiltinFailure) in
            if let parts = try Methods.regexForm("split", s, args) { return parts }
            return .array(JSString.split(s, try Builtins.text(args[0], "split")).map { .string($0) })
        },
        stringMethod(
            "startsWith", "Whether the string starts with the prefix.", [("'hello'.startsWith('he')", "true")],
            arity: 1...1, result: .bool
        ) { s, args throws(BuiltinFailure) in
            .bool(JSString.startsWith(s, try Builtins.text(args[0], "startsWith")))
        },
        stringMethod(
            "endsWith", "Whether the string ends with the suffix.", [("'hello'.endsWith('lo')", "true")],
            arity: 1...1, result: .bool
        ) { s, args throws(BuiltinFailure) in
            .bool(JSString.endsWith(s, try Builtins.text(args[0], "endsWith")))
        },
        stringMethod(
            "replace",
            "Replaces the first occurrence of `a` with `b`; in `b`, `$&` is the match, `$$` a `$`, `` $` `` and `$'` the text before and after it. A regex `a` replaces its first match (every match with the g flag), and `b` may also use `$1` and `$<name>`.",
            [
                ("'a-b-c'.replace('-', '+')", "\"a+b-c\""), ("'x'.replace('x', '[$&$&]')", "\"[xx]\""),
                ("'2024-05-06'.replace(/(\\d+)-(\\d+)-(\\d+)/, '$3.$2.$1')", "\"06.05.2024\""),
            ],
            arity: 2...2
        ) { s, args throws(BuiltinFailure) in
            if let replaced = try Methods.regexForm("replace", s, args) { return replaced }
            let a = try Builtins.text(args[0], "replace"), b = try Builtins.text(args[1], "replace")
            return .string(JSString.replace(s, a, b, all: false))
        },
        stringMethod(
            "replaceAll",
            "Replaces every occurrence of `a` (a string, or a regex with the g flag) with `b` (with `replace`'s `$` patterns).",
            [
                ("'a-b-c'.replaceAll('-', '+')", "\"a+b+c\""), ("'ab'.replaceAll('', '-')", "\"-a-b-\""),
                ("'a1b2'.replaceAll(/\\d/g, '<$&>')", "\"a<1>b<2>\""),
            ],
            arity: 2...2
        ) { s, args throws(BuiltinFailure) in
            if let replaced = try Methods.regexForm("replaceAll", s, args) { return replaced }
            let a = try Builtins.text(args[0], "replaceAll"), b = try Builtins.text(args[1], "replaceAll")
            return .string(JSString.replace(s, a, b, all: true))
        },
    ]

    public static let byName: [String: MethodSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    private static func higher(
        _ name: String, _ signature: String, _ doc: String, _ examples: [(String, String)],
        _ result: @escaping @Sendable (Shape, [Shape]) -> Shape,
        _ impl: @escaping @Sendable (Value, Lambda, [Value], Env) throws(EvalError) -> Value
    ) -> MethodSpec {
        MethodSpec(
            name: name, signature: signature, doc: doc, receivers: ["array"], arity: 1...1, examples: examples,
            lambdaParams: 1...2, result: result, impl: .higherOrder(impl))
    }

    static func plain(
        _ name: String, _ receivers: [String], _ signature: String, _ doc: String, _ arity: ClosedRange<Int>,
        _ examples: [(String, String)], _ result: @escaping @Sendable (Shape, [Shape]) -> Shape,
        _ impl: @escaping @Sendable (Value, [Value]) throws(BuiltinFailure) -> Value
    ) -> MethodSpec {
        MethodSpec(
            name: name, signature: signature, doc: doc, receivers: receivers, arity: arity, examples: examples,
            lambdaParams: nil, result: result, impl: .plain(impl))
    }

    static func stringMethod(
        _ name: String, _ doc: String, _ examples: [(String, String)], arity: ClosedRange<Int> = 0...0,
        result: Shape = .string, _ impl: @escaping @Sendable (String, [Value]) throws(BuiltinFailure) -> Value
    ) -> MethodSpec {
        let params = arity.upperBound == 0 ? "" : arity.upperBound == 1 ? "s" : "a, b"
        return plain(name, ["string"], "str.\(name)(\(params)) -> \(result)", doc, arity, examples, { _, _ in result })
        {
            recv, args throws(BuiltinFailure) in
            guard case .string(let s) = recv else { throw .type(name, "a string receiver", recv) }
            return try impl(s, args)
        }
    }

    static func bounds(_ args: [Value], count: Int, _ fn: String) throws(BuiltinFailure) -> (Int, Int) {
        func index(_ v: Value, _ fallback: Int) throws(BuiltinFailure) -> Int {
            if v.isNull { return fallback }
            guard let i = v.intValue else { throw .type(fn, "int indexes", v) }
            return i < 0 ? max(0, count + i) : min(i, count)
        }
        let lo = try index(args.count > 0 ? args[0] : .null, 0)
        let hi = try index(args.count > 1 ? args[1] : .null, count)
        return (lo, max(lo, hi))
    }
}
