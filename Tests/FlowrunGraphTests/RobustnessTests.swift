import Flowrun
import Foundation
import Testing

/// Thousands of random and mutated flow files and expressions: each must end in a diagnostic or a
/// success, never a crash or a hang.
@Suite struct RobustnessTests {
    /// Deterministic so that a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments: [[UInt8]] =
        [
            "<<", ">>", ":", ": ", "{", "}", "[", "]", "'", "\"", "\t", "\n", "#", " #", "&a ", "*a", "$", "- ", ",",
            "\\<<",
            "<<:", "|", ">", "!!str ", "$.", "=>", "...", "?.", "99999999999999999999999", "1e999", "null", "\u{0}",
            "é", "🌍", "((((", "))))", "----", "%YAML 1.2\n",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82]]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes.insert(contentsOf: fragments.randomElement(using: &rng)!, at: at)
            case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...20, using: &rng)))
            case 2: bytes = Array(bytes.prefix(at))
            case 3:
                let end = min(bytes.count, at + Int.random(in: 1...60, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            case 4: if at < bytes.count { bytes[at] = UInt8.random(in: 0...255, using: &rng) }
            default:
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                if lines.count > 2 {
                    lines.swapAt(
                        Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
                }
                bytes = Array(lines.joined(separator: [0x0A]))
            }
        }
        return bytes
    }

    static func corpus() throws -> [[UInt8]] {
        var files: [[UInt8]] = []
        let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) where name.hasSuffix(".yaml") {
            files.append(Array(try Data(contentsOf: fixtures.appendingPathComponent(name))))
        }
        let flows = URL(fileURLWithPath: LoaderTests.repoFile("flows"))
        if let e = FileManager.default.enumerator(atPath: flows.path) {
            for case let p as String in e where p.hasSuffix(".yaml") {
                files.append(Array(try Data(contentsOf: flows.appendingPathComponent(p))))
            }
        }
        return files
    }

    @Test func mutatedFlowFilesNeverCrashOrHang() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count > 10)
        var rng = SplitMix(state: 42)
        var outcomes = (ok: 0, diagnosed: 0)
        var slowest = Duration.zero
        for i in 0..<3000 {
            let input =
                i % 10 == 0
                ? (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                : Self.mutate(corpus[i % corpus.count], &rng)
            let clock = ContinuousClock()
            let start = clock.now
            let report = FlowChecker.check(path: "fuzz-\(i).yaml", bytes: input, registry: .standard)
            let elapsed = clock.now - start
            slowest = max(slowest, elapsed)
            if elapsed > .seconds(1), let dir = ProcessInfo.processInfo.environment["FLOWRUN_FUZZ_DUMP"] {
                try Data(input).write(to: URL(fileURLWithPath: "\(dir)/slow-\(i).yaml"))
            }
            if report.hasErrors {
                outcomes.diagnosed += 1
                // Every error is renderable and says where it is.
                for d in report.diagnostics { #expect(d.render().contains("[\(d.code.rawValue)]")) }
            } else {
                outcomes.ok += 1
                #expect(report.flow != nil)
            }
        }
        #expect(outcomes.diagnosed > 1000)
        #expect(slowest < .seconds(2), "an input took \(slowest)")
    }

    @Test func mutatedExpressionsNeverCrashOrHang() {
        let seeds = [
            "$.items.map(item => ({id: item.id, tag: '#' + item.n}))", "ceil($.response.bodyJson.total / $.pageSize)",
            "{...$, page: $.page + 1}", "[...$.context.errors, {page: $.context.page}]", "$.a?.b ?? 'x' || y",
            "JSON.stringify({a: [1, 2.5, 'x']})", "$.xs.reduce((acc, x) => acc + x, 0)", "'a' + \"b\" + `c`",
            "round(3.14159, 2) >= 3 ? RFC3339(now()) : parseTime('2024-01-01T00:00:00Z')",
        ]
        var rng = SplitMix(state: 7)
        let input: Value = [
            "items": [["id": 1, "n": 2]], "response": ["bodyJson": ["total": 250]], "pageSize": 100,
            "page": 1, "context": ["errors": [], "page": 1], "xs": [1, 2, 3],
        ]
        var slowest = Duration.zero
        for i in 0..<5000 {
            let seed = Array(seeds[i % seeds.count].utf8)
            let text = "<<" + String(decoding: Self.mutate(seed, &rng), as: UTF8.self) + ">>"
            let clock = ContinuousClock()
            let start = clock.now
            let (template, _, diagnostics) = ExpressionCompiler.compileTemplate(text)
            if let template {
                _ = try? template.evaluate(input, Globals())
            } else {
                #expect(!diagnostics.isEmpty, "no template and no diagnostic for \(text)")
            }
            slowest = max(slowest, clock.now - start)
        }
        #expect(slowest < .seconds(1))
    }

    @Test func pathologicalExpressionsAreDiagnosed() {
        for text in [
            "<<" + String(repeating: "[", count: 10000) + ">>", "<<" + String(repeating: "-", count: 10000) + "1>>",
            "<<" + String(repeating: "!", count: 10000) + "1>>", "<<" + String(repeating: "a.", count: 5000) + "b>>",
            "<<" + String(repeating: "$.a", count: 3000) + ">>", "<<'" + String(repeating: "x", count: 100000) + "'>>",
        ] {
            let (_, _, diagnostics) = ExpressionCompiler.compileTemplate(text)
            #expect(diagnostics.contains { $0.severity == .error } || text.hasPrefix("<<'"))
        }
    }
}
