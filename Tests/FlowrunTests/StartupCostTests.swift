import Foundation
import Testing

/// Issue 19: `flowrun check` under 30 ms. A command without an explicit `commandName` makes
/// swift-argument-parser derive it with `String(describing: Self.self)` for every command in the tree at
/// every start, and each of those casts scans all ~6,700 protocol conformance records of the static binary
/// (34 of the 130 million instructions of `flowrun check flows/user-sync.yaml`; bench/README.md).
@Suite struct StartupCostTests {
    /// Every `ParsableCommand` in Sources/flowrun names itself in its configuration.
    @Test func everyCommandNamesItself() throws {
        let directory = CLITests.repo.appendingPathComponent("Sources/flowrun")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.hasSuffix(".swift")
        }
        var commands = 0
        var unnamed: [String] = []
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() where line.contains(": ParsableCommand {") {
                commands += 1
                let configuration = lines[(i + 1)...].prefix(3).joined(separator: " ")
                let name = line.split(separator: "struct ").last?.split(separator: ":").first ?? "?"
                if !configuration.contains("CommandConfiguration(") || !configuration.contains("commandName: \"") {
                    unnamed.append("\(file): \(name)")
                }
            }
        }
        #expect(commands >= 30, "found only \(commands) commands")
        #expect(unnamed.isEmpty, "commands without commandName: \(unnamed)")
    }

    /// The names are the ones the type names gave before, so no command line changed.
    @Test(arguments: [
        (
            [String](),
            [
                "run", "serve", "schedule", "check", "eval", "components", "graph", "docs", "runs", "flows",
                "dlq", "state", "prune", "cluster", "test", "schema",
            ]
        ),
        (["runs"], ["list", "show", "retry"]),
        (["dlq"], ["list", "replay", "resolve", "skip"]),
        (["state"], ["list", "get", "set", "delete"]),
        (["flows"], ["disable", "enable"]),
        (["docs"], ["generate", "check"]),
    ])
    func helpListsTheSameSubcommands(path: [String], names: [String]) throws {
        let r = try CLITests.run(["help"] + path)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let listed = r.stdout.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), let first = line.split(separator: " ").first else { return nil }
            return String(first)
        }
        for name in names {
            #expect(listed.contains(name), "`flowrun help \(path.joined(separator: " "))` lacks \(name):\n\(r.stdout)")
        }
    }
}
