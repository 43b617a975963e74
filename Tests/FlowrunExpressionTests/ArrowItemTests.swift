import FlowrunExpression
import FlowrunValue
import Testing

/// An arrow function's first argument, when it is an object, is unpacked once per call and its field
/// reads borrow it (`Env.item`); everything else reads the parameter from the frame. These mix the two
/// within one evaluation: items that are not objects, the parameter used whole, outer parameters read
/// from inner arrows, shadowing, and arrows without parameters.
@Suite struct ArrowItemTests {
    static let cases: [(String, String)] = [
        // Items of every kind through one compiled read; `?.` lets null through, a number is an error.
        ("[{a: 1}, null, {a: 2}].map(x => x?.a)", "[1,null,2]"),
        ("[{a: 1}, 5].map(x => x.a)", "<expr>:1:24: error[E120]: cannot read field 'a' of int"),
        (
            "[{a: 1}, null].map(x => x.a)",
            "<expr>:1:27: error[E120]: cannot read field 'a' of null (use ?. to allow null)"
        ),
        // The parameter whole, and beside its fields.
        ("[{a: 1}, {a: 2}].map(x => [x.a, x])", "[[1,{\"a\":1}],[2,{\"a\":2}]]"),
        ("[{a: 1}].map(x => ({...x, b: x.a + 1}))", "[{\"a\":1,\"b\":2}]"),
        ("[{a: 1, b: [3, 4]}].map(x => x.b[1] + x['a'])", "[5]"),
        // An inner arrow reads the outer item's fields from the frame, its own from its item.
        ("[{k: 10, xs: [{v: 1}, {v: 2}]}].map(o => o.xs.map(i => i.v + o.k))", "[[11,12]]"),
        ("[{k: 1}, {k: 2}].map(o => [{k: 10}].map(i => i.k + o.k))", "[[11],[12]]"),
        // Shadowing: the inner `x` is the inner item.
        ("[{a: 1, xs: [{a: 7}]}].map(x => x.xs.map(x => x.a))", "[[7]]"),
        // The index parameter, and an arrow that ignores its argument.
        ("[{a: 'p'}, {a: 'q'}].map((x, i) => x.a + i)", "[\"p0\",\"q1\"]"),
        // An arrow without parameters as the only arrow: the evaluation has no frame (this crashed).
        ("[{a: 1}, {a: 2}].map(() => 3)", "[3,3]"),
        ("[1, 2].filter(() => true)", "[1,2]"),
        // Other higher-order methods, and reduce, whose first parameter is the accumulator.
        ("[{a: 1}, {a: 5}, null].filter(x => (x?.a ?? 0) > 2)", "[{\"a\":5}]"),
        ("[{a: 1}, {a: 5}].find(x => x.a == 5)", "{\"a\":5}"),
        ("[{a: 1}, {a: 5}].reduce((acc, x) => ({n: acc.n + x.a}), {n: 0})", "{\"n\":6}"),
        // Items whose keys sit at different positions, read by one compiled field read.
        ("[{a: 1, b: 2}, {b: 3}, {c: 0, b: 4}, {}].map(x => x.b)", "[2,3,4,null]"),
    ]

    /// The JSON result, or the first line of the error (its location, code and message).
    @Test(arguments: cases)
    func arrowArguments(_ expression: String, _ expected: String) {
        let result = evaluate("<<\(expression)>>")
        #expect(result.split(separator: "\n").first.map(String.init) == expected)
    }

    /// The message and the globals stay readable inside arrows, and one compiled expression evaluated
    /// against different messages sees each one.
    @Test func messageAndGlobalsInsideArrows() throws {
        let (template, _, diagnostics) = ExpressionCompiler.compileTemplate(
            "<<$.items.map(u => ({id: u.id, page: $.page, size: vars.pageSize, at: RFC3339(now())}))>>")
        #expect(diagnostics.isEmpty)
        for page in 1...3 {
            let input: Value = ["page": .int(page), "items": [["id": "a"], ["id": "b"]]]
            let result = try template!.evaluate(input, testGlobals)
            let expected: Value = .array(
                ["a", "b"].map { id in
                    ["id": .string(id), "page": .int(page), "size": 100, "at": "2023-11-14T22:13:20.000Z"]
                })
            #expect(result == expected)
        }
    }
}
