import ArgumentParser
import Flowrun

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a flow as Mermaid or Graphviz DOT (error edges dashed, loops bold).")

    enum Format: String, ExpressibleByArgument { case mermaid, dot }

    @Argument(help: "A flow file.") var file: String
    @Option(help: "mermaid or dot.") var format: Format = .mermaid

    func run() throws {
        let report: FlowChecker.Report
        do throws(FlowFiles.ReadError) { report = try FlowFiles.check(file) } catch {
            throw UsageError(error.description)
        }
        guard let flow = report.flow else {
            let errors = report.diagnostics.filter { $0.severity == .error }
            FileHandleOutput.stderr(Diagnostic.renderAll(errors, separator: "\n\n"))
            throw ExitCode(1)
        }
        print(format == .dot ? GraphRenderer.dot(flow) : GraphRenderer.mermaid(flow), terminator: "")
    }
}
