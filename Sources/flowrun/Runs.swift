import ArgumentParser
import Flowrun
import Foundation

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List recent runs from the state store, or show one run with its counters and errors.",
        subcommands: [List.self, Show.self, Retry.self], defaultSubcommand: List.self)

    struct Common: ParsableArguments {
        @Option(
            help: "State store path (default: FLOWRUN_STATE_URL, else .flowrun/state.db or flows/.flowrun/state.db).")
        var state: String?
        @Option(help: "text or json.") var format: String = "text"

        func open() throws -> any StateStore {
            var path = Running.statePath(explicit: state, flowFile: nil)
            if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") {
                do { return try Running.openStore(path) } catch { throw UsageError("\(error)") }
            }
            if state == nil, ProcessInfo.processInfo.environment["FLOWRUN_STATE_URL"] == nil,
                !FileManager.default.fileExists(atPath: path),
                FileManager.default.fileExists(atPath: "flows/.flowrun/state.db")
            {
                path = "flows/.flowrun/state.db"
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw UsageError("no state store at \(path) (use --state)")
            }
            do { return try SQLiteStore(path: path) } catch { throw UsageError("\(error)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Recent runs as a table.")
        @OptionGroup var common: Common
        @Option(help: "Only this flow's runs.") var flow: String?
        @Option(help: "How many runs.") var limit = 20

        func run() throws {
            let records = try common.open().runs(flow: flow, limit: limit)
            if common.format == "json" {
                print(JSON.pretty(.array(records.map(Running.json))))
                return
            }
            let header = ["RUN", "FLOW", "TRIGGER", "STATUS", "STARTED", "DURATION", "PROCESSED", "FAILED", "DRY"]
            let rows = records.map { r in
                [
                    r.id, r.flow, r.trigger.rawValue, r.status.rawValue, Time.rfc3339(nanos: r.startedAt),
                    Running.duration(r.durationNanos), String(r[.processed]), String(r[.failed]), r.dryRun ? "yes" : "",
                ]
            }
            Table.print(header: header, rows: rows)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "One run with its counters and errors.")
        @OptionGroup var common: Common
        @Argument(help: "Run id.") var id: String

        func run() throws {
            guard let r = try common.open().run(id: id) else { throw UsageError("no run \(id)") }
            if common.format == "json" {
                print(JSON.pretty(Running.json(r)))
                return
            }
            print(Running.summary(r))
            print("  trigger \(r.trigger.rawValue)  attempt \(r.attempt)  started \(Time.rfc3339(nanos: r.startedAt))")
            if r.total != nil || r.status == .running { print("  progress: \(RunProgress.count(r))") }
            for e in r.errors.dropFirst(5) {
                print("  error at \(e.node).\(e.port): \(e.location.map { "\($0): " } ?? "")\(e.message)")
            }
            for e in r.errors { print("    input: \(e.input)") }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry",
            abstract: "Start a new run with the trigger input of an earlier one (trigger: retry, linked both ways).",
            discussion: "Exit status as for `flowrun FILE --once`; 4 when another run holds the flow.")
        @OptionGroup var common: Common
        @Argument(help: "Run id.") var id: String
        @Option(help: "The flow file (default: the file the run came from).") var file: String?

        func run() throws {
            let store = try common.open()
            guard let old = try store.run(id: id) else { throw UsageError("no run \(id)") }
            guard let path = file ?? old.flowFile else { throw UsageError("\(id): unknown flow file (use --file)") }
            let flow = try FlowLoading.checked(path)
            guard flow.name == old.flow else {
                throw UsageError("\(path) holds flow '\(flow.name)', the run belongs to '\(old.flow)'")
            }
            var options = FlowRuntime.Options()
            options.logger = ConsoleLogger(format: .text)
            let runtime = try FlowLoading.runtime(flow, file: path, store: store, options: options)
            guard let start = runtime.start(replaying: old) else {
                throw UsageError("\(flow.name) has nothing to start")
            }
            let records: [RunRecord]
            do throws(RunLock.Busy) {
                records = try runtime.run(start, trigger: .retry, parent: old.id, dryRun: old.dryRun)
            } catch {
                FileHandleOutput.stderr("\(error.description); not started")
                throw ExitCode(Running.busyExitCode)
            }
            for r in records { print(Running.summary(r)) }
            let code = Running.exitCode(records.last?.status ?? .failed)
            if code != 0 { throw ExitCode(code) }
        }
    }
}
