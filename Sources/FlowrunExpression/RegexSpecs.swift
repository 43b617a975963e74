import FlowrunValue

extension Builtins {
    /// `regex(pattern, flags)` (what a literal `/pattern/flags` means) and `test(s, re)`.
    static let regexFunctions: [FunctionSpec] = [
        FunctionSpec(
            name: "regex", signature: "regex(pattern: string, flags?: string) -> regex",
            doc: "A regular expression with JavaScript's syntax, as the literal `/pattern/flags` writes it; flags are "
                + "`g i m s u y`. The value is `{source, flags}`; constant patterns are compiled when the flow loads.",
            arity: 1...2,
            examples: [
                ("regex('a+b', 'gi')", "{\"source\":\"a+b\",\"flags\":\"gi\"}"),
                ("/ab+c/i.test('xABBCx')", "true"), ("regex('x' + '+').test('axxb')", "true"),
            ],
            result: { _ in RegexOps.shape },
            impl: { a, _ throws(BuiltinFailure) in
                let flags = a.count > 1 ? try text(a[1], "regex") : ""
                return RegexOps.value(try RegexCache.compiled(try text(a[0], "regex"), flags))
            }),
        FunctionSpec(
            name: "test", signature: "test(s: string, re: regex) -> bool",
            doc: "Whether the regular expression matches somewhere in `s` (the same as `re.test(s)`).", arity: 2...2,
            examples: [("test('order-42', /\\d+$/)", "true"), ("test('abc', /^b/)", "false")],
            result: { _ in .bool },
            impl: { a, _ throws(BuiltinFailure) in
                try RegexOps.test(try RegexOps.required(a[1], "test"), try text(a[0], "test"))
            }),
    ]
}

extension Methods {
    static let regexMethods: [MethodSpec] = [
        MethodSpec(
            name: "test", signature: "re.test(s: string) -> bool",
            doc: "Whether the regular expression matches somewhere in `s` (stateless: the g flag changes nothing).",
            receivers: ["object"], arity: 1...1,
            examples: [("/^\\d{4}-\\d{2}$/.test('2024-05')", "true"), ("/b/.test('ABC')", "false")],
            lambdaParams: nil, result: { _, _ in .bool },
            impl: .plain { recv, args throws(BuiltinFailure) in
                try RegexOps.test(try RegexOps.required(recv, "test"), try Builtins.text(args[0], "test"))
            }),
        regexMethod(
            "match", "str.match(re) -> array | null",
            "Without the g flag: `[match, group1, ...]` of the first match (a group that took no part is null); "
                + "with g: every match. Null when nothing matches. Use `.matchAll` for indexes and named groups.",
            [
                (
                    "'<a>; rel=\"next\"'.match(/<([^>]*)>; rel=\"(\\w+)\"/)",
                    "[\"<a>; rel=\\\"next\\\"\",\"a\",\"next\"]"
                ),
                ("'a1b22'.match(/\\d+/g)", "[\"1\",\"22\"]"), ("'abc'.match(/x/)", "null"),
            ], Shape.optional(.array(Shape.optional(.string))), RegexOps.match),
        regexMethod(
            "matchAll", "str.matchAll(re) -> array<object>",
            "Every match of a regex with the g flag as `{match, index, captures, groups}`: `index` in UTF-16 code "
                + "units, `captures` the groups in order, `groups` the named groups (null when the pattern has none).",
            [
                (
                    "'k=1;j=2'.matchAll(/(?<key>\\w)=(\\d)/g).map(m => m.groups.key + m.captures[1])",
                    "[\"k1\",\"j2\"]"
                ),
                (
                    "'ab'.matchAll(/b/g)",
                    "[{\"match\":\"b\",\"index\":1,\"captures\":[],\"groups\":null}]"
                ),
            ],
            .array(
                .object([
                    Field("match", .string), Field("index", .int), Field("captures", .array(Shape.optional(.string))),
                    Field("groups", .any),
                ])), RegexOps.matchAll),
        regexMethod(
            "search", "str.search(re) -> int", "The index (in UTF-16 code units) of the first match, or -1.",
            [("'abc1'.search(/\\d/)", "3"), ("'abc'.search(/x/)", "-1")], .int, RegexOps.search),
    ]

    private static func regexMethod(
        _ name: String, _ signature: String, _ doc: String, _ examples: [(String, String)], _ result: Shape,
        _ op: @escaping @Sendable (CompiledRegex, String) throws(BuiltinFailure) -> Value
    ) -> MethodSpec {
        MethodSpec(
            name: name, signature: signature, doc: doc, receivers: ["string"], arity: 1...1, examples: examples,
            lambdaParams: nil, result: { _, _ in result },
            impl: .plain { recv, args throws(BuiltinFailure) in
                guard case .string(let s) = recv else { throw .type(name, "a string receiver", recv) }
                return try op(try RegexOps.required(args[0], name), s)
            })
    }

    /// The regex forms of `.replace`, `.replaceAll` and `.split`, or nil when `pattern` is not a regex.
    static func regexForm(_ name: String, _ s: String, _ args: [Value]) throws(BuiltinFailure) -> Value? {
        guard let re = try RegexOps.regex(args[0]) else { return nil }
        switch name {
        case "split": return try RegexOps.split(re, s)
        default:
            let replacement = try Builtins.text(args[1], name)
            return try RegexOps.replace(re, s, replacement, all: name == "replaceAll")
        }
    }
}

extension RegexOps {
    /// For `regex('p', 'f')` with constant strings (a regex literal): the pattern compiled now and kept for
    /// the process, or the failure to report where the flow loads. Nil when the arguments are not constant.
    static func constant(_ args: [Expr]) -> Result<CompiledRegex, BuiltinFailure>? {
        var strings: [String] = []
        for a in args {
            guard case .literal(.string(let s)) = a.kind else { return nil }
            strings.append(s)
        }
        guard (1...2).contains(strings.count) else { return nil }
        do throws(BuiltinFailure) {
            return .success(try RegexCache.compiled(strings[0], strings.count > 1 ? strings[1] : "", constant: true))
        } catch { return .failure(error) }
    }
}
