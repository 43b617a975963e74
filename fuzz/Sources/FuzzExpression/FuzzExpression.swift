import Flowrun
import FuzzSupport

/// The expression pipeline: lexer, parser, checker, compiler and (for inputs that cannot be made to run
/// for long) the evaluator. Any text gives diagnostics or a value or a located runtime error, never a crash.
@main enum FuzzExpression {
    static func main() { Fuzzer.run(fuzz) }
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (template, _, diagnostics) = ExpressionCompiler.compileTemplate(text, path: "fuzz", context: context)
    for d in diagnostics.prefix(100) { _ = d.render() }
    guard let template, mayEvaluate(text) else { return 0 }
    do {
        let result = try template.evaluate(message, globals)
        _ = JSON.serialize(result)
    } catch {
        _ = error.diagnostic.render()
    }
    return 0
}

let message: Value = try! JSON.parse(
    #"{"page": 2, "items": [{"id": 1, "email": "A@x.io", "updated_at": "2024-01-01T00:00:00Z"}, {"id": -3}],"#
        + #" "name": "Ann", "n": 9223372036854775807, "f": 1.5e300, "t": "9999-12-31T23:59:59Z"}"#)
let vars: Value = ["base": "https://api.example.com", "limit": 100]
let secrets: Value = ["token": "s3cr3t"]
let context = CheckContext(input: .any, vars: Shape(of: vars), secrets: Shape(of: secrets))
let globals = Globals(
    vars: vars, secrets: secrets, env: ["HOME": "/root"],
    run: ["id": "fuzz", "startedAt": 1_704_067_200_000_000_000, "trigger": "manual", "dryRun": false],
    flow: ["name": "fuzz"], clock: { 1_704_067_200_000_000_000 })

/// Flows are written by their authors, so an expression that is merely slow or huge by design
/// (`range(1000000).map(x => range(1000000))`, a reduce that doubles a string) is not a defect the fuzzer
/// should report as a timeout. Evaluate only inputs with at most one construct that multiplies work.
func mayEvaluate(_ text: String) -> Bool {
    if text.utf8.count > 400 { return false }
    var amplifiers = 0
    let bytes = Array(text.utf8)
    for word in ["range", "repeat", "pad", "reduce", "=>", "concat", "flat"] {
        let w = Array(word.utf8)
        var i = 0
        while i + w.count <= bytes.count {
            if bytes[i..<i + w.count].elementsEqual(w) { amplifiers += 1 }
            i += 1
        }
        if amplifiers > 1 { return false }
    }
    return true
}
