import FlowrunExpression
import FlowrunValue

/// 2023-11-14T22:13:20Z, the fixed `now()` of every example and golden file.
let fixedNow = 1_700_000_000_000_000_000

let testGlobals = Globals(
    vars: ["pageSize": 100, "source": "crm"], secrets: ["apiToken": "s3cr3t"], env: ["HOME": "/root"],
    run: ["id": "run-1", "startedAt": .int(fixedNow), "trigger": "manual", "dryRun": false],
    flow: ["name": "user-sync"], clock: { fixedNow })

/// Compiles and evaluates `text` (a template, or a bare expression), returning the JSON result or
/// the rendered diagnostics.
func evaluate(_ text: String, input: Value = [:]) -> String {
    let (template, _, diagnostics) = ExpressionCompiler.compileTemplate(text)
    let errors = diagnostics.filter { $0.severity == .error }
    guard let template, errors.isEmpty else { return errors.map { $0.render() }.joined(separator: "\n") }
    do { return JSON.serialize(try template.evaluate(input, testGlobals)) } catch {
        return error.diagnostic.render()
    }
}
