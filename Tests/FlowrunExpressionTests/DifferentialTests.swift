import FlowrunExpression
import FlowrunValue
import Foundation
import Testing

/// Issue 15: random well-typed expressions over the documented subset, evaluated by flowrun and by
/// QuickJS (the `quickjs` package from PyPI, driven by scripts/lib/quickjs_eval.py), compared value
/// by value. A mismatch passes only when a row of `JSDifferences.all` explains it (by id, through
/// `classify`); anything else fails with the expression and both results.
@Suite struct DifferentialTests {
    static let seed: UInt64 = 15
    static let cases = 3000

    /// The value of `$` on both sides.
    static let message: Value = [
        "s": "Ab😀 é", "t": "x\r\ny", "n": 3, "f": 0.5, "a": ["x", "😀", "Σ"], "nums": [1, 2.5, -3],
    ]

    @Test func flowrunAgreesWithQuickJS() throws {
        guard let python = ProcessInfo.processInfo.environment["FLOWRUN_TEST_PYTHON"], !python.isEmpty else {
            print("DifferentialTests skipped: FLOWRUN_TEST_PYTHON is unset (scripts/test sets it up with QuickJS)")
            return
        }
        var generator = ExpressionGenerator(seed: Self.seed)
        let generated = (0..<Self.cases).map { _ in generator.expression() }
        let expressions = generated.map(\.text)
        let js = try Self.quickJS(python: python, expressions)
        try #require(js.count == expressions.count)
        var agreed = 0
        var explained: [String: Int] = [:]
        var unexplained: [String] = []
        for ((expression, tags), theirs) in zip(generated, js) {
            let ours = Self.flowrun(expression)
            if Self.agree(ours, theirs) {
                agreed += 1
            } else if let id = Self.classify(expression, tags, ours, theirs) {
                explained[id, default: 0] += 1
            } else {
                unexplained.append("\(expression)\n    flowrun: \(ours)\n    QuickJS: \(theirs)")
            }
        }
        print(
            "DifferentialTests: \(expressions.count) expressions, \(agreed) agree, "
                + "\(explained.values.reduce(0, +)) differ as documented \(explained.sorted { $0.key < $1.key }), "
                + "\(unexplained.count) undocumented")
        #expect(
            unexplained.isEmpty,
            "\(unexplained.count) undocumented differences:\n\(unexplained.prefix(25).joined(separator: "\n"))")
        let ids = Set(JSDifferences.all.map(\.id))
        #expect(explained.keys.allSatisfy(ids.contains))
        #expect(agreed > expressions.count * 3 / 4, "most generated expressions should agree")
    }

    /// A result on either side: a value (`json` nil for JavaScript's undefined) or an error message.
    enum Outcome: CustomStringConvertible {
        case value(Value?, json: String?)
        case error(String)

        var description: String {
            switch self {
            case .value(_, let json): json ?? "undefined"
            case .error(let message): "error: \(message)"
            }
        }
    }

    static func flowrun(_ expression: String) -> Outcome {
        let (template, _, diagnostics) = ExpressionCompiler.compileTemplate("<<\(expression)>>")
        guard let template, !diagnostics.contains(where: { $0.severity == .error }) else {
            return .error(diagnostics.map { $0.render() }.joined(separator: "; "))
        }
        do {
            let v = try template.evaluate(message, testGlobals)
            return .value(v, json: JSON.serialize(v))
        } catch {
            return .error(error.diagnostic.render())
        }
    }

    static func quickJS(python: String, _ expressions: [String]) throws -> [Outcome] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lib/quickjs_eval.py")
        let input: Value = ["message": message, "expressions": .array(expressions.map { .string($0) })]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write from another thread so that a full stdout pipe cannot deadlock the two processes.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(JSON.serialize(input).utf8))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DriverFailure(message: String(decoding: errors, as: UTF8.self))
        }
        let results = try JSON.parse(bytes: Array(output))
        return (results.arrayValue ?? []).map { r in
            guard r["ok"] == true else { return .error(r["error"].stringValue ?? "?") }
            guard let json = r["json"].stringValue else { return .value(nil, json: nil) }
            return .value(try? JSON.parse(json), json: json)
        }
    }

    struct DriverFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { "the QuickJS driver failed: \(message)" }
    }

    /// Same value (ints and floats compare numerically, strings by code units), or both errors.
    static func agree(_ ours: Outcome, _ theirs: Outcome) -> Bool {
        switch (ours, theirs) {
        case (.error, .error): return true
        case (.value(let a, _), .value(let b?, _)): return a == exact(b)
        default: return false
        }
    }

    /// JavaScript's numbers are all floats: an integral one beyond 64 bits (`1e21 / 7` printed in full)
    /// parses as a `bigInt` and is compared as the float it is.
    static func exact(_ v: Value) -> Value {
        switch v {
        case .bigInt(let digits): return .double(Double(digits)!)
        case .array(let a): return .array(a.map(exact))
        case .object(let o): return .object(o.mapValues(exact))
        default: return v
        }
    }

    /// The id of the `JSDifferences` row that explains a mismatch, or nil: from the two results, or
    /// from the tags the generator put on an expression built with a construct that differs
    /// (comparing arrays, arrays inside text, `JSON.stringify` of floats).
    static func classify(_ expression: String, _ tags: Set<String>, _ ours: Outcome, _ theirs: Outcome) -> String? {
        let theirJSON: String? = if case .value(_, let json) = theirs { json } else { nil }
        let ourJSON: String? = if case .value(_, let json) = ours { json } else { nil }
        // QuickJS's JSON.stringify writes a lone surrogate as an escape; flowrun has U+FFFD there.
        if let theirJSON, theirJSON.range(of: #"\\ud[89a-f][0-9a-f]{2}"#, options: .regularExpression) != nil {
            return "lone-surrogate"
        }
        // A half pair that flowrun replaced with U+FFFD and JavaScript later joined to its other half.
        if let ourJSON, ourJSON.contains("\u{FFFD}"), !expression.contains("\u{FFFD}") { return "lone-surrogate" }
        if case .error(let message) = ours {
            if message.contains("integer overflow") { return "int-overflow" }
            if message.contains("not a finite number") || message.contains("division by zero") {
                return "errors-not-nan"
            }
        }
        if case .value(nil, nil) = theirs, ourJSON == "null" { return "null-not-undefined" }
        if tags.contains("ints-and-floats"), let ourJSON, let theirJSON,
            ourJSON.replacingOccurrences(of: #"(\d)\.0(?!\d)"#, with: "$1", options: .regularExpression) == theirJSON
        {
            return "ints-and-floats"
        }
        if tags.contains("lone-surrogate") { return "lone-surrogate" }
        if tags.contains("json-indent-argument") { return "json-indent-argument" }
        if tags.contains("deep-equality") { return "deep-equality" }
        if tags.contains("nested-text") { return "nested-text" }
        return nil
    }
}

