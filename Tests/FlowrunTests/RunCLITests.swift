import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// `flowrun FILE --once` as a user runs it: summaries, exit codes, the durable run history.
@Suite struct RunCLITests {
    let dir: URL = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-run-\(UUID().uuidString)")

    func write(_ name: String, _ text: String) throws -> String { try writeFile(dir, name, text) }

    func flow(items: String) -> String {
        """
        flow: numbers
        run: {retries: 0}  # one record per run (the default retries a failed run 3 times, 1 s + 2 s + 4 s)
        nodes:
          start: {component: ticker, settings: {interval: 1h, payload: {xs: \(items)}}}
          each: {component: iterator}
          calc: {component: modify}
        edges:
          - {from: start.out, to: each.in, data: {array: <<$.xs>>}}
          - {from: each.item, to: calc.in, data: {v: <<10 / $.item>>}}
        """
    }

    @Test func exitCodesFollowTheRunStatus() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state.db").path
        let ok = try CLITests.run([try write("ok.yaml", flow(items: "[1, 2]")), "--once", "--state", state])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("numbers  completed  in"))
        #expect(ok.stdout.contains("processed 2"))
        let partial = try CLITests.run([try write("partial.yaml", flow(items: "[1, 0]")), "--once", "--state", state])
        #expect(partial.status == 3)
        #expect(partial.stdout.contains("completed_with_errors"))
        #expect(partial.stdout.contains("error at calc.in:"))
        #expect(partial.stdout.contains("division by zero"))
        let failed = try CLITests.run(["run", try write("failed.yaml", flow(items: "[0]")), "--once", "--state", state])
        #expect(failed.status == 1)
        let broken = try CLITests.run([try write("broken.yaml", "flow: x\nnodes: {a: {component: nope}}\n"), "--once"])
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("error[E300]"))

        let list = try CLITests.run(["runs", "--state", state, "--flow", "numbers", "--format", "json"])
        let runs = try JSON.parse(list.stdout)
        #expect(runs.arrayValue?.map { $0["status"] } == ["failed", "completed_with_errors", "completed"])
        let id = try #require(runs[1]["id"].stringValue)
        let show = try CLITests.run(["runs", "show", id, "--state", state])
        #expect(show.status == 0)
        #expect(show.stdout.contains("failed 1"))
        let table = try CLITests.run(["runs", "--state", state])
        #expect(table.stdout.hasPrefix("RUN"))
    }

    @Test func inputEntryAndVarsOverride() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write(
            "input.yaml",
            """
            flow: manual
            vars: {factor: 2}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              calc: {component: modify}
              show: {component: log, settings: {format: json}}
            edges:
              - {from: start.out, to: calc.in, data: {v: <<($.n ?? 1) * vars.factor>>}}
              - {from: calc.out, to: show.in}
            """)
        let state = dir.appendingPathComponent("s.db").path
        let r = try CLITests.run([file, "--input", #"{"n": 21}"#, "--set", "vars.factor=3", "--state", state])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains(#"{"v":63}"#))
        let json = try CLITests.run([file, "--once", "--state", state, "--log-format", "json"])
        let line = try #require(json.stderr.split(separator: "\n").first { $0.contains("\"node\":\"show\"") })
        let logged = try JSON.parse(String(line))
        #expect(logged["msg"] == #"{"v":2}"#)
        #expect(logged["flow"] == "manual")
        #expect(logged["run"].stringValue?.hasPrefix("r") == true)
    }

    @Test func everyPureExampleRunsOnce() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("e.db").path
        for example in ["ticker-log", "router", "iterator", "pagination-loop", "state-cursor"] {
            let r = try CLITests.run(["flows/examples/\(example).yaml", "--once", "--state", state])
            #expect(r.status == 0, "\(example): \(r.stdout) \(r.stderr)")
        }
    }
}

@Suite struct ScheduleCLITests {
    let dir: URL = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-sched-\(UUID().uuidString)")

    func write(_ name: String, _ text: String) throws -> String { try writeFile(dir, name, text) }

