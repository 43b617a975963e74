import ArgumentParser
import Flowrun
import Foundation

struct Docs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Generate the reference pages in components/ from the declarations, or check they are current.",
        subcommands: [Generate.self, CheckDocs.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write components/*.md.")
        @Option(help: "Output directory.") var dir = "components"

        func run() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, text) in DocsRenderer.pages() {
                try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            }
            print("wrote \(DocsRenderer.pages().count) pages to \(dir)/")
        }
    }

    struct CheckDocs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Fail (exit 1) when components/*.md differ from the declarations.")
        @Option(help: "Directory of the committed pages.") var dir = "components"

        func run() throws {
            var stale: [String] = []
            for (name, text) in DocsRenderer.pages() {
                let current = try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8)
                if current != text { stale.append("\(dir)/\(name)") }
            }
            if stale.isEmpty {
                print("docs are up to date (\(DocsRenderer.pages().count) pages)")
                return
            }
            FileHandleOutput.stderr(
                "stale docs: \(stale.joined(separator: ", "))\nrun `flowrun docs generate` and commit the result")
            throw ExitCode(1)
        }
    }
}
