import FlowrunExpression
import FlowrunValue
import Testing

/// A compiled field read remembers where it last found its key (an inline cache). These evaluate one
/// compiled expression against objects whose keys sit at different positions, one after another.
@Suite struct FieldReadTests {
    @Test func oneCompiledReadFollowsChangingLayouts() throws {
        let (template, _, diagnostics) = ExpressionCompiler.compileTemplate("<<$.b>>")
        #expect(diagnostics.isEmpty)
        let inputs: [(Value, Value)] = [
            (["a": 1, "b": 2], 2), (["b": 3, "a": 4], 3), (["a": 5], nil), (["x": 1, "y": 2, "z": 3, "b": 4], 4),
            ([:], nil), (["b": "last"], "last"),
        ]
        for (input, expected) in inputs {
            #expect(try template!.evaluate(input, testGlobals) == expected, "\(input)")
        }
    }

    @Test func readsOfLargeObjectsFindEveryKey() throws {
        let (template, _, _) = ExpressionCompiler.compileTemplate("<<$.items.map(o => o.k7 + o.k42)>>")
        var big = Value.Object()
        for i in 0..<64 { big["k\(i)"] = .int(i) }
        var reversed = Value.Object()
        for i in (0..<64).reversed() { reversed["k\(i)"] = .int(i * 10) }
        let input: Value = ["items": [.object(big), .object(reversed), .object(big)]]
        #expect(try template!.evaluate(input, testGlobals) == [49, 490, 49])
    }
}
