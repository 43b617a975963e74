import Foundation
import ArgumentParser
import Flowrun

struct Components: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "components",
        abstract: "List the components, or show one component's settings and ports with their schemas.")

    enum Format: String, ExpressibleByArgument { case text, markdown, json }

    @Argument(help: "A component name (or alias).") var name: String?
    @Option(help: "text, markdown or json.") var format: Format = .text

    func run() throws {
        let registry = ComponentRegistry.standard
        guard let name else {
            switch format {
            case .json: print(JSON.pretty(.array(registry.components.map { summary($0) })))
            default:
                let width = registry.components.map { $0.name.count }.max() ?? 0
                for c in registry.components {
                    print(c.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + c.summary)
                }
            }
            return
        }
        guard let c = registry[name] else {
            let hint = didYouMean(name, registry.names).map { " (\($0))" } ?? ""
            throw UsageError("unknown component '\(name)'\(hint); `flowrun components` lists them")
        }
        switch format {
        case .markdown: print(DocsRenderer.component(c))
        case .json: print(JSON.pretty(detail(c)))
        case .text:
            print(
                "\(c.name)\(c.aliases.isEmpty ? "" : " (alias: \(c.aliases.joined(separator: ", ")))")\n\n\(c.summary)\n\n\(c.doc)\n"
            )
            print("Settings:")
            if c.settings.isEmpty { print("  (none)") }
            for s in c.settings {
                let def = s.defaultValue.map { " = \(JSON.serialize($0))" } ?? ""
                print("  \(s.name): \(s.shape)\(s.required ? " (required)" : "")\(def)")
                print("      \(s.doc)" + (s.example.map { "  e.g. \($0)" } ?? ""))
            }
            print("\nPorts:")
            for p in c.ports(for: .init([:])) {
                print("  \(p.direction == .input ? "in " : "out") \(p.name): \(p.schema)")
                print("      \(p.doc)")
            }
            print("\nExample:\n" + c.example.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    func summary(_ c: ComponentDescriptor) -> Value {
        ["name": .string(c.name), "aliases": .array(c.aliases.map { .string($0) }), "summary": .string(c.summary)]
    }

    func detail(_ c: ComponentDescriptor) -> Value {
        var o = summary(c).objectValue!
        o["doc"] = .string(c.doc)
        o["settings"] = .array(
            c.settings.map { s in
                [
                    "name": .string(s.name), "type": .string(s.shape.description), "required": .bool(s.required),
                    "default": s.defaultValue ?? .null, "doc": .string(s.doc),
                    "example": s.example.map { .string($0) } ?? .null,
                ]
            })
        o["ports"] = .array(
            c.ports(for: .init([:])).map { p in
                [
                    "name": .string(p.name), "direction": .string(p.direction.rawValue),
                    "schema": .string(p.schema.description),
                    "doc": .string(p.doc),
                ]
            })
        return .object(o)
    }
}
