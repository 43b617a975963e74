import ArgumentParser
import Flowrun
import Foundation

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List recent runs from the state store, or show one run with its counters and errors.",
        subcommands: [List.self, Show.self], defaultSubcommand: List.self)

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
        static let configuration = CommandConfiguration(abstract: "Recent runs as a table.")
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
        static let configuration = CommandConfiguration(abstract: "One run with its counters and errors.")
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
            for e in r.errors.dropFirst(5) {
                print("  error at \(e.node).\(e.port): \(e.location.map { "\($0): " } ?? "")\(e.message)")
            }
            for e in r.errors { print("    input: \(e.input)") }
        }
    }
}
