import ArgumentParser
import Flowrun
import Foundation

struct DLQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract:
            "The dead-letter queue: list unresolved items, replay one through its flow, resolve a conflict, or skip one.",
        subcommands: [List.self, Replay.self, Resolve.self, Skip.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Unresolved items, open and parked (with --all, closed ones too).")
        @OptionGroup var common: Runs.Common
        @Option(help: "Only this flow's items.") var flow: String?
        @Flag(help: "Also closed items: replayed, resolved and skipped.") var all = false

        func run() throws {
            let items = try DeadLetterQueue(store: common.open()).list(flow: flow, all: all)
            if common.format == "json" {
                print(JSON.pretty(.array(items.map(DLQ.json))))
                return
            }
            if items.isEmpty {
                print(all ? "the dead-letter queue is empty" : "no unresolved items (--all shows closed ones)")
                return
            }
            let header = ["ID", "FLOW", "KEY", "ATTEMPTS", "STATUS", "LAST RUN", "ERROR"]
            let rows = items.map { i in
                [
                    i.id, i.flow, String(i.key.prefix(40)), String(i.attempts),
                    i.status.rawValue + (i.isConflict ? " (conflict)" : ""), i.lastRun,
                    String((i.error["message"].stringValue ?? JSON.serialize(i.error)).prefix(80)),
                ]
            }
            Table.print(header: header, rows: rows)
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract:
                "Re-inject a dead-letter item (or all of a flow's) into its flow as a new linked run (trigger: replay).",
            discussion: """
                The payload is delivered to the dead-letter node's `entry` (node.port). When the run completes
                without failures the item is closed as `replayed`; otherwise it stays unresolved (and counts one
                more failing run). With `--flow FLOW` and no id, every unresolved item (open and parked) of the
                flow is replayed, oldest first, one run each, followed by a summary. Exit status as for
                `flowrun FILE --once` (the worst of the runs); 4 when another run holds the flow.
                """)
        @OptionGroup var common: Runs.Common
        @Argument(help: "Item id (from `flowrun dlq list`); omit it with --flow.") var id: String?
        @Option(help: "Replay every unresolved item of this flow.") var flow: String?
        @Option(help: "The flow file (default: the file that parked the item).") var file: String?
        @Flag(help: "Reads happen, writes do not.") var dryRun = false

        func validate() throws {
            if (id == nil) == (flow == nil) { throw ValidationError("give an item id or --flow FLOW (not both)") }
        }

        func run() throws {
            let store = try common.open()
            let queue = DeadLetterQueue(store: store)
            if let id {
                guard let item = try queue.item(id: id) else { throw UsageError("no dead-letter item \(id)") }
                let outcome = try replay(item, store: store)
                if outcome.code != 0 { throw ExitCode(outcome.code) }
                return
            }
            let flow = flow ?? ""
            let items = try queue.list(flow: flow).reversed()
            guard !items.isEmpty else {
                print("\(flow): no unresolved dead-letter items")
                return
            }
            var worst: Int32 = 0
            var replayed: [String] = []
            var failing: [String] = []
            for item in items {
                let outcome = try replay(item, store: store)
                if outcome.code == Running.busyExitCode { throw ExitCode(outcome.code) }
                worst = max(worst, outcome.code == 3 && worst == 1 ? 1 : outcome.code)
                if outcome.replayed { replayed.append(item.id) } else { failing.append(item.id) }
            }
            print(
                "\(flow): replayed \(items.count) item\(items.count == 1 ? "" : "s"): \(replayed.count) \(dryRun ? "passed (dry run)" : "closed as replayed"), \(failing.count) still unresolved"
                    + (failing.isEmpty ? "" : " (\(failing.joined(separator: ", ")))"))
            if worst != 0 { throw ExitCode(worst) }
        }

        func replay(_ item: DeadLetterQueue.Item, store: any StateStore) throws -> (code: Int32, replayed: Bool) {
            try DLQ.replay(item, payload: item.payload, store: store, file: file, dryRun: dryRun, closeAs: .replayed)
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract: "Settle a conflict item (changed on both sides of a bidirectional sync) with the chosen side.",
            discussion: """
                The item's payload, with `take` set to `local` or `remote`, is replayed at once into the
                dead-letter node's `entry` as a new linked run (trigger: replay); the flow applies the chosen
                version to the other side. When that run completes the item is closed as `resolved`; otherwise
                it stays unresolved. Only items listed as `(conflict)` can be resolved; exit status as for
                `flowrun dlq replay`.
                """)
        @OptionGroup var common: Runs.Common
        @Argument(help: "Conflict item id (from `flowrun dlq list`).") var id: String
        @Option(help: "The side that wins: local or remote.") var take: DeadLetterQueue.Take
        @Option(help: "The flow file (default: the file that parked the item).") var file: String?
        @Flag(help: "Reads happen, writes do not.") var dryRun = false

        func run() throws {
            let store = try common.open()
            guard let item = try DeadLetterQueue(store: store).item(id: id) else {
                throw UsageError("no dead-letter item \(id)")
            }
            let payload: Value
            do { payload = try DeadLetterQueue.resolution(of: item, take: take) } catch {
                throw UsageError(error.description)
            }
            let outcome = try DLQ.replay(
                item, payload: payload, store: store, file: file, dryRun: dryRun, closeAs: .resolved)
            if outcome.code != 0 { throw ExitCode(outcome.code) }
        }
    }

    /// Replays one item (with this payload) as a linked run; returns its exit status and whether it
    /// passed (then the item is closed as `closeAs`, unless it is a dry run).
    static func replay(
        _ item: DeadLetterQueue.Item, payload: Value, store: any StateStore, file: String?, dryRun: Bool,
        closeAs: DeadLetterQueue.Status
    ) throws -> (code: Int32, replayed: Bool) {
        let queue = DeadLetterQueue(store: store)
        let id = item.id
        guard let path = file ?? item.flowFile else { throw UsageError("\(id): unknown flow file (use --file)") }
        guard let entry = item.entry else {
            throw UsageError("\(id): the dead-letter node has no `entry` setting to replay into")
        }
        let flow = try FlowLoading.checked(path)
        guard flow.name == item.flow else {
            throw UsageError("\(path) holds flow '\(flow.name)', the item belongs to '\(item.flow)'")
        }
        var options = FlowRuntime.Options()
        options.dryRun = dryRun
        options.logger = ConsoleLogger(format: .text)
        let runtime = try FlowLoading.runtime(flow, file: path, store: store, options: options)
        let records: [RunRecord]
        do throws(RunLock.Busy) {
            records = try runtime.run(.input(payload, entry: entry), trigger: .replay, parent: item.lastRun)
        } catch {
            FileHandleOutput.stderr("\(error.description); not replayed")
            return (Running.busyExitCode, false)
        }
        for r in records { print(Running.summary(r)) }
        let last = records.last!
        var passed = false
        if last.status == .completed {
            passed = true
            if !dryRun {
                // A replay that failed again was recorded by the dead-letter node (still unresolved).
                if try queue.closeReplayed(item, now: Globals.systemClock(), as: closeAs) {
                    print("\(id): \(closeAs.rawValue)")
                } else {
                    passed = false
                }
            }
        }
        return (Running.exitCode(last.status), passed)
    }

    struct Skip: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "skip", abstract: "Close an item without replaying it.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Item id.") var id: String

        func run() throws {
            let queue = DeadLetterQueue(store: try common.open())
            guard let item = try queue.item(id: id) else { throw UsageError("no dead-letter item \(id)") }
            try queue.setStatus(item, .skipped, now: Globals.systemClock())
            print("\(id): skipped")
        }
    }

    static func json(_ i: DeadLetterQueue.Item) -> Value {
        [
            "id": .string(i.id), "flow": .string(i.flow), "key": .string(i.key), "attempts": .int(i.attempts),
            "status": .string(i.status.rawValue), "entry": i.entry.map { .string($0) } ?? .null,
            "firstRun": .string(i.firstRun), "lastRun": .string(i.lastRun),
            "updatedAt": .string(Time.rfc3339(nanos: i.updatedAt)), "error": i.error, "payload": i.payload,
            "conflict": .bool(i.isConflict),
        ]
    }
}

/// Plain aligned columns for list commands.
enum Table {
    static func print(header: [String], rows: [[String]]) {
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        for row in [header] + rows {
            Swift.print(
                row.indices.map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

extension DeadLetterQueue.Take: ExpressibleByArgument {}
