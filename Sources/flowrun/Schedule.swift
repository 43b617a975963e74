import ArgumentParser
import Flowrun
import FlowrunService
import Foundation

struct Schedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "List the next run times of flows' schedules (as `flowrun serve` remembers them).")

    @Argument(help: "Flow files or directories of them.") var paths: [String]
    @Option(help: "State store (default: FLOWRUN_STATE_URL, else .flowrun/state.db beside the first flow).") var state:
        String?
    @Option(help: "text or json.") var format = "text"

    func run() throws {
        let files = Service.expand(paths)
        guard !files.isEmpty else { throw UsageError("no flow files in \(paths.joined(separator: " "))") }
        let path = Running.statePath(explicit: state, flowFile: files[0])
        let store: (any StateStore)? =
            FileManager.default.fileExists(atPath: path) || path.hasPrefix("postgres")
            ? try? Running.openStore(path) : nil
        let now = Globals.systemClock()
        var rows: [[String]] = []
        var items: [Value] = []
        for file in files {
            let report: FlowChecker.Report
            do throws(FlowFiles.ReadError) { report = try FlowFiles.check(file) } catch {
                throw UsageError(error.description)
            }
            guard let flow = report.flow else {
                FileHandleOutput.stderr("\(file): does not pass check\n")
                continue
            }
            let catchUp = flow.policy.catchUp
            for node in flow.nodes where node.descriptor.name == "ticker" {
                guard let schedule = TickerSchedule(node) else { continue }
                let remembered = (try? store?.get(flow: flow.name, key: "schedule/\(node.name)"))??.intValue
                let next = SchedulePlanner.resume(schedule, remembered: remembered, now: now, catchUp: catchUp)
                let every: String
                switch schedule.kind {
                case .interval(let n): every = "every \(Durations.format(n))"
                case .cron(_, let zone):
                    every = "cron '\(node.settings["cron"]?.constantValue?.stringValue ?? "?")' \(zone.identifier)"
                }
                let when = next.map { Time.rfc3339(nanos: $0) } ?? "-"
                rows.append([flow.name, node.name, every, when, remembered == nil ? "" : "remembered"])
                items.append([
                    "flow": .string(flow.name), "node": .string(node.name), "schedule": .string(every),
                    "next": next.map { .string(Time.rfc3339(nanos: $0)) } ?? .null,
                    "remembered": .bool(remembered != nil),
                ])
            }
        }
        if format == "json" {
            print(JSON.pretty(.array(items)))
        } else {
            Table.print(header: ["FLOW", "NODE", "SCHEDULE", "NEXT RUN", ""], rows: rows)
        }
    }
}
