import ArgumentParser
import Flowrun
import Foundation

struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the test files of flows (`x.test.yaml` beside `x.yaml`) offline.",
        discussion: """
            Each case runs its flow with canned HTTP responses, a fresh SQLite database, a fixed clock and the
            given vars, secrets, env and input, then checks the run record, SQL rows, port messages, state keys
            and dead letters. Without files, runs flows/**/*.test.yaml. Exit status: 0 all passed, 1 a case
            failed, 2 a test file (or its flow) is bad.
            """)

    @Argument(help: "Test files (default: flows/**/*.test.yaml).") var files: [String] = []
    @Option(help: "Output format: text or junit.") var format = "text"
    @Option(help: "Write the report to this file instead of standard output.") var output: String?

    func run() throws {
        guard ["text", "junit"].contains(format) else { throw UsageError("--format is text or junit") }
        let paths = files.isEmpty ? FlowTestFile.discover(in: "flows") : files
        if paths.isEmpty { throw UsageError("no test files: flows/**/*.test.yaml found nothing") }
        let results = paths.map(FlowTestReport.run)
        let report = format == "junit" ? FlowTestReport.junit(results) : FlowTestReport.text(results)
        if let output {
            try report.write(toFile: output, atomically: true, encoding: .utf8)
            if format == "junit" { print(FlowTestReport.text(results), terminator: "") }
        } else {
            print(report, terminator: "")
        }
        let code = FlowTestReport.exitCode(results)
        if code != 0 { throw ExitCode(code) }
    }
}
