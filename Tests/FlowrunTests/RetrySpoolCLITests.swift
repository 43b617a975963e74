import Flowrun
import FlowrunDatabase
import FlowrunTesting
import Foundation
import Testing

/// Issue 14 item 7: a run started by `flowrun runs retry` whose final record the store could not take was
/// kept only in memory, and lost with the process. It is kept on disk like a `flowrun FILE` run's, and the
/// next run of the flow writes it.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil, "needs PostgreSQL"))
struct RetrySpoolCLITests {
    @Test func aRetrysRecordTheStoreMissedIsKeptOnDisk() throws {
        let cluster = try PrivateCluster()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-rspool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("retried.yaml").path
        try """
        flow: retried
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          wait: {component: delay, settings: {duration: 2s}}
          calc: {component: modify}
        edges:
          - {from: start.out, to: wait.in}
          - {from: wait.out, to: calc.in, data: {v: <<1 / 0>>}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let first = try CLITests.run([file, "--once", "--state", cluster.url])
        #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
        let store = try PostgresStore(url: cluster.url)
        let failed = try #require(try store.runs(flow: "retried", limit: 1).first)

        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = ["runs", "retry", failed.id, "--state", cluster.url]
        let err = Pipe()
        process.standardOutput = Pipe()
        process.standardError = err
        try process.run()
        // Stop the server once the retry's start is recorded, while it waits in `delay`.
        var retry: RunRecord?
        #expect(
            try CLITests.waitFor(20) {
                retry = try store.runs(flow: "retried", limit: 5).first { $0.trigger == .retry }
                return retry != nil
            })
        let started = try #require(retry)
        try cluster.stop()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = ChildProcess.exitStatus(process)
        #expect(stderr.contains("kept to be written when the store is back"), "\(stderr)")
        #expect(FileSpool.beside(flowFile: file).pending().map(\.id) == [started.id])

        try cluster.start()
        _ = try CLITests.run([file, "--once", "--state", cluster.url])
        let stored = try #require(try PostgresStore(url: cluster.url).run(id: started.id))
        #expect(stored.status == .failed)
        #expect(stored.parentID == failed.id)
        #expect(FileSpool.beside(flowFile: file).pending().isEmpty)
    }
}
