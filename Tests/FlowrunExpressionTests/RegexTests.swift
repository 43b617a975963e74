import FlowrunExpression
import FlowrunValue
import Testing

/// Regular expressions (issue 15, item 10): JavaScript's syntax and results, each expected value checked
/// against QuickJS while writing the table; PCRE2's limits stop catastrophic backtracking.
@Suite struct RegexTests {
    /// `(expression, JSON result)`: classes, groups, named groups, alternation, lazy and counted quantifiers,
    /// lookahead, anchors, escapes, back references, flags i m s g, replacement patterns and split.
    static let javascriptExact: [(String, String)] = [
        (#"'a1b22c333'.match(/\d+/g)"#, #"["1","22","333"]"#),
        (#"'2024-05-06'.match(/(\d+)-(\d+)-(\d+)/)"#, #"["2024-05-06","2024","05","06"]"#),
        ("'abc'.match(/(x)?b/)", #"["b",null]"#),
        ("'abc'.match(/z/)", "null"),
        ("'abc'.match(/z/g)", "null"),
        ("'ABC'.match(/b/i)", #"["B"]"#),
        (#"'a\nb'.match(/^b$/m)"#, #"["b"]"#),
        (#"'a\nb'.match(/^b$/)"#, "null"),
        (#"'a\nb'.match(/a.b/s)"#, #"["a\nb"]"#),
        (#"'a\nb'.match(/a.b/)"#, "null"),
        (#"'a\r\nb'.match(/a.b/s)"#, "null"),
        ("'x'.match(/[^]/)", #"["x"]"#),
        (#"'\u00e9'.match(/\u00e9/)"#, #"["é"]"#),
        ("'aaa'.match(/a+?/)", #"["a"]"#),
        ("'aaa'.match(/a{2}/g)", #"["aa"]"#),
        ("'foobar'.match(/foo(?=bar)/)", #"["foo"]"#),
        ("'foobaz'.match(/foo(?!bar)/)", #"["foo"]"#),
        (#"'price: $42'.match(/\$(\d+)/)"#, #"["$42","42"]"#),
        (#"'a.b'.match(/a\.b/)"#, #"["a.b"]"#),
        (#"'tab\there'.match(/\s/)"#, #"["\t"]"#),
        (#"'word boundary'.match(/\bb\w+/)"#, #"["boundary"]"#),
        (#"'abab'.match(/(ab)\1/)"#, #"["abab","ab"]"#),
        ("'xyz'.match(/(a)|x/)", #"["x",null]"#),
        ("'cat dog'.match(/cat|dog/g)", #"["cat","dog"]"#),
        ("'aaa'.match(/a*?/g)", #"["","","",""]"#),
        ("'abc'.match(/(?:a)(b)/)", #"["ab","b"]"#),
        (#"'2024-05-06'.replace(/(\d+)-(\d+)-(\d+)/, '$3.$2.$1')"#, #""06.05.2024""#),
        (#"'John Smith'.replace(/(?<first>\w+) (?<last>\w+)/, '$<last>, $<first>')"#, #""Smith, John""#),
        ("'aXbXc'.replace(/x/gi, '-')", #""a-b-c""#),
        ("'aXbXc'.replace(/x/i, '-')", #""a-bXc""#),
        (#"'abc'.replace(/b/, '[$&|$`|$\'|$$]')"#, #""a[b|a|c|$]c""#),
        ("'abc'.replace(/b/, '$1$0$9')", #""a$1$0$9c""#),
        ("'abc'.replace(/(b)/, '$01$10')", #""abb0c""#),
        ("'abc'.replace(/x*/g, '-')", #""-a-b-c-""#),
        ("'abc'.replaceAll(/b/g, 'B')", #""aBc""#),
        (#"'a1b2c3'.replaceAll(/\d/g, '')"#, #""abc""#),
        (#"'a, b,c ,d'.split(/\s*,\s*/)"#, #"["a","b","c","d"]"#),
        (#"'a1b2c3'.split(/(\d)/)"#, #"["a","1","b","2","c","3",""]"#),
        ("'abc'.split(/(?:)/)", #"["a","b","c"]"#),
        ("''.split(/x/)", #"[""]"#),
        ("''.split(/(?:)/)", "[]"),
        ("'ab'.split(/a*?/)", #"["a","b"]"#),
        ("'test'.split(/t/)", #"["","es",""]"#),
        ("'a-b_c'.split(/[-_]/)", #"["a","b","c"]"#),
        (#"/^\d{4}-\d{2}$/.test('2024-05')"#, "true"),
        ("/a/.test('ABC')", "false"),
        ("/a/i.test('ABC')", "true"),
        (#"'abc1'.search(/\d/)"#, "3"),
        (#"'a+b'.replace(/\u002b/, '-')"#, #""a-b""#),
        (#"'tel: 555-1234'.match(/\x35{3}/)"#, #"["555"]"#),
    ]

    @Test(arguments: javascriptExact)
    func matchesWhatJavaScriptGives(expression: String, expected: String) {
        #expect(evaluate(expression) == expected, "\(expression)")
    }

    @Test func matchAllGivesIndexesCapturesAndNamedGroups() {
        #expect(
            evaluate(#"'k=1;j=22'.matchAll(/(?<key>\w)=(?<n>\d+)/g)"#)
                == #"[{"match":"k=1","index":0,"captures":["k","1"],"groups":{"key":"k","n":"1"}},"#
                + #"{"match":"j=22","index":4,"captures":["j","22"],"groups":{"key":"j","n":"22"}}]"#)
        #expect(
            evaluate("'abc'.matchAll(/b/)").contains("error[E120]: matchAll needs a regular expression with the g flag")
        )
        #expect(
            evaluate("'abc'.replaceAll(/b/, 'x')").contains(
                "error[E120]: replaceAll needs a regular expression with the g flag"))
    }

    @Test func aRegexIsAValueOfSourceAndFlags() {
        #expect(evaluate("/a+b/ig") == #"{"source":"a+b","flags":"gi"}"#)
        #expect(evaluate("regex('x' + '+', 'g').flags") == #""g""#)
        #expect(evaluate("test('xxy', regex('x' + '+'))") == "true")
        #expect(evaluate("$.re.test('abc')", input: ["re": ["source": "^a", "flags": ""]]) == "true")
        #expect(evaluate("'a.b'.split($.sep)", input: ["sep": "."]) == #"["a","b"]"#)
    }

    @Test func slashIsDivisionAfterAValueAndARegexWhereAnOperandIsExpected() {
        #expect(evaluate("10 / 2 / 5") == "1")
        #expect(evaluate("$.a / 2", input: ["a": 8]) == "4")
        #expect(evaluate("[4][0] / 2") == "2")
        #expect(evaluate("(6) / 3") == "2")
        #expect(evaluate("['a1', 'b'].filter(s => /\\d/.test(s))") == #"["a1"]"#)
        #expect(evaluate("true ? /x/.test('x') : false") == "true")
        #expect(evaluate("'a/b'.split(/[/]/)") == #"["a","b"]"#)
        #expect(evaluate(#"'a/b'.replace(/\//, '|')"#) == #""a|b""#)
    }

    @Test func aBadPatternIsALoadTimeDiagnosticWithItsLocation() {
        #expect(
            evaluate("$.s.match(/(a/)") == """
                <expr>:1:11: error[E119]: invalid regular expression /(a/: missing closing parenthesis at offset 2
                  |
                1 | $.s.match(/(a/)
                  |           ^^^^
                """)
        #expect(evaluate("/a/x").contains("error[E119]: invalid regular expression flags 'x'"))
        #expect(evaluate("/a/gg").contains("error[E119]"))
        #expect(evaluate("regex('[')").contains("<expr>:1:1: error[E119]: invalid regular expression /[/"))
        #expect(evaluate("'a'.match(/a").contains("error[E100]: unterminated regular expression literal"))
        // A pattern built at run time fails when it is evaluated, with the same code.
        #expect(evaluate("regex($.p)", input: ["p": "(a"]).contains("error[E119]"))
    }

    @Test func catastrophicBacktrackingStopsAtTheLimitQuickly() {
        let clock = ContinuousClock()
        var result = ""
        let elapsed = clock.measure {
            result = evaluate("$.s.match(/(a+)+$/)", input: ["s": .string(String(repeating: "a", count: 40) + "b")])
        }
        #expect(result.contains("error[E129]: regular expression /(a+)+$/ gave up"), "\(result)")
        #expect(elapsed < .seconds(2), "the limit stopped the match after \(elapsed)")
        // The same pattern on a subject it matches quickly still works.
        #expect(evaluate("$.s.match(/(a+)+$/)[0]", input: ["s": "aaa"]) == #""aaa""#)
    }

    @Test func aLongSubjectWithASimplePatternIsNotLimited() {
        let s = String(repeating: "ab", count: 100_000) + "c"
        #expect(evaluate("$.s.search(/c/)", input: ["s": .string(s)]) == "200000")
        #expect(evaluate("$.s.match(/(ab)+c/)[1]", input: ["s": .string(s)]) == #""ab""#)
        #expect(evaluate("$.s.replace(/b/g, '').length", input: ["s": .string(s)]) == "100001")
    }

    @Test func theCheckerKnowsTheShapesOfRegexResults() {
        #expect(evaluate("'abc'.search(/c/) + 1") == "3")
        #expect(evaluate("/x/.test(1)").contains("error[E120]"))
        #expect(evaluate("'abc'.match(1)").contains("error[E120]: match expects a regular expression, got int"))
        #expect(evaluate("'x'.toLowerCase().test('x')").contains("error[E106]"))
    }
}
