import Foundation
import FlowrunExpression
import FlowrunValue
import Testing

/// Golden files in `Golden/`: each case is an expression (template syntax), an optional JSON input,
/// and the expected JSON result or fully rendered diagnostic. `FLOWRUN_RECORD=1 swift test` re-records.
///
///     expr: $.page + 1
///     input: {"page": 2}
///     ---
///     3
///     ===
@Suite struct GoldenTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Golden")
    static let files =
        (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix(".golden") }
        .sorted() ?? []

    struct Case {
        var expr: String
        var input: String?
        var expected: String
    }

    static func parse(_ text: String) -> [Case] {
        text.components(separatedBy: "\n===\n").compactMap { block in
            let halves = block.components(separatedBy: "\n---\n")
            guard halves.count == 2 else { return nil }
            var expr = "", input: String?
            var inExpr = false
            for line in halves[0].split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("expr: ") {
                    expr = String(line.dropFirst(6)); inExpr = true
                } else if line.hasPrefix("input: ") {
                    input = String(line.dropFirst(7)); inExpr = false
                } else if line.hasPrefix("#") || line.isEmpty && !inExpr {
                    continue
                } else if inExpr {
                    expr += "\n" + line
                }
            }
            return Case(expr: expr, input: input, expected: halves[1].trimmingCharacters(in: .newlines))
        }
    }

    @Test func goldenFilesExist() { #expect(Self.files.count >= 4) }

    @Test(arguments: files)
    func golden(file: String) throws {
        let url = Self.directory.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        let cases = Self.parse(text)
        #expect(!cases.isEmpty)
        var recorded: [String] = []
        for c in cases {
            let input = try c.input.map { try JSON.parse($0) } ?? [:]
            let actual = evaluate(c.expr, input: input)
            if ProcessInfo.processInfo.environment["FLOWRUN_RECORD"] == nil {
                #expect(actual == c.expected, "\(file): \(c.expr)")
            }
            recorded.append("expr: \(c.expr)\n" + (c.input.map { "input: \($0)\n" } ?? "") + "---\n\(actual)")
        }
        if ProcessInfo.processInfo.environment["FLOWRUN_RECORD"] != nil {
            // Record into the source tree, not the copied bundle.
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "Golden/\(file)")
            try (recorded.joined(separator: "\n===\n") + "\n").write(to: source, atomically: true, encoding: .utf8)
        }
    }
}