/// SplitMix64: a tiny, fixed-seed random source (the same cases on every run and machine).
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Random well-typed expressions in the subset flowrun and JavaScript share, written so that both
/// parse them the same way (every compound operand parenthesised).
struct ExpressionGenerator {
    var rng: SplitMix64
    var lambdaDepth = 0
    /// The `JSDifferences` ids of the differing constructs used in the expression being generated.
    var tags: Set<String> = []

    init(seed: UInt64) { rng = SplitMix64(state: seed) }

    /// Pieces of string literals: escapes, non-ASCII, combining marks, astral characters, CRLF,
    /// JavaScript whitespace and not-whitespace, replacement-pattern characters.
    static let pieces = [
        "a", "b", "B", "x", "Ab", "hello", " ", "  ", ",", "-", "$", "$&", "$$", "$`", "$'", #"\'"#, #"\\"#, "\"",
        #"\n"#, #"\r\n"#, #"\t"#, #"\b"#, #"\f"#, #"\v"#, #"\x41"#, #"\x7e"#, #"\u00e9"#, "é", #"e\u0301"#,
        "😀", #"\uD83D\uDE00"#, #"\u{1F600}"#, #"\u{41}"#, "ΟΔΟΣ", "Σ", "straße", "İ", #"\ufeff"#, #"\u0085"#,
        #"\u00a0"#, #"\u2028"#, #"\u3000"#, #"\uff61"#, "ｱ", "日本", #"\q"#, "0", "1.5",
    ]

    mutating func literal() -> String {
        let n = rng.below(4)
        return "'" + (0..<n).map { _ in rng.pick(Self.pieces) }.joined() + "'"
    }

