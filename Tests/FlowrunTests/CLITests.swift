import Flowrun
import Foundation
import FlowrunTesting
import Testing

/// Runs the real `flowrun` binary as a user would and checks output and exit codes.
@Suite struct CLITests {
    static let repo: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    static let binary: URL = {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("flowrun"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("flowrun"),
            repo.appendingPathComponent(".build/debug/flowrun"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], in directory: URL = repo, environment: [String: String]? = nil) throws
        -> Result
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        // Not `waitUntilExit()`: it waited forever once for a child Foundation had not seen exit.
        let status = ChildProcess.exitStatus(process)
        return Result(
            status: status, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build flowrun first: swift build")
    }

    @Test func checkPassesTheMainFlowAndEveryExample() throws {
        let examples = try FileManager.default.contentsOfDirectory(
            atPath: Self.repo.appendingPathComponent("flows/examples").path
        )
        .filter { $0.hasSuffix(".yaml") }.map { "flows/examples/\($0)" }
        #expect(examples.count >= 5)
        let r = try Self.run(["check", "flows/user-sync.yaml"] + examples)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("flows/user-sync.yaml: ok"))
    }

    @Test func checkReportsErrorsWithPositionsAndExitsOne() throws {
        let r = try Self.run(["check", "Tests/FlowrunGraphTests/Fixtures/edges.yaml"])
        #expect(r.status == 1)
        #expect(
            r.stdout.contains("Tests/FlowrunGraphTests/Fixtures/edges.yaml:12:9: error[E304]: no node named 'fetc'"))
        #expect(r.stdout.contains("did you mean 'fetch'?"))
    }

    @Test func warningsAloneExitZero() throws {
        let r = try Self.run(["check", "Tests/FlowrunGraphTests/Fixtures/warnings.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("warning[W402]"))
    }

    @Test func checkJSONIsMachineReadable() throws {
        let r = try Self.run(["check", "--format", "json", "Tests/FlowrunGraphTests/Fixtures/edges.yaml"])
        #expect(r.status == 1)
        let value = try JSON.parse(r.stdout)
        let first = try #require(value.arrayValue?.first { $0["severity"] == "error" })
        #expect(first["code"] == "E304")
        #expect(first["line"] == 12)
        #expect(first["column"] == 9)
        #expect(first["severity"] == "error")
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Self.run(["check", "no/such/file.yaml"]).status == 2)
        #expect(try Self.run(["check", "--format", "xml", "flows/user-sync.yaml"]).status == 2)
        #expect(try Self.run(["frobnicate"]).status == 2)
        #expect(try Self.run(["eval", "<<1>>", "--input", "{bad"]).status == 2)
        #expect(try Self.run(["components", "tickr"]).stderr.contains("did you mean 'ticker'?"))
    }

    @Test func evalPrintsResultsAndDiagnostics() throws {
        let ok = try Self.run([
            "eval", "<<ceil($.total / $.pageSize)>>", "--input", #"{"total": 250, "pageSize": 100}"#,
        ])
        #expect(ok.status == 0)
        #expect(ok.stdout == "3\n")
        let interpolated = try Self.run([
            "eval", "page <<$.page + 1>> of <<vars.pages>>", "--input", #"{"page": 1}"#, "--vars", #"{"pages": 3}"#,
        ])
        #expect(interpolated.stdout == "\"page 2 of 3\"\n")
        let bad = try Self.run(["eval", "<<$.a.b>>"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("<eval>:1:3: error[E120]: cannot read field 'b' of null"))
        let syntax = try Self.run(["eval", "<<lowr('A')>>"])
        #expect(syntax.status == 1)
        #expect(syntax.stderr.contains("did you mean 'lower'?"))
    }

    @Test func componentsListsAndDescribes() throws {
        let list = try Self.run(["components"])
        for c in ComponentRegistry.standard.components { #expect(list.stdout.contains(c.name)) }
        let one = try Self.run(["components", "http-client"])
        #expect(one.stdout.contains("retryCount: int = 3"))
        #expect(one.stdout.contains("in  request: object{method?:"))
        let json = try Self.run(["components", "postgres", "--format", "json"])
        #expect(try JSON.parse(json.stdout)["name"] == "database")
    }

    @Test func graphDrawsMermaidAndDot() throws {
        let mermaid = try Self.run(["graph", "flows/user-sync.yaml"])
        #expect(mermaid.status == 0)
        #expect(mermaid.stdout.hasPrefix("flowchart LR"))
        #expect(mermaid.stdout.contains("fetch_page -. \"error → in\" .-> collect_errors"))
        #expect(mermaid.stdout.contains("pages == \"next → request\" ==> fetch_page"))
        let dot = try Self.run(["graph", "--format", "dot", "flows/user-sync.yaml"])
        #expect(dot.stdout.contains("\"fetch-page\" -> \"collect-errors\" [label=\"error → in\", style=dashed"))
        #expect(try Self.run(["graph", "Tests/FlowrunGraphTests/Fixtures/edges.yaml"]).status == 1)
    }

    @Test func docsCheckDetectsStalePages() throws {
        #expect(try Self.run(["docs", "check"]).status == 0, "components/ is stale: run flowrun docs generate")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-docs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run(["docs", "generate", "--dir", dir.path]).status == 0)
        #expect(try Self.run(["docs", "check", "--dir", dir.path]).status == 0)
        try "stale".write(to: dir.appendingPathComponent("router.md"), atomically: true, encoding: .utf8)
        let stale = try Self.run(["docs", "check", "--dir", dir.path])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("router.md"))
    }
}
