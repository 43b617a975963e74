import FlowrunValue

/// The JavaScript string methods added with issue 15, measured in UTF-16 code units like the rest.
enum JSStringMethods {
    static let all: [MethodSpec] = [
        Methods.plain(
            "substring", ["string"], "str.substring(start, end?) -> string",
            "The code units from `start` up to (not including) `end`; negative indexes count as 0 and the two are swapped when `start > end`, as in JavaScript.",
            1...2, [("'hello'.substring(1, 3)", "\"el\""), ("'hello'.substring(3, 1)", "\"el\"")], { _, _ in .string }
        ) { recv, args throws(BuiltinFailure) in
            guard case .string(let s) = recv else { throw .type("substring", "a string receiver", recv) }
            let n = JSString.length(s)
            func clamp(_ v: Value) throws(BuiltinFailure) -> Int {
                guard let i = v.intValue else { throw .type("substring", "int indexes", v) }
                return min(max(i, 0), n)
            }
            let a = try clamp(args[0])
            let b = args.count > 1 && !args[1].isNull ? try clamp(args[1]) : n
            return .string(JSString.slice(s, min(a, b), max(a, b)))
        },
        Methods.stringMethod(
            "lastIndexOf", "Index (in UTF-16 code units) of the last occurrence of the substring, or -1.",
            [("'a-b-c'.lastIndexOf('-')", "3"), ("'abc'.lastIndexOf('x')", "-1")], arity: 1...1, result: .int
        ) { s, args throws(BuiltinFailure) in
            .int(JSString.lastIndexOf(s, try Builtins.text(args[0], "lastIndexOf")))
        },
        pad("padStart", atStart: true, [("'7'.padStart(3, '0')", "\"007\""), ("'abc'.padStart(2)", "\"abc\"")]),
        pad("padEnd", atStart: false, [("'ab'.padEnd(5, '12')", "\"ab121\"")]),
        Methods.stringMethod(
            "trimStart", "Removes leading whitespace (as `trim`).", [("'  x '.trimStart()", "\"x \"")]
        ) { s, _ in
            .string(JSString.trim(s, end: false))
        },
        Methods.stringMethod(
            "trimEnd", "Removes trailing whitespace (as `trim`).", [("' x  '.trimEnd()", "\" x\"")]
        ) { s, _ in
            .string(JSString.trim(s, start: false))
        },
    ]

    private static func pad(_ name: String, atStart: Bool, _ examples: [(String, String)]) -> MethodSpec {
        Methods.plain(
            name, ["string"], "str.\(name)(length, filler?) -> string",
            "Pads the string with `filler` (default a space), repeated and cut, to `length` UTF-16 code units.", 1...2,
            examples, { _, _ in .string }
        ) { recv, args throws(BuiltinFailure) in
            guard case .string(let s) = recv else { throw .type(name, "a string receiver", recv) }
            guard let target = args[0].intValue else { throw .type(name, "an int length", args[0]) }
            guard target <= 1_000_000 else { throw BuiltinFailure("\(name): at most 1,000,000 code units") }
            let filler = args.count > 1 ? try Builtins.text(args[1], name) : " "
            return .string(JSString.pad(s, target, filler, atStart: atStart))
        }
    }
}
