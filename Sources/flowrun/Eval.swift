import ArgumentParser
import Flowrun
import FlowrunExpression
import FlowrunValue

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate an expression or template and print the JSON result: a playground for mappings.",
        discussion: """
            Examples:
              flowrun eval '<<$.page + 1>>' --input '{"page": 2}'
              flowrun eval '<<$.items.map(x => lower(x.email))>>' --input @page.json
              flowrun eval 'Bearer <<secrets.token>>' --secrets '{"token": "t"}'
            Exit status: 0 with the result on stdout; 1 with the diagnostic on stderr; 2 on usage errors.
            """)

    @Argument(help: "A template such as '<<$.a + 1>>', or a bare expression.") var expression: String
    @Option(help: "The message `$` as JSON, or @file.") var input: String?
    @Option(help: "`vars` as a JSON object, or @file.") var vars: String?
    @Option(help: "`secrets` as a JSON object, or @file.") var secrets: String?
    @Flag(help: "Pretty-print the result.") var pretty = false

    func json(_ option: String?, _ name: String) throws -> Value? {
        try option.map { try InputArgument.parse($0, option: "--\(name)") }
    }

    func run() throws {
        let message = try json(input, "input") ?? .object([:])
        let varsValue = try json(vars, "vars") ?? .object([:])
        let secretsValue = try json(secrets, "secrets") ?? .object([:])
        let context = CheckContext(
            input: .any, vars: varsValue == [:] ? .anyObject : Shape(of: varsValue),
            secrets: secretsValue == [:] ? .anyObject : Shape(of: secretsValue))
        let (template, _, diagnostics) = ExpressionCompiler.compileTemplate(
            expression, path: "<eval>", context: context)
        if !diagnostics.isEmpty { FileHandleOutput.stderr(Diagnostic.renderAll(diagnostics)) }
        guard let template else { throw ExitCode(1) }
        let globals = Globals(
            vars: varsValue, secrets: secretsValue, env: Globals.processEnvironment(),
            run: ["id": "eval", "startedAt": .int(Globals.systemClock()), "trigger": "manual", "dryRun": false],
            flow: ["name": "eval"])
        do {
            let result = try template.evaluate(message, globals)
            print(pretty ? JSON.pretty(result) : JSON.serialize(result))
        } catch {
            FileHandleOutput.stderr(error.diagnostic.render())
            throw ExitCode(1)
        }
    }
}
