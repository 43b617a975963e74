/// Where flowrun's expressions deliberately differ from JavaScript: one row per difference, rendered
/// as the table "Differences from JavaScript" in components/expressions.md and used by the
/// differential test against QuickJS, which fails on any mismatch that no row's id explains.
public struct JSDifference: Sendable {
    /// Stable id, used by the differential test's classifier.
    public let id: String
    /// The expression (or construct) and what JavaScript gives.
    public let javascript: String
    /// What flowrun gives.
    public let flowrun: String
    public let reason: String
}

public enum JSDifferences {
    public static let all: [JSDifference] = [
        JSDifference(
            id: "no-coercion",
            javascript: "`'5' * 2` is 10, `1 + [2]` is `\"12\"`, `null + 1` is 1, `'1' == 1` and `'b' > 1` convert",
            flowrun:
                "an error (E108 when the checker can see it); `==` never converts; `+` joins a string only with a string, number or bool",
            reason:
                "Silent conversions turn a data bug (a number arriving as text, a missing field) into a wrong value downstream."
        ),
        JSDifference(
            id: "errors-not-nan",
            javascript: "`1 / 0` is Infinity, `0 / 0` NaN, `1e308 * 10` Infinity, `null.x` throws only at run time",
            flowrun: "a located error on the node's `error` port; results are always finite",
            reason:
                "NaN and Infinity are not JSON: they would become `null` in a message or a database row without anyone noticing."
        ),
        JSDifference(
            id: "null-not-undefined",
            javascript: "a missing field and `[1][5]` are `undefined`",
            flowrun: "`null` (JSON has no undefined)",
            reason: "Messages are JSON; `undefined` cannot be stored, sent or compared to anything meaningful."
        ),
        JSDifference(
            id: "ints-and-floats",
            javascript: "one number type: `JSON.stringify(2.0)` is `\"2\"`",
            flowrun:
                "ints and floats are distinct: `2.0` is a float and JSON writes it `2.0` (in text, as `'' + 2.0`, it is `\"2\"` as in JavaScript); `int / int` is an int when exact; `1 == 1.0` is true",
            reason:
                "IDs, counts and cursors are 64-bit ints that must round-trip exactly through JSON and databases; a float read back stays a float."
        ),
        JSDifference(
            id: "int-overflow",
            javascript: "`9223372036854775807 + 1` is 9223372036854776000 (rounded), `2 ** 53 + 1` loses the 1",
            flowrun:
                "integer overflow is an error; ints beyond 64 bits from JSON stay exact (`bigInt`) and arithmetic on them is an error",
            reason: "A rounded id or counter is a wrong record, silently."
        ),
        JSDifference(
            id: "deep-equality",
            javascript: "`[1] == [1]` is false, `[[1]].indexOf([1])` -1, `[[1]].includes([1])` false (identity)",
            flowrun:
                "`==`, `!=`, `indexOf` and `includes` all compare arrays and objects by content (`true`, 0, `true`)",
            reason: "Values from messages have no identity, so identity comparison could only ever answer false."
        ),
        JSDifference(
            id: "negative-index",
            javascript: "`$.a[-1]` and `'abc'[-1]` are undefined",
            flowrun: "the last element (code unit), as `slice(-1)` and `.at(-1)` count",
            reason: "A negative index means nothing else on an array; reading from the end is what flows need."
        ),
        JSDifference(
            id: "null-argument",
            javascript: "`[1, 2, 3].slice(1, null)` is `[]` (null is 0)",
            flowrun: "`[2, 3]`: a null argument is an absent one",
            reason:
                "Without undefined, a missing field passed as an optional argument reads as null and must mean 'not given'."
        ),
        JSDifference(
            id: "lone-surrogate",
            javascript:
                "strings may hold lone surrogates: `'😀'.slice(0, 1)`, `'😀'[0]`, `'😀'.split('')` give halves of the pair; `'\\uD83D'` is a valid literal",
            flowrun:
                "strings are always valid Unicode: a half of a pair cut off by slicing, indexing or `split('')` becomes U+FFFD, `replaceAll('', x)` keeps the pair together, and a lone surrogate escape in a literal is a load-time error",
            reason: "Messages are UTF-8 JSON and database text, which cannot hold lone surrogates."
        ),
        JSDifference(
            id: "nested-text",
            javascript: "`[[1, 2], {a: 1}].join()` is `\"1,2,[object Object]\"`",
            flowrun:
                "arrays and objects in text are compact JSON: `\"[1,2],{\\\"a\\\":1}\"` (`string(x)`, `join`, templates)",
            reason: "`[object Object]` is never what a flow wants to send."
        ),
        JSDifference(
            id: "null-in-text",
            javascript: "`${null}` in a template literal is `\"null\"`",
            flowrun:
                "`null` interpolated into text (`id=<<$.missing>>`, `string(null)`) is empty; `'a' + null` is an error (`no-coercion`)",
            reason: "A missing optional field should leave a gap, not the word null, in a URL or message text."
        ),
        JSDifference(
            id: "object-key-equivalence",
            javascript: "`{'e\\u0301': 1, '\\u00e9': 2}` has two keys",
            flowrun:
                "one key: object keys compare by Unicode canonical equivalence (string values compare by code units, as JavaScript)",
            reason:
                "Objects are Swift ordered dictionaries; keys that differ only in normalization are vanishingly rare in API data."
        ),
        JSDifference(
            id: "json-indent-argument",
            javascript:
                "`JSON.stringify([1], 2)` is `\"[1]\"` (the second argument is a replacer; a number is ignored)",
            flowrun:
                "`\"[\\n  1\\n]\"`: with two arguments the second is the indent; `JSON.stringify(x, null, 2)` is exactly JavaScript's",
            reason:
                "flowrun has no replacer functions, and flows written before this table relied on the two-argument indent."
        ),
        JSDifference(
            id: "octal-escape",
            javascript: "`'\\1'` is U+0001 (legacy octal, non-strict code)",
            flowrun: "a load-time error: use `\\x01` or `\\u0001`",
            reason: "Octal escapes are forbidden in strict-mode JavaScript and easy to misread."
        ),
        JSDifference(
            id: "raw-line-break",
            javascript: "a raw line break inside a string literal is a syntax error",
            flowrun: "allowed (it is part of the string)",
            reason: "Expressions live in YAML, where long literals wrap across lines."
        ),
        JSDifference(
            id: "regex-limits", javascript: "matching runs until it is done (a catastrophic pattern hangs)",
            flowrun: "matching can fail with `E129` (1,000,000 backtracking steps, 1,000,000 levels, 64 MiB)",
            reason: "a pattern or subject from data must not hang a run"),
        JSDifference(
            id: "regex-match-array", javascript: "`s.match(re)` is an array with `.index`, `.groups` and `.input`",
            flowrun: "`s.match(re)` without g is a plain array: no `.index`, `.groups` or `.input` on it",
            reason: "arrays have no extra properties in the value model; `matchAll` gives index and groups"),
        JSDifference(
            id: "regex-no-lastindex", javascript: "a g or y regex keeps `lastIndex` between `test` and `exec` calls",
            flowrun:
                "no `lastIndex`: `re.test(s)` and `re.exec` state do not carry over between calls (there is no `exec`)",
            reason: "expressions are pure functions of their inputs"),
        JSDifference(
            id: "regex-value", javascript: "a RegExp object",
            flowrun:
                "a regex is the plain object `{source, flags}` (`typeof` would say object; `==` compares source and flags)",
            reason: "one value model that serialises into messages"),
        JSDifference(
            id: "regex-line-ends",
            javascript: "`.` and `^ $` (m) also stop at U+2028/U+2029; `\\s` is Unicode white space",
            flowrun: "`.` and `^ $` with m stop at CR and LF but not at U+2028/U+2029; `\\s` is ASCII white space",
            reason: "PCRE2's newline setting and character tables"),
        JSDifference(
            id: "regex-case-folding",
            javascript: "`i` folds case by Unicode simple case folding; lookbehind may be unbounded",
            flowrun:
                "`i` folds case for ASCII letters only unless the u flag is set; lookbehind must have a bounded length",
            reason: "PCRE2's matching rules"),
        JSDifference(
            id: "regex-lone-surrogates", javascript: "a match may split a surrogate pair",
            flowrun: "a match that splits a surrogate pair (a lone surrogate, without u) comes out as U+FFFD",
            reason: "strings are always valid Unicode"),
        JSDifference(
            id: "regex-no-function-replace", javascript: "`s.replace(re, fn)` calls `fn` for each match",
            flowrun: "`s.replace(re, fn)` with a function replacement is not supported",
            reason: "arrow functions are only method arguments of arrays"),
    ]

    /// The Markdown table for components/expressions.md.
    public static var table: String {
        var out = "| id | JavaScript | flowrun | why |\n|---|---|---|---|\n"
        for d in all {
            let cells = [d.id, d.javascript, d.flowrun, d.reason].map {
                String($0.flatMap { $0 == "|" ? ["\\", "|"] : [$0] })
            }
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        return out
    }
}
