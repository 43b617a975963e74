import FlowrunExpression
import FlowrunValue
import Testing

/// Issue 15, items 11-14: URI encoding, `.at()` and empty reductions, did-you-mean for functions and
/// methods, and time helpers. URI and `.at` results were checked against QuickJS (and the spec for `.at`).
@Suite struct ExpressionAdditionsTests {
    static let javascriptExact: [(String, String)] = [
        ("encodeURIComponent('a/b?c#d&e=f g')", #""a%2Fb%3Fc%23d%26e%3Df%20g""#),
        (#"encodeURIComponent('José 😀 ~!*()\'')"#, #""Jos%C3%A9%20%F0%9F%98%80%20~!*()'""#),
        ("encodeURI('https://x.org/a b?q=é&r=1#f[0]')", #""https://x.org/a%20b?q=%C3%A9&r=1#f%5B0%5D""#),
        ("decodeURIComponent('a%2Fb%20%C3%A9%F0%9F%98%80')", #""a/b é😀""#),
        ("decodeURIComponent('%41%42c')", #""ABc""#),
        ("[1, 2, 3].at(-1)", "3"),
        ("[1, 2, 3].at(0)", "1"),
        ("[1, 2, 3].at(3)", "null"),
        ("[1, 2, 3].at(-4)", "null"),
        ("[].at(0)", "null"),
        ("'abc'.at(-1)", #""c""#),
        ("'abc'.at(5)", "null"),
    ]

    @Test(arguments: javascriptExact)
    func matchesWhatJavaScriptGives(expression: String, expected: String) {
        #expect(evaluate(expression) == expected, "\(expression)")
    }

    /// Item 11: an id with `#`, `/` or `?` stays one path segment.
    @Test func anIdIsEncodedIntoOnePathSegment() {
        #expect(
            evaluate("'/users/' + encodeURIComponent($.id)", input: ["id": "a#b/c?d"]) == #""/users/a%23b%2Fc%3Fd""#)
        #expect(evaluate("decodeURIComponent(encodeURIComponent($.id))", input: ["id": "ü/#?&= 😀"]) == #""ü/#?&= 😀""#)
    }

    @Test(arguments: ["%", "%4", "%zz", "%C3", "%C3%28", "%E0%80%80", "%ED%A0%80", "%FF"])
    func malformedEscapesAreErrorsNotNull(text: String) {
        let r = evaluate("decodeURIComponent($.s)", input: ["s": .string(text)])
        #expect(r.contains("error[E122]: decodeURIComponent:"), "\(text): \(r)")
    }

    /// Item 12: `max([])` is null so `max(xs) ?? cursor` works; `.at(-1)` reads the last element.
    @Test func emptyReductionsAreNullAndAtCountsFromTheEnd() {
        #expect(evaluate("max($.xs) ?? $.cursor", input: ["xs": [], "cursor": "c0"]) == #""c0""#)
        #expect(evaluate("max($.xs) ?? $.cursor", input: ["xs": [3, 9, 4], "cursor": "c0"]) == "9")
        #expect(evaluate("min([]) ?? -1") == "-1")
        #expect(evaluate("max(1)").contains("error[E120]"))
        #expect(evaluate("$.xs.at(-1)", input: ["xs": [1, 2, 3]]) == "3")
        #expect(evaluate("$.xs.at(-1) ?? 'none'", input: ["xs": []]) == #""none""#)
        #expect(evaluate("[1].at('0')").contains("error[E120]"))
    }

    /// Item 13: names from other languages get a suggestion; the diagnostic keeps its code and location.
    @Test func unknownNamesSuggestWhatFlowrunCallsThem() {
        #expect(
            evaluate("$.a + lowercase($.x)") == """
                <expr>:1:7: error[E103]: unknown function 'lowercase'
                  |
                1 | $.a + lowercase($.x)
                  |       ^^^^^^^^^^^^^^
                  = help: did you mean lower(x) or x.toLowerCase()?
                """)
        let cases = [
            ("len2('a')", "did you mean 'len'?"), ("strip('a')", "did you mean trim(x) or x.trim()?"),
            ("parseInt('1')", "did you mean int(x)?"), ("uppercase('a')", "did you mean upper(x) or x.toUpperCase()?"),
            ("'a'.lower()", "did you mean .toLowerCase()?"), ("'a'.startswith('a')", "did you mean .startsWith(s)?"),
            ("[1].size()", "did you mean .length or len(x)?"), ("'a'.toLowerCas()", "did you mean 'toLowerCase'?"),
            ("[1].keys()", "keys is a function: write keys(x)"), ("split('a', ',')", "split is a method"),
        ]
        for (expression, help) in cases {
            let r = evaluate(expression)
            #expect(r.contains("= help: \(help)"), "\(expression): \(r)")
            #expect(r.contains("error[E103]") || r.contains("error[E105]"), "\(expression): \(r)")
        }
    }

    /// Item 14: durations added to times, formatting by tokens, Unix seconds and milliseconds in and out.
    @Test func timeHelpers() {
        let cases: [(String, String)] = [
            ("addDuration('2024-01-31T23:00:00Z', '1h30m')", #""2024-02-01T00:30:00.000Z""#),
            ("addDuration('2024-01-01T00:00:00Z', '-90m')", #""2023-12-31T22:30:00.000Z""#),
            ("addDuration('2024-02-28T00:00:00+02:00', '2d')", #""2024-02-29T22:00:00.000Z""#),
            ("addDuration(now(), '1s') - now()", "1000000000"),
            ("addDuration(now(), 5)", "1700000000000000005"),
            ("formatTime('2024-03-01T12:34:56.789Z', 'YYYY-MM-DD')", #""2024-03-01""#),
            ("formatTime('2024-03-01T02:04:06.007Z', 'YY/M/D H:m:s SSS ZZ')", #""24/3/1 2:4:6 007 +0000""#),
            ("formatTime('2024-03-01T12:00:00+01:00', 'YYYY-MM-DD[T]HH:mm:ssZ')", #""2024-03-01T11:00:00+00:00""#),
            ("formatTime(0, 'X x')", #""0 0""#), ("formatTime('1969-12-31T23:59:59.5Z', 'X x')", #""-1 -500""#),
            ("formatTime('0001-01-01T00:00:00Z', 'YYYY')", #""0001""#),
            ("unixSeconds('2024-01-01T00:00:00Z')", "1704067200"), ("unixMillis(now())", "1700000000000"),
            ("RFC3339(fromUnixSeconds(1704067200))", #""2024-01-01T00:00:00.000Z""#),
            ("RFC3339(fromUnixSeconds(1.25))", #""1970-01-01T00:00:01.250Z""#),
            ("RFC3339(fromUnixMillis(-1))", #""1969-12-31T23:59:59.999Z""#),
            (
                "formatTime(fromUnixSeconds(unixSeconds('2024-05-06T07:08:09Z')), 'YYYY-MM-DD HH:mm:ss')",
                #""2024-05-06 07:08:09""#
            ),
        ]
        for (expression, expected) in cases { #expect(evaluate(expression) == expected, "\(expression)") }
        #expect(evaluate("addDuration(now(), 'soon')").contains("error[E122]: addDuration: 'soon' is not a duration"))
        #expect(evaluate("addDuration('9999-12-31T23:00:00Z', '2h')").contains("error[E123]"))
        #expect(evaluate("addDuration(9223372036854775807, '1s')").contains("error[E123]"))
        #expect(evaluate("fromUnixSeconds(9300000000)").contains("error[E123]"))
        #expect(evaluate("formatTime('yesterday', 'YYYY')").contains("error[E122]"))
    }
}
