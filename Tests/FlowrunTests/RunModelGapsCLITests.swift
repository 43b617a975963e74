import Flowrun
import Foundation
import FlowrunTesting
import Testing

/// Issue 12's remaining gaps seen from outside: `flowrun dlq replay --flow`, the progress line and
/// total, and the in-flight metrics of `flowrun serve`.
@Suite struct RunModelGapsCLITests {
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-gaps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    }

    /// Four records; those listed in `BAD` fail and are parked; the dead-letter entry is `check.in`.
    static let replayFlow = """
        flow: replay-all
        run: {cursorPolicy: park}
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          each: {component: iterator}
          check: {component: modify}
          write: {component: modify}
          dlq: {component: dead-letter, settings: {entry: check.in}}
        edges:
          - {from: start.out, to: each.in, data: {array: [1, 2, 3, 4]}}
          - {from: each.item, to: check.in, data: {n: <<$.item>>}}
          - {from: check.out, to: write.in, data: {n: <<(env.BAD ?? '').split(',').includes(string($.n)) ? 1 / 0 : $.n>>}}
          - {from: write.out, to: dlq.resolve, data: {key: <<$.n>>}}
          - {from: write.error, to: dlq.in, data: {key: <<$.input.n>>, payload: <<$.input>>, error: <<$.error>>}}
        """

    /// `flowrun dlq replay --flow FLOW` replays every unresolved item of the flow, one linked run each,
    /// and sums up what passed and what is still unresolved.
    @Test func dlqReplayOfAFlowReplaysEveryUnresolvedItem() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("replay.yaml")
        try Self.replayFlow.write(to: file, atomically: true, encoding: .utf8)
        let state = dir.appendingPathComponent("state.db").path
        let first = try CLITests.run(
            [file.path, "--once", "--state", state], environment: Self.environment(["BAD": "2,3"]))
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        let parked = try JSON.parse(try CLITests.run(["dlq", "list", "--state", state, "--format", "json"]).stdout)
        #expect(parked.arrayValue?.count == 2)
        let three = try #require(parked.arrayValue?.first { $0["key"] == "3" }?["id"].stringValue)

        // Record 2 was repaired at the source; 3 still fails.
        let replay = try CLITests.run(
            ["dlq", "replay", "--flow", "replay-all", "--state", state], environment: Self.environment(["BAD": "3"]))
        #expect(replay.status == 1, "\(replay.stdout)\(replay.stderr)")
        #expect(
            replay.stdout.contains(
                "replay-all: replayed 2 items: 1 closed as replayed, 1 still unresolved (\(three))"),
            "\(replay.stdout)")
        #expect(replay.stdout.components(separatedBy: "(replay of a dead letter from").count == 3)
        let left = try JSON.parse(try CLITests.run(["dlq", "list", "--state", state, "--format", "json"]).stdout)
        #expect(left.arrayValue?.map { $0["key"] } == ["3"])
        let all = try JSON.parse(
            try CLITests.run(["dlq", "list", "--all", "--state", state, "--format", "json"]).stdout)
        #expect(all.arrayValue?.first { $0["key"] == "2" }?["status"] == "replayed")

        // Nothing left to replay for an unknown flow; an id and --flow together are a usage error.
        let none = try CLITests.run(["dlq", "replay", "--flow", "nope", "--state", state])
        #expect(none.status == 0)
        #expect(none.stdout.contains("nope: no unresolved dead-letter items"))
        #expect(try CLITests.run(["dlq", "replay", three, "--flow", "replay-all", "--state", state]).status == 2)
    }

    /// The progress line is pure: count, rate, and with a known total the percentage and the ETA.
    @Test func theProgressLineShowsCountRatePercentageAndETA() {
        var r = RunRecord(id: "r1", flow: "f", trigger: .manual, startedAt: 0)
        r.counters[.processed] = 34_100
        r.total = 100_000
        #expect(
            RunProgress.line(r, now: 10_000_000_000)
                == "r1  10.0s  processed 34,100 of 100,000  34%  3,410/s  ETA 19.3s")
        r.total = nil
        r.counters[.failed] = 3
        #expect(RunProgress.line(r, now: 100_000_000_000) == "r1  1m40s  processed 34,100  341/s  failed 3")
        r.counters[.processed] = 0
        #expect(RunProgress.line(r, now: 0) == "r1  0.0s  processed 0  0/s  failed 3")
        #expect(RunProgress.grouped(1_234_567) == "1,234,567")
        #expect(RunProgress.grouped(999) == "999")
    }

    /// Standard error is not a terminal here: `--once` draws no progress line; the announced total is on
    /// the record (`flowrun runs ID`, JSON).
    @Test func noProgressLineWhenStderrIsNotATerminal() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("many.yaml")
        try """
        flow: many
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          each: {component: iterator}
          page: {component: modify}
        edges:
          - {from: start.out, to: each.in, data: {array: <<range(5000)>>, sourceTotal: 20000}}
          - {from: each.item, to: page.in}
        """.write(to: file, atomically: true, encoding: .utf8)
        let state = dir.appendingPathComponent("state.db").path
        let r = try CLITests.run([file.path, "--once", "--state", state])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}[2K"))
        #expect(!r.stderr.contains("processed"))
        let id = try #require(r.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let shown = try CLITests.run(["runs", "show", id, "--state", state])
        #expect(shown.stdout.contains("progress: processed 5,000 of 20,000"), "\(shown.stdout)\(shown.stderr)")
        let json = try JSON.parse(try CLITests.run(["runs", "show", id, "--state", state, "--format", "json"]).stdout)
        #expect(json["total"] == 20000)
    }

    /// `/metrics` of `flowrun serve` has the in-flight counters of a running run (from its live saves),
    /// back to 0 when it ended.
    @Test func metricsExposeInFlightCounters() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        flow: slow-items
        nodes:
          start: {component: ticker, settings: {interval: 1h, emitOnStart: true, maxEmissions: 1}}
          each: {component: iterator}
          wait: {component: delay, settings: {duration: 3s}}
        edges:
          - {from: start.out, to: each.in, data: {array: [1, 2, 3, 4], sourceTotal: 40}}
          - {from: each.item, to: wait.in}
        """.write(to: dir.appendingPathComponent("slow.yaml"), atomically: true, encoding: .utf8)
        let port = freePort()
        let p = try ServeTests.serve(dir, port: port, state: dir.appendingPathComponent("state.db").path)
        defer { if p.isRunning { p.terminate() } }
        let metrics = "http://127.0.0.1:\(port)/metrics"
        let processed = #"flowrun_run_in_flight_records{flow="slow-items",counter="processed"}"#
        let total = #"flowrun_run_in_flight_records{flow="slow-items",counter="total"}"#
        var text = ""
        #expect(
            try CLITests.waitFor(10) {
                text = (try? CLITests.http("GET", metrics, headers: ["Authorization": "Bearer s3cret"]).body) ?? ""
                return text.contains(processed + " 4")
            }, "\(text)")
        #expect(text.contains(total + " 40"), "\(text)")
        #expect(
            try CLITests.waitFor(15) {
                text = (try? CLITests.http("GET", metrics, headers: ["Authorization": "Bearer s3cret"]).body) ?? ""
                return text.contains(processed + " 0") && text.contains(#"status="completed"} 1"#)
            }, "\(text)")
    }
}