    @Test func intervalTickerFiresOnScheduleUntilMaxEmissions() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write(
            "tick.yaml",
            """
            flow: tick
            nodes:
              t: {component: ticker, settings: {interval: 200ms, emitOnStart: true, maxEmissions: 3, payload: {x: 1}}}
              m: {component: modify}
            edges:
              - {from: t.out, to: m.in}
            """)
        let start = Date()
        let r = try CLITests.run([file, "--state", dir.appendingPathComponent("s.db").path])
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.components(separatedBy: "tick  completed").count - 1 == 3)
        // At start, then on the 200 ms grid anchored at the epoch: the second one comes 0 to 200 ms after start.
        #expect(elapsed >= 0.2, "three emissions, the last two 200 ms apart, took \(elapsed) s")
        let runs = try JSON.parse(
            try CLITests.run([
                "runs", "--state", dir.appendingPathComponent("s.db").path,
                "--format", "json",
            ]).stdout)
        #expect(runs.arrayValue?.allSatisfy { $0["trigger"] == "scheduled" } == true)
    }

    @Test func sigtermCancelsAnInFlightRunAfterTheGracePeriod() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try write(
            "slow.yaml",
            """
            flow: slow
            run: {maxMessages: 1000000000}
            nodes:
              t: {component: ticker, settings: {interval: 1h, emitOnStart: true, payload: {i: 0}}}
              step: {component: modify}
            edges:
              - {from: t.out, to: step.in}
              - {from: step.out, to: step.in, data: {i: <<$.i + 1>>}}
            """)
        let state = dir.appendingPathComponent("s.db").path
        let process = Process()
        process.executableURL = CLITests.binary
        process.arguments = [file, "--state", state, "--grace", "0.3"]
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        Thread.sleep(forTimeInterval: 0.8)
        process.terminate()  // SIGTERM
        let exitStatus1 = ChildProcess.exitStatus(process)
        #expect(exitStatus1 == 0)
        let runs = try JSON.parse(try CLITests.run(["runs", "--state", state, "--format", "json"]).stdout)
        #expect(runs[0]["status"] == "cancelled")
        #expect(runs[0]["reason"] == "cancelled")
    }
}

@Suite struct OverlapCLITests {
    let dir: URL = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-overlap-\(UUID().uuidString)")

    func runs(overlap: String) throws -> [Value] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("\(overlap).yaml")
        // Each run loops for a while; the ticker fires every 50 ms, three times.
        try """
        flow: overlap-\(overlap)
        run: {overlap: \(overlap), maxMessages: 1000000000}
        nodes:
          t: {component: ticker, settings: {interval: 50ms, emitOnStart: true, maxEmissions: 3, payload: {i: 0}}}
          step: {component: modify}
          more: {component: router, settings: {when: <<$.i < 150000>>, outputPort: again}}
        edges:
          - {from: t.out, to: step.in}
          - {from: step.out, to: more.in}
          - {from: more.again, to: step.in, data: {i: <<$.i + 1>>}}
        """.write(to: file, atomically: true, encoding: .utf8)
        let state = dir.appendingPathComponent("\(overlap).db").path
        let r = try CLITests.run([file.path, "--state", state])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSON.parse(try CLITests.run(["runs", "--state", state, "--format", "json"]).stdout).arrayValue ?? []
    }

    func overlapping(_ records: [Value]) -> Bool {
        let spans = records.compactMap { r -> (Int, Int)? in
            guard let s = r["startedAt"].stringValue.flatMap(Time.parse),
                let e = r["completedAt"].stringValue.flatMap(Time.parse)
            else { return nil }
            return (s, e)
        }.sorted { $0.0 < $1.0 }
        return zip(spans, spans.dropFirst()).contains { $0.1 > $1.0 }
    }

    @Test func allowLetsRunsOverlapAndSkipDoesNot() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let allowed = try runs(overlap: "allow")
        #expect(allowed.count == 3)
        #expect(allowed.allSatisfy { $0["status"] == "completed" })
        #expect(overlapping(allowed), "with overlap: allow the runs should overlap")
        let skipped = try runs(overlap: "skip")
        #expect(!overlapping(skipped))
    }
}

/// Writes `text` to `dir/name` (creating `dir`) and returns the path.
func writeFile(_ dir: URL, _ name: String, _ text: String) throws -> String {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}
