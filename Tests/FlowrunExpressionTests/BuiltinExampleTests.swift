import FlowrunExpression
import FlowrunValue
import Testing

/// Every builtin's documented examples are executable: these tests run them.
@Suite struct BuiltinExampleTests {
    static let functionExamples = Builtins.functions.flatMap { f in f.examples.map { (f.name, $0.0, $0.1) } }
    static let methodExamples = Methods.all.flatMap { m in m.examples.map { (m.name, $0.0, $0.1) } }

    @Test(arguments: functionExamples)
    func function(name: String, expression: String, expected: String) {
        #expect(evaluate(expression) == expected, "\(name): \(expression)")
    }

    @Test(arguments: methodExamples)
    func method(name: String, expression: String, expected: String) {
        #expect(evaluate(expression) == expected, "\(name): \(expression)")
    }

    @Test func everyBuiltinHasExamples() {
        for f in Builtins.functions { #expect(!f.examples.isEmpty, "\(f.name) has no examples") }
        for m in Methods.all { #expect(!m.examples.isEmpty, "\(m.name) has no examples") }
    }

    @Test func everyDesignFunctionExists() {
        let design = """
            now RFC3339 parseTime int float bool string len lower upper trim ceil floor round abs min max keys values
            entries uuid sha256 base64 base64decode JSON.stringify JSON.parse duration
            """
        for name in design.split(whereSeparator: \.isWhitespace) {
            #expect(Builtins.byName[String(name)] != nil, "missing builtin \(name)")
        }
        let methods =
            "map filter find some every reduce slice concat includes join indexOf toLowerCase toUpperCase trim split startsWith endsWith replace"
        for name in methods.split(separator: " ") {
            #expect(Methods.byName[String(name)] != nil, "missing method \(name)")
        }
    }
}