    static let floats = [
        "0.5", "0.1", "2.0", "1e-7", "1.5e-7", "1e-5", "0.000001", "1e16", "1e21", "1.5e300", "3.14159",
        "123456789012345680000.0", "5e-324", "1.7976931348623157e308", "(-2.5)", "(-0.0)", "100.25", "1e20",
    ]

    mutating func expression() -> (text: String, tags: Set<String>) {
        tags = []
        let text = top()
        return (text, tags)
    }

    mutating func top() -> String {
        switch rng.below(12) {
        case 0, 1, 2, 3: return string(3)
        case 4, 5: return number(3)
        case 6: return bool(3)
        case 7, 8: return array(3)
        case 9:
            tags.insert("ints-and-floats")
            return "JSON.stringify(\(value(2)))"
        case 10:
            tags.insert("ints-and-floats")
            if rng.chance(10) { tags.insert("json-indent-argument") }
            let replacer = tags.contains("json-indent-argument") ? "" : "null, "
            return
                "JSON.stringify(\(value(2)), \(replacer)\(rng.pick(["0", "1", "2", "4", "12", "'--'", "'\\t'", "''", "null"])))"
        default: return "{k: \(string(2)), n: \(number(2))}"
        }
    }

    mutating func value(_ d: Int) -> String {
        switch rng.below(5) {
        case 0: return string(d)
        case 1: return number(d)
        case 2: return array(d)
        case 3: return bool(d)
        default: return "{a: \(value(d - 1)), 'b c': [\(number(d - 1)), \(string(d - 1))]}"
        }
    }

    mutating func small() -> String { rng.pick(["0", "1", "2", "3", "5", "(-1)", "(-2)", "10"]) }

    mutating func string(_ d: Int) -> String {
        if d <= 0 { return rng.chance(80) ? literal() : rng.pick(["$.s", "$.t"]) }
        let s = string(d - 1)
        switch rng.below(22) {
        case 0: return literal()
        case 1: return "(\(s) + \(string(d - 1)))"
        case 2: return "(\(s) + \(number(d - 1)))"
        case 3: return "(\(number(d - 1)) + \(s))"
        case 4: return "(\(s) + \(bool(d - 1)))"
        case 5: return "\(s).slice(\(small()))"
        case 6: return "\(s).slice(\(small()), \(small()))"
        case 7: return "\(s).substring(\(rng.pick(["0", "1", "2", "4"])), \(rng.pick(["0", "1", "3", "9"])))"
        case 8: return "\(s).toLowerCase()"
        case 9: return "\(s).toUpperCase()"
        case 10: return "\(s).\(rng.pick(["trim", "trimStart", "trimEnd"]))()"
        case 11: return "\(s).replace(\(string(d - 1)), \(literal()))"
        case 12: return "\(s).replaceAll(\(literal()), \(literal()))"
        case 13: return "\(s).\(rng.pick(["padStart", "padEnd"]))(\(rng.pick(["0", "3", "6", "9"])), \(literal()))"
        case 14:
            let a = array(d - 1)
            if a.contains("=> [") { tags.insert("nested-text") }
            return "\(a).join(\(literal()))"
        case 15: return "(\(s)[\(rng.pick(["0", "1", "2", "5"]))] ?? '')"
        case 16: return "(\(bool(d - 1)) ? \(s) : \(string(d - 1)))"
        case 17: return "\(stringArray(d - 1)).join()"
        case 18: return "(\(number(d - 1)) + '')"
        case 19: return "\(s).split(\(literal())).join('|')"
        case 20:
            // Around every code unit in JavaScript, around every scalar in flowrun.
            if s.contains("😀") || s.contains("uD83D") || s.contains("1F600") || s.contains("$.") {
                tags.insert("lone-surrogate")
            }
            return "\(s).replaceAll('', \(literal()))"
        default: return "\(s).padEnd(\(rng.pick(["2", "5"])))"
        }
    }

