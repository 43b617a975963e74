import ArgumentParser
import Flowrun

#if canImport(Glibc)
    import Glibc
#endif

/// Every command names itself (`commandName:`): a derived name is `String(describing: Self.self)`, whose casts
/// scan all protocol conformances of the binary for each command at every start (issue 19; StartupCostTests).
@main
struct FlowrunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowrun",
        abstract: "A flow-based dataflow runtime: load, check and run flow files.",
        version: "0.1.0",
        subcommands: [
            Run.self, Serve.self, Schedule.self, Check.self, Eval.self, Components.self, Graph.self, Docs.self,
            Runs.self, Flows.self, DLQ.self, State.self, Prune.self, Cluster.self, Test.self, Schema.self,
        ],
        defaultSubcommand: Run.self
    )

    /// Exit codes scripts can trust: 0 ok, 1 problems found, 2 usage errors.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            FileHandleOutput.stderr(fullMessage(for: error))
            Glibc.exit(code == .validationFailure || error is UsageError ? 2 : code.rawValue)
        }
    }
}

/// A mistake in how flowrun was called: exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum FileHandleOutput {
    static func stderr(_ text: String) {
        let line = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
        _ = line.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count) }
    }
}

/// Whether stdout is a terminal (for colour and layout choices).
let stdoutIsTerminal = isatty(1) != 0
