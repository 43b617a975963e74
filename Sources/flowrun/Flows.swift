import ArgumentParser
import Flowrun
import FlowrunService

struct Flows: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Disable or enable a flow in the state store (every `serve` replica sharing it obeys).",
        subcommands: [Disable.self, Enable.self])

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disable",
            abstract: "Stop a flow's schedule from firing and refuse its manual runs until it is enabled.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Flow name.") var name: String

        func run() throws { try Flows.set(true, name, common) }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enable", abstract: "Let a disabled flow run again.")
        @OptionGroup var common: Runs.Common
        @Argument(help: "Flow name.") var name: String

        func run() throws { try Flows.set(false, name, common) }
    }

    static func set(_ disabled: Bool, _ name: String, _ common: Runs.Common) throws {
        let store = try common.open()
        do { try FlowService.setDisabled(disabled, flow: name, store: store) } catch {
            FileHandleOutput.stderr("\(error)")
            throw ExitCode(1)
        }
        if common.format == "json" {
            print(JSON.serialize(["name": .string(name), "disabled": .bool(disabled)]))
        } else {
            print("\(name): \(disabled ? "disabled" : "enabled")")
        }
    }
}
