import ArgumentParser
import Flowrun

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of flow files (for editors), generated from the component declarations.",
        discussion: """
            The same schema is committed as components/flow.schema.json (`flowrun docs generate`). Put
            `# yaml-language-server: $schema=../components/flow.schema.json` (relative to the flow) at the top
            of a flow file and the YAML language server validates and completes it.
            """)

    func run() throws { print(DocsRenderer.schema(), terminator: "") }
}
