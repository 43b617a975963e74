import Flowrun
import Foundation
import Testing

/// Issue 13 items 3 and 4 at the level of a flow file: hostile nesting in YAML ends in a diagnostic,
/// and a file with thousands of problems is checked in linear time and prints a screenful.
@Suite struct NestingDiagnosticsTests {
    func check(_ text: String) -> FlowChecker.Report {
        FlowChecker.check(path: "t.yaml", text: text, registry: .standard)
    }

    /// A one-line template of 5,000 terms, each with two static errors (`$` in a setting and a string
    /// in arithmetic): 10,000 diagnostics, all on one 90 KB line.
    static let flood: String = {
        let terms = (0..<5000).map { "$.nope\($0) * 'x'" }.joined(separator: " + ")
        return """
            flow: flood
            nodes:
              tick: {component: ticker, settings: {interval: 1s}}
              log:
                component: log
                settings:
                  message: "<<\(terms)>>"
            edges:
              - {from: tick.out, to: log.in}
            """
    }()

    @Test func fiveThousandErroneousTermsRenderAHundredDiagnosticsAndACount() {
        let clock = ContinuousClock()
        var report: FlowChecker.Report?
        var text = ""
        let elapsed = clock.measure {
            report = check(Self.flood)
            text = Diagnostic.renderAll(report!.diagnostics)
        }
        #expect(report!.diagnostics.count == 10_000)
        #expect(text.components(separatedBy: "error[E").count - 1 == Diagnostic.renderLimit)
        #expect(text.hasSuffix("and 9900 more diagnostics\n"))
        // Each rendered line is a window of the 90 KB source line: the output stays small.
        #expect(text.utf8.count < 40_000, "\(text.utf8.count) bytes")
        #expect(text.split(separator: "\n").allSatisfy { $0.count < Diagnostic.lineWindow + 20 })
        // Debug build, shared machine: the quadratic version took minutes; linear takes well under 1 s.
        #expect(elapsed < .seconds(5), "\(elapsed)")
    }

    @Test func renderingIsLinearInTheNumberOfDiagnostics() {
        // Locating the 10,000th diagnostic on a long ASCII line costs no scan from the line start.
        let report = check(Self.flood)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            let json = FlowFiles.json(report.diagnostics)
            #expect(json.arrayValue?.count == 10_000)
        }
        #expect(elapsed < .seconds(5), "\(elapsed)")
        let last = report.diagnostics.last!.span!
        #expect(last.location.line == 7)
        var lineStarts = [0]
        for (i, b) in Self.flood.utf8.enumerated() where b == 0x0A { lineStarts.append(i + 1) }
        #expect(last.location.column == last.start - lineStarts[6] + 1)
    }

    @Test(arguments: ["a", "é"])
    func aLongLineIsShownAsAWindowAroundTheCaret(filler: String) {
        let prefix = "x: " + String(repeating: filler, count: 500)
        let source = SourceFile(
            path: "w.yaml", text: prefix + "<<nope>>" + String(repeating: "b", count: 500) + "\nnext: 1")
        let start = prefix.utf8.count + 2
        let d = Diagnostic.error(
            .unknownIdentifier, "unknown name 'nope'", at: Span(source: source, start: start, end: start + 4))
        let lines = d.render().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "w.yaml:1:506: error[E102]: unknown name 'nope'")
        let shown = lines[2], caret = lines[3]
        #expect(shown.hasPrefix("1 | ...") && shown.hasSuffix("..."))
        #expect(shown.count == "1 | ".count + 3 + Diagnostic.lineWindow + 3)
        let at = caret.firstIndex(of: "^")!
        let column = caret.distance(from: caret.startIndex, to: at)
        let under = shown[shown.index(shown.startIndex, offsetBy: column)...].prefix(4)
        #expect(under == "nope", "the caret points at the span: \(shown) / \(caret)")
        #expect(caret.filter { $0 == "^" }.count == 4)
    }

    @Test func aFlowFileNested100000DeepIsADiagnostic() {
        for text in [
            "flow: d\nnodes: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
            "flow: d\nnodes: " + String(repeating: "{a: ", count: 100_000) + "1"
                + String(repeating: "}", count: 100_000),
            "flow: d\nnodes:\n" + (0..<2000).map { String(repeating: " ", count: 2 * $0 + 2) + "a\($0):\n" }.joined(),
            "flow: d\nnodes:\n" + (0..<2000).map { String(repeating: " ", count: $0 + 2) + "- \n" }.joined(),
        ] {
            let report = SmallStack.run { check(text) }
            #expect(report.diagnostics.contains { $0.code == .nestingTooDeep }, "\(text.prefix(40))")
            #expect(report.diagnostics.count < 10)
        }
    }

    @Test func anAliasBombIsADiagnostic() {
        var lines = ["flow: bomb", "vars:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1..<10 {
            lines.append("  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]")
        }
        lines.append("nodes: {t: {component: ticker, settings: {interval: 1s}}}")
        let text = lines.joined(separator: "\n")
        let clock = ContinuousClock()
        var report: FlowChecker.Report?
        let elapsed = clock.measure { report = SmallStack.run { check(text) } }
        #expect(report!.diagnostics.contains { $0.code == .aliasBomb })
        #expect(elapsed < .seconds(5))
    }
}

/// The 512 KiB thread of the expression tests, for the loader (its recursion is bounded by the
/// 64-level limit, which is checked before libyaml or the decoder recurse).
enum SmallStack {
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = NestingResult<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = body()
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
        return box.result!
    }
}

final class NestingResult<T>: @unchecked Sendable {
    var result: T?
}
