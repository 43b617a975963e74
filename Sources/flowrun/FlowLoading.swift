import ArgumentParser
import Flowrun

/// Loading a flow file for the commands that run one (`run`, `dlq replay`).
enum FlowLoading {
    /// The checked flow; its diagnostics go to standard error. A file that cannot be read is a usage
    /// error; one that does not pass `check` ends the command with exit status 2.
    static func checked(_ path: String) throws -> CheckedFlow {
        let report: FlowChecker.Report
        do throws(FlowFiles.ReadError) { report = try FlowFiles.check(path) } catch {
            throw UsageError(error.description)
        }
        if !report.diagnostics.isEmpty {
            FileHandleOutput.stderr(Diagnostic.renderAll(report.diagnostics, separator: "\n\n"))
        }
        guard let flow = report.flow else { throw ExitCode(2) }
        return flow
    }

    /// A runtime for the flow; exit status 1, with the reason on standard error, when it cannot be made.
    /// The runtime of a CLI run (`flowrun FILE`, `runs retry`, `dlq replay`): final records the store
    /// cannot take are kept on disk beside the flow file (`FileSpool`), since the process ends with the run.
    static func runtime(
        _ flow: CheckedFlow, file: String, store: any StateStore, options: FlowRuntime.Options
    ) throws -> FlowRuntime {
        var options = options
        if options.recordSpool == nil { options.recordSpool = FileSpool.beside(flowFile: file) }
        do throws(NodeError) {
            return try FlowRuntime(flow: flow, factories: .standard, store: store, options: options)
        } catch {
            FileHandleOutput.stderr("\(file): \(error.description)")
            throw ExitCode(1)
        }
    }
}
