import Flowrun
import FlowrunDatabase
import FlowrunTesting
import Foundation
import Testing

/// `flowrun run` with a PostgreSQL state store that stops in the middle of the run: the process keeps the
/// final record on disk and says so; the next run writes it, so the run is `failed` in the history, not
/// `running` and later `abandoned`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil, "needs PostgreSQL"))
struct RunRecordSpoolCLITests {
    @Test func aRecordTheStoreMissedIsWrittenByTheNextRun() throws {
        let cluster = try PrivateCluster()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-spool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("spooled.yaml").path
        try """
        flow: spooled
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          wait: {component: delay, settings: {duration: 3s}}
          each: {component: iterator}
          calc: {component: modify}
        edges:
          - {from: start.out, to: wait.in}
          - {from: wait.out, to: each.in, data: {array: [0, 0]}}
          - {from: each.item, to: calc.in, data: {v: <<1 / $.item>>}}
        """.write(toFile: file, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = [file, "--once", "--state", cluster.url]
        let err = Pipe()
        process.standardOutput = Pipe()
        process.standardError = err
        try process.run()
        // Stop the server once the run's start is recorded, while the run waits in `delay`.
        let store = try PostgresStore(url: cluster.url)
        let deadline = Date().addingTimeInterval(20)
        var first: RunRecord?
        while first == nil, Date() < deadline {
            first = try store.runs(flow: "spooled", limit: 1).first
            if first == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let started = try #require(first)
        #expect(started.status == .running)
        try cluster.stop()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let exitStatus1 = ChildProcess.exitStatus(process)
        #expect(exitStatus1 == 1, "\(stderr)")
        #expect(stderr.contains("could not save the run record (failed) after 4 attempt(s)"), "\(stderr)")
        #expect(FileSpool.beside(flowFile: file).pending().map(\.id) == [started.id])

        try cluster.start()
        let next = try CLITests.run([file, "--once", "--state", cluster.url])
        #expect(next.status == 1, "\(next.stdout)\(next.stderr)")
        let stored = try #require(try PostgresStore(url: cluster.url).run(id: started.id))
        #expect(stored.status == .failed)
        #expect(stored[.failed] == 2)
        #expect(stored.reason?.contains("division by zero") == true)
        #expect(FileSpool.beside(flowFile: file).pending().isEmpty)
    }
}
