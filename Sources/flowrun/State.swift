import ArgumentParser
import Flowrun
import Foundation

struct State: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Read and edit a flow's stored state: cursors and other keys of `state` nodes.",
        discussion: """
            `list FLOW` shows the keys and values (internal keys under dlq/, slot/, schedule/ and lock/ only with
            --all), `get FLOW KEY` prints one value as JSON, `set FLOW KEY VALUE` stores VALUE (JSON, or a bare
            string when it is not valid JSON), `delete FLOW KEY` removes it. Setting and deleting are recorded in
            the run history (trigger `state`). Exit status: 0 ok, 1 no such key (get, delete), 2 usage errors.
            """,
        subcommands: [List.self, Get.self, Put.self, Delete.self])

    static let internalPrefixes = StateEdit.internalPrefixes

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "A flow's keys and values.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Flow name.") var flow: String
        @Flag(help: "Also the internal keys (dlq/, slot/, schedule/, lock/).") var all = false

        func run() throws {
            let entries = try common.open().entries(flow: flow, prefix: "")
                .filter { e in all || !State.internalPrefixes.contains { e.key.hasPrefix($0) } }
                .sorted { $0.key < $1.key }
            if common.format == "json" {
                print(JSON.pretty(.array(entries.map { ["key": .string($0.key), "value": $0.value] })))
                return
            }
            if entries.isEmpty {
                print("no state for \(flow)\(all ? "" : " (--all shows internal keys)")")
                return
            }
            Table.print(
                header: ["KEY", "VALUE"],
                rows: entries.map { e in
                    let text = JSON.serialize(e.value)
                    return [e.key, text.count > 100 ? text.prefix(99) + "…" : text]
                })
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "One value, as JSON.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Flow name.") var flow: String
        @Argument(help: "Key.") var key: String

        func run() throws {
            guard let value = try common.open().get(flow: flow, key: key) else {
                FileHandleOutput.stderr("\(flow) has no state key \(key)")
                throw ExitCode(1)
            }
            print(JSON.serialize(value))
        }
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Store a value (JSON, or a bare string) and record the change in the run history.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Flow name.") var flow: String
        @Argument(help: "Key.") var key: String
        @Argument(help: "JSON value; text that is not valid JSON is stored as a string.") var value: String

        func run() throws {
            let new = (try? JSON.parse(value)) ?? .string(value)
            let store = try common.open()
            let old = try State.change(store, flow: flow, key: key, to: new)
            try State.record(
                store, flow: flow,
                reason: StateEdit.reason(key: key, old: old, new: new))
            print(JSON.serialize(new))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove a key and record the change in the run history.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Flow name.") var flow: String
        @Argument(help: "Key.") var key: String

        func run() throws {
            let store = try common.open()
            guard let old = try State.change(store, flow: flow, key: key, to: nil) else {
                FileHandleOutput.stderr("\(flow) has no state key \(key)")
                throw ExitCode(1)
            }
            try State.record(store, flow: flow, reason: StateEdit.reason(key: key, old: old, new: nil))
            print("deleted \(key) of \(flow)")
        }
    }

    static func change(_ store: any StateStore, flow: String, key: String, to new: Value?) throws -> Value? {
        try StateEdit.change(store, flow: flow, key: key, to: new)
    }

    /// A completed run record of trigger `state`, so a hand edit shows up in `flowrun runs`.
    static func record(_ store: any StateStore, flow: String, reason: String) throws {
        try StateEdit.record(store, flow: flow, reason: reason, now: Globals.systemClock())
    }
}