    mutating func number(_ d: Int) -> String {
        if d <= 0 {
            switch rng.below(4) {
            case 0: return rng.pick(Self.floats)
            case 1: return rng.pick(["$.n", "$.f"])
            default: return String(rng.below(1000))
            }
        }
        let n = number(d - 1)
        switch rng.below(14) {
        case 0: return "(\(n) + \(number(d - 1)))"
        case 1: return "(\(n) - \(number(d - 1)))"
        case 2: return "(\(n) * \(number(d - 1)))"
        case 3: return "(\(n) / \(rng.below(9) + 1))"
        case 4: return "(\(n) % \(rng.below(9) + 1))"
        case 5: return "\(string(d - 1)).length"
        case 6: return "\(string(d - 1)).indexOf(\(string(d - 1)))"
        case 7: return "\(string(d - 1)).lastIndexOf(\(literal()))"
        case 8: return "\(array(d - 1)).length"
        case 9: return "\(stringArray(d - 1)).indexOf(\(string(d - 1)))"
        case 12:
            tags.insert("deep-equality")
            return "[\(array(d - 1))].indexOf(\(array(d - 1)))"
        case 10: return "(-\(n))"
        case 11: return rng.pick(Self.floats)
        default: return String(rng.below(100))
        }
    }

    mutating func bool(_ d: Int) -> String {
        if d <= 0 { return rng.pick(["true", "false"]) }
        switch rng.below(14) {
        case 0: return "(\(string(d - 1)) == \(string(d - 1)))"
        case 1: return "(\(string(d - 1)) != \(string(d - 1)))"
        case 2: return "(\(string(d - 1)) \(rng.pick(["<", "<=", ">", ">="])) \(string(d - 1)))"
        case 3: return "(\(number(d - 1)) \(rng.pick(["<", "<=", ">", ">=", "==", "!="])) \(number(d - 1)))"
        case 4: return "\(string(d - 1)).startsWith(\(string(d - 1)))"
        case 5: return "\(string(d - 1)).endsWith(\(literal()))"
        case 6: return "\(string(d - 1)).includes(\(string(d - 1)))"
        case 7: return "\(stringArray(d - 1)).includes(\(string(d - 1)))"
        case 8: return "(!\(bool(d - 1)))"
        case 9: return "(\(bool(d - 1)) \(rng.pick(["&&", "||"])) \(bool(d - 1)))"
        case 10:
            tags.insert("deep-equality")
            return "(\(array(d - 1)) \(rng.pick(["==", "!="])) \(array(d - 1)))"
        case 11:
            tags.insert("deep-equality")
            return "[\(array(d - 1))].includes(\(array(d - 1)))"
        case 12: return "\(stringArray(d - 1)).some(\(lambda { g, x in "\(x).length > \(g.rng.below(4))" }))"
        default: return rng.pick(["true", "false"])
        }
    }

    mutating func stringArray(_ d: Int) -> String {
        if d <= 0 { return rng.chance(70) ? "[\(literal()), \(literal())]" : "$.a" }
        switch rng.below(6) {
        case 0: return "\(string(d - 1)).split(\(literal()))"
        case 1: return "\(stringArray(d - 1)).slice(\(small()), \(small()))"
        case 2: return "\(stringArray(d - 1)).concat(\(stringArray(d - 1)))"
        case 3: return "\(stringArray(d - 1)).map(\(lambda { g, x in "\(x) + \(g.literal())" }))"
        case 4: return "\(stringArray(d - 1)).filter(\(lambda { g, x in "\(x).length > \(g.rng.below(3))" }))"
        default: return "[\(string(d - 1)), \(string(d - 1))]"
        }
    }

    mutating func array(_ d: Int) -> String {
        if rng.chance(60) { return stringArray(d) }
        if d <= 0 { return rng.chance(70) ? "[\(number(0)), \(number(0))]" : "$.nums" }
        switch rng.below(3) {
        case 0: return "\(array(d - 1)).map(\(lambda { g, x in "[\(x)]" }))"
        case 1: return "[\(number(d - 1)), \(bool(d - 1)), null]"
        default: return "\(stringArray(d - 1)).map(\(lambda { _, x in "\(x).length" }))"
        }
    }

    /// An arrow function with a parameter name of its own (nested arrows never shadow).
    mutating func lambda(_ body: (inout ExpressionGenerator, String) -> String) -> String {
        lambdaDepth += 1
        defer { lambdaDepth -= 1 }
        let x = "x\(lambdaDepth)"
        return "(\(x) => \(body(&self, x)))"
    }
}
