import FlowrunExpression
import FlowrunValue
import Testing

/// Issue 15 items 1-9: strings, escapes, numbers in text and `JSON.stringify` as JavaScript has them,
/// with the exact examples from the issue (JavaScript's answer is the expected one unless the
/// difference is a row of `JSDifferences.all`).
@Suite struct JSStringsTests {
    /// Item 1: JavaScript's escapes in string literals; an unknown escape keeps its character.
    @Test(arguments: [
        (#"'\x41'"#, #""A""#),
        (#"'\b' == '\u0008'"#, "true"),
        (#"'\uD83D\uDE00' == '😀'"#, "true"),
        (#"'\u{1F600}' == '😀'"#, "true"),
        (#"'\u{1F600}'.length"#, "2"),
        (#"'\u0041\u{42}'"#, #""AB""#),
        (#"'\f\v\0'.length"#, "3"),
        (#"'\f\v\0' == '\u000c\u000b\u0000'"#, "true"),
        (#"'\q'"#, #""q""#),
        (#"'\''"#, #""'""#),
        ("'a\\\nb'", #""ab""#),
    ])
    func escapes(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Item 1: a malformed `\x`/`\u` escape or a lone surrogate is a load-time diagnostic at the escape.
    @Test(arguments: [
        (#"'ab\x4'"#, "invalid \\x escape", "<expr>:1:6"),
        (#"'\u12'"#, "invalid \\u escape", "<expr>:1:4"),
        (#"'\u{110000}'"#, "invalid \\u{...} escape", "<expr>:1:4"),
        (#"'\u{}'"#, "invalid \\u{...} escape", "<expr>:1:4"),
        (#"'\uD83D'"#, "lone surrogate", "<expr>:1:4"),
        (#"'\uDE00x'"#, "lone surrogate", "<expr>:1:4"),
        (#"'\1'"#, "octal escapes", "<expr>:1:4"),
    ])
    func malformedEscapesAreDiagnostics(_ expression: String, _ message: String, _ location: String) {
        let out = evaluate("<<\(expression)>>")
        #expect(out.contains(message), "\(out)")
        #expect(out.contains(location), "\(out)")
    }

    /// Item 2: strings are UTF-16 code units for length, indexing, search, split and comparison;
    /// equality compares code units (no canonical equivalence).
    @Test(arguments: [
        (#"'a\r\nb'.split('\n')"#, #"["a\r","b"]"#),
        (#"'a\r\nb'.length"#, "4"),
        (#"len('a\r\nb')"#, "4"),
        ("'😀'.length", "2"),
        (#"'e\u0301' == '\u00e9'"#, "false"),
        (#"'e\u0301' != '\u00e9'"#, "true"),
        (#"'e\u0301'.startsWith('e')"#, "true"),
        (#"'\u00e9'.startsWith('e')"#, "false"),
        (#"'e\u0301'.endsWith('\u0301')"#, "true"),
        (#"'e\u0301'.includes('e')"#, "true"),
        (#"'\uff61' < '😀'"#, "false"),
        (#"'😀' < '\uff61'"#, "true"),
        ("'a' < 'b'", "true"),
        ("'ab' < 'a'", "false"),
        (#"max(['\uff61', '😀']) == '\uff61'"#, "true"),
        ("'x😀y'.indexOf('y')", "3"),
        ("'x😀y😀'.lastIndexOf('😀')", "4"),
        (#"'a\r\nb'[2]"#, #""\n""#),
        (#"'a\r\nb'[-1]"#, #""b""#),
        ("'héllo'.slice(1, 3)", #""él""#),
        ("'x😀y'.slice(1, 3) == '😀'", "true"),
        (#"'x😀y'.slice(1, 2) == '\ufffd'"#, "true"),
        ("'😀'.split('').length", "2"),
        ("'hello'.substring(3, 1)", #""el""#),
        ("'5'.padStart(3, '0')", #""005""#),
        ("'😀'.padEnd(4, 'ab')", #""😀ab""#),
        (#"['e\u0301'].includes('\u00e9')"#, "false"),
        (#"['e\u0301'].indexOf('\u00e9')"#, "-1"),
    ])
    func codeUnits(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Item 3: `JSON.stringify(x, n)` indents as JavaScript does; its string escapes are JavaScript's.
    @Test(arguments: [
        ("JSON.stringify([1], 0)", #""[1]""#),
        ("JSON.stringify([1])", #""[1]""#),
        ("JSON.stringify([1], 1)", #""[\n 1\n]""#),
        ("JSON.stringify({a: [1]}, 2)", #""{\n  \"a\": [\n    1\n  ]\n}""#),
        ("JSON.stringify([1], 20) == JSON.stringify([1], 10)", "true"),
        ("JSON.stringify([1], '--')", #""[\n--1\n]""#),
        ("JSON.stringify([1], '')", #""[1]""#),
        ("JSON.stringify([1], null)", #""[1]""#),
        ("JSON.stringify([1], -3)", #""[1]""#),
        ("JSON.stringify([], 2)", #""[]""#),
        ("JSON.stringify({a: [1]}, null, 2)", #""{\n  \"a\": [\n    1\n  ]\n}""#),
        ("JSON.stringify([1], null, 0)", #""[1]""#),
        ("JSON.stringify([1], null, 2.7)", #""[\n  1\n]""#),
        ("JSON.stringify([1], null, 'abcdefghijkl')", #""[\nabcdefghij1\n]""#),
        (#"JSON.stringify('\u0008\f\n\r\t\u0001\u001f')"#, #""\"\\b\\f\\n\\r\\t\\u0001\\u001f\"""#),
    ])
    func jsonStringify(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Item 3: a replacer is not supported: anything but null in its place is a clear error.
    @Test func jsonStringifyReplacerMustBeNull() {
        let out = evaluate("<<JSON.stringify([1], 1, 2)>>")
        #expect(out.contains("the replacer must be null"), "\(out)")
    }

    /// Item 4: numbers become text by JavaScript's Number::toString (concatenation, `string()`, templates).
    @Test(arguments: [
        ("'a' + 1e-05", #""a0.00001""#),
        ("'a' + 1e16", #""a10000000000000000""#),
        ("'a' + 1e21", #""a1e+21""#),
        ("'a' + 1e-7", #""a1e-7""#),
        ("'a' + 1.5e-7", #""a1.5e-7""#),
        ("'a' + 123456789012345680000.0", #""a123456789012345680000""#),
        ("'a' + 0.000001", #""a0.000001""#),
        ("'a' + (0.1 + 0.2)", #""a0.30000000000000004""#),
        ("'a' + 2.0", #""a2""#),
        ("'a' + -0.0", #""a0""#),
        ("'a' + 1.7976931348623157e308", #""a1.7976931348623157e+308""#),
        ("'a' + 5e-324", #""a5e-324""#),
        ("string(2.5e-8)", #""2.5e-8""#),
        ("[1.5, 1e21].join()", #""1.5,1e+21""#),
        ("'x' + 7", #""x7""#),
    ])
    func numbersInText(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Item 4, JSON side: a float keeps a `.0` so that it reads back as a float (`ints-and-floats`).
    @Test func floatsInJSONReadBackAsFloats() throws {
        #expect(JSON.serialize([1e16, 1e-5, 1e21, 2.0, 0.5]) == "[10000000000000000.0,0.00001,1e+21,2.0,0.5]")
        for d in [1e16, 1e-5, 1e21, 2.0, 0.1 + 0.2, 5e-324, -1.5e300] {
            #expect(try JSON.parse(Value.canonical(d)) == .double(d))
            guard case .double = try JSON.parse(Value.canonical(d)) else {
                Issue.record("\(d) did not read back as a float")
                continue
            }
        }
        #expect(evaluate("<<JSON.stringify(1e-5)>>") == #""0.00001""#)
        #expect(evaluate("n=<<1e-5>> m=<<2.0>>") == #""n=0.00001 m=2""#)
    }

    /// Item 5: `replace`/`replaceAll` with empty patterns and JavaScript's replacement patterns.
    @Test(arguments: [
        ("'ab'.replace('', '-')", #""-ab""#),
        ("'ab'.replaceAll('', '-')", #""-a-b-""#),
        ("''.replaceAll('', '-')", #""-""#),
        ("'x'.replace('x', '$&$&')", #""xx""#),
        ("'a-b'.replace('-', '[$`|$\\'|$$|$1|$]')", #""a[a|b|$|$1|$]b""#),
        ("'a-b-c'.replaceAll('-', '$&$&')", #""a--b--c""#),
        ("'aaa'.replaceAll('aa', 'b')", #""ba""#),
        ("'a.b'.replace('.', '$')", #""a$b""#),
    ])
    func replacePatterns(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Item 6: full Unicode case mapping with Final_Sigma; JavaScript's whitespace set for `trim`.
    @Test(arguments: [
        ("'ΟΔΟΣ'.toLowerCase()", #""οδος""#),
        ("lower('ΟΔΟΣ ΟΔΟΣ.')", #""οδος οδος.""#),
        ("'Σ'.toLowerCase()", #""σ""#),
        ("'ΑΣΑ'.toLowerCase()", #""ασα""#),
        ("'straße'.toUpperCase()", #""STRASSE""#),
        ("'İ'.toLowerCase().length", "2"),
        (#"'\ufeff\u00a0\u2028 x \u3000\t\v\f'.trim()"#, #""x""#),
        (#"'\u0085x\u0085'.trim().length"#, "3"),
        (#"'\u180ex'.trim().length"#, "2"),
        (#"trim('\ufeffx')"#, #""x""#),
        (#"' x '.trimStart()"#, #""x ""#),
        (#"' x '.trimEnd()"#, #"" x""#),
    ])
    func caseAndWhitespace(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Item 7 (difference `negative-index` and `null-argument`): a negative index counts from the end,
    /// and a null argument to `slice` is an absent one, consistently for arrays and strings.
    @Test(arguments: [
        ("$.a[-1]", "3"),
        ("$.a[-4]", "null"),
        ("$.a.slice(1, null)", "[2,3]"),
        ("$.a.slice(null, 2)", "[1,2]"),
        ("'abc'.slice(1, null)", #""bc""#),
        ("'abc'[-1]", #""c""#),
    ])
    func negativeIndexesAndNullArguments(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>", input: ["a": [1, 2, 3]]) == expected)
    }

    /// Item 8: E108 only for operands known to be wrong: `any + bool` may be a string concatenation.
    @Test func checkerAllowsAnyPlusBool() {
        for ok in ["$.s + true", "true + $.s", "$.s + $.t", "'a' + true", "$.n + 1"] {
            let (_, _, diagnostics) = ExpressionCompiler.compileTemplate("<<\(ok)>>")
            #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(ok): \(diagnostics.map { $0.render() })")
        }
        #expect(evaluate("<<$.s + true>>", input: ["s": "x"]) == #""xtrue""#)
        for bad in ["1 + true", "true + true", "[1] + $.s", "true + 1.5", "{} + 'a'"] {
            let (_, _, diagnostics) = ExpressionCompiler.compileTemplate("<<\(bad)>>")
            #expect(diagnostics.contains { $0.code == .operandType }, "\(bad) should be E108")
        }
    }

    /// Item 9 (difference `deep-equality`): `==`, `indexOf` and `includes` agree: deep equality.
    @Test(arguments: [
        ("[1] == [1]", "true"),
        ("[[1]].indexOf([1])", "0"),
        ("[[1]].includes([1])", "true"),
        ("{a: [1]} == {a: [1]}", "true"),
        ("[{a: 1}].indexOf({a: 1.0})", "0"),
        ("[1] != [2]", "true"),
        ("[[1]].indexOf([2])", "-1"),
    ])
    func equalityIsDeepEverywhere(_ expression: String, _ expected: String) {
        #expect(evaluate("<<\(expression)>>") == expected)
    }

    /// Every difference has an id, a JavaScript and a flowrun example and a reason, and the ids are unique.
    @Test func differencesTableIsComplete() {
        let ids = JSDifferences.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        for d in JSDifferences.all {
            #expect(!d.javascript.isEmpty && !d.flowrun.isEmpty && !d.reason.isEmpty, "\(d.id)")
        }
    }
}
