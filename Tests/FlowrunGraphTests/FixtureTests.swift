import Flowrun
import Foundation
import Testing

/// Broken (and a few valid) flow files in `Fixtures/`, each with its fully rendered diagnostics in a
/// golden `.expected` file. `FLOWRUN_RECORD=1 swift test` re-records them.
@Suite struct FixtureTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static let fixtures = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted()
    static let recording = ProcessInfo.processInfo.environment["FLOWRUN_RECORD"] != nil

    static func render(_ name: String) throws -> String {
        let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
        let report = FlowChecker.check(path: name, bytes: bytes, registry: .standard)
        let body = report.diagnostics.map { $0.render() }.joined(separator: "\n\n")
        return body.isEmpty ? "ok\n" : body + "\n"
    }

    @Test func fixturesExist() { #expect(Self.fixtures.count >= 14) }

    @Test(arguments: fixtures)
    func fixture(_ name: String) throws {
        let actual = try Self.render(name)
        let expectedName = name.replacingOccurrences(of: ".yaml", with: ".expected")
        if Self.recording {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "Fixtures/\(expectedName)")
            try actual.write(to: source, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: Self.directory.appendingPathComponent(expectedName), encoding: .utf8)
        #expect(actual == expected, "\(name)")
    }

    /// Every diagnostic code appears in some golden file (flow fixtures or expression goldens).
    @Test func everyCodeIsCovered() throws {
        var text = ""
        for name in Self.fixtures { text += try Self.render(name) }
        for extra in [Self.invalidUTF8(), Self.deeplyNested(), Self.runtimeCodes()] { text += extra }
        for code in DiagnosticCode.all {
            #expect(text.contains("[\(code.rawValue)]"), "no test produces \(code.rawValue) (\(code.title))")
        }
    }

    static func invalidUTF8() -> String {
        let bytes: [UInt8] = Array("flow: x\nnodes: {}\n# ".utf8) + [0xC3, 0x28, 0x0A]
        return FlowChecker.check(path: "bad.yaml", bytes: bytes, registry: .standard).diagnostics.map { $0.render() }
            .joined()
    }

    static func deeplyNested() -> String {
        let text =
            "flow: deep\nvars:\n  x: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
            + "\n"
        return FlowChecker.check(path: "deep.yaml", text: text, registry: .standard).diagnostics.map { $0.render() }
            .joined()
    }

    /// E12x are runtime codes: produced by evaluating compiled edge data.
    static func runtimeCodes() -> String {
        var out = ""
        for expr in [
            "$.x + 1", "$.n / $.z", "$.big + $.big", "JSON.parse($.s)", "range(600).reduce((acc, x) => [acc], [])",
            "regex($.p)", "$.a.match(/(a+)+$/)",
        ] {
            let (t, _, _) = ExpressionCompiler.compileTemplate("<<\(expr)>>")
            let input: Value = [
                "x": nil, "n": 1, "z": 0, "big": .int(Int.max), "s": "{", "p": "(",
                "a": .string(String(repeating: "a", count: 40) + "!"),
            ]
            do { _ = try t?.evaluate(input, Globals()) } catch { out += error.diagnostic.render() }
        }
        return out
    }

    @Test func invalidUTF8IsADiagnostic() {
        #expect(Self.invalidUTF8().contains("bad.yaml:3:3: error[E201]: invalid UTF-8 at byte 20 (line 3, column 3)"))
    }

    @Test func deepNestingIsRejectedBeforeParsing() {
        #expect(Self.deeplyNested().contains("error[E203]"))
    }
}
