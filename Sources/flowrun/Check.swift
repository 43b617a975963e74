import ArgumentParser
import Flowrun
import FlowrunValue

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check flow files without running them: file:line:col diagnostics, no I/O.",
        discussion: "Exit status: 0 when no file has errors (warnings allowed), 1 when any has, 2 on usage errors.")

    enum Format: String, ExpressibleByArgument { case text, json }

    @Argument(help: "Flow files to check.") var files: [String]
    @Option(help: "Output format: text or json.") var format: Format = .text
    @Flag(help: "Also print the message shape the checker inferred for every port.") var shapes = false

    func run() throws {
        var anyErrors = false
        var all: [FlowrunValue.Value] = []
        for file in files {
            let report: (diagnostics: [Diagnostic], flow: CheckedFlow?)
            if FlowTestFile.isTestFile(file) {
                // A test file beside a flow (`flowrun test`): checked as one, so `check flows/*.yaml` covers both.
                report = (FlowTestFile.problems(file), nil)
            } else {
                do throws(FlowFiles.ReadError) {
                    let checked = try FlowFiles.check(file)
                    report = (checked.diagnostics, checked.flow)
                } catch {
                    throw UsageError(error.description)
                }
            }
            anyErrors = anyErrors || report.diagnostics.contains { $0.severity == .error }
            switch format {
            case .json:
                if case .array(let items) = FlowFiles.json(report.diagnostics) { all += items }
            case .text:
                print(Diagnostic.renderAll(report.diagnostics, separator: "\n\n"), terminator: "")
                if shapes, let flow = report.flow {
                    for node in flow.nodes {
                        print("\(node.name) (\(node.descriptor.name))")
                        for (port, shape) in node.inputShapes.sorted(by: { $0.key < $1.key }) {
                            print("  in  \(port): \(shape)")
                        }
                        for (port, shape) in node.outputShapes.sorted(by: { $0.key < $1.key }) where port != "error" {
                            print("  out \(port): \(shape)")
                        }
                    }
                    print("")
                }
                let errors = report.diagnostics.filter { $0.severity == .error }.count
                let warnings = report.diagnostics.count - errors
                if errors == 0 {
                    print("\(file): ok" + (warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : ""))
                } else {
                    print(
                        "\(file): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
                    )
                }
            }
        }
        if format == .json { print(JSON.pretty(.array(all))) }
        if anyErrors { throw ExitCode(1) }
    }
}
