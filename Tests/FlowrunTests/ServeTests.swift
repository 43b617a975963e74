import Flowrun
import Foundation
import FlowrunTesting
import Testing

/// `flowrun serve` as a process: readiness, a manual trigger through the admin API, metrics, a reload
/// on SIGHUP (a broken edit keeps the old version) and a graceful SIGTERM during a slow run.
@Suite(.serialized) struct ServeTests {
    static let loop = """
        flow: pagination-loop
        vars: {lastPage: 5}
        nodes:
          start: {component: ticker, settings: {interval: 1h, emitOnStart: true, maxEmissions: 1}}
          page: {component: modify}
          more:
            component: router
            settings: {when: <<$.page < vars.lastPage>>, outputPort: next, defaultPort: done}
          finished: {component: log}
        edges:
          - {from: start.out, to: page.in, data: {page: 1}}
          - {from: page.out, to: more.in}
          - {from: more.next, to: page.in, data: <<{page: $.page + 1}>>}
          - {from: more.done, to: finished.in}
        """

    static let slow = """
        flow: slow
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          wait: {component: delay, settings: {duration: 20s}}
          done: {component: log}
        edges:
          - {from: start.out, to: wait.in}
          - {from: wait.out, to: done.in}
        """

    /// `flowrun serve DIR` with an admin API on `port` (token `s3cret`) and its own state store.
    static func serve(_ dir: URL, port: Int, state: String) throws -> Process {
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = [
            "serve", dir.path, "--admin", "127.0.0.1:\(port)", "--admin-token", "s3cret", "--grace", "1",
            "--state", state,
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test func servesFlowsWithTheAdminAPI() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let loopFile = dir.appendingPathComponent("loop.yaml")
        try Self.loop.write(to: loopFile, atomically: true, encoding: .utf8)
        try Self.slow.write(to: dir.appendingPathComponent("slow.yaml"), atomically: true, encoding: .utf8)
        let port = freePort()
        let admin = "http://127.0.0.1:\(port)"
        let auth = ["Authorization": "Bearer s3cret"]
        let state = dir.appendingPathComponent("state.db").path

        let p = try Self.serve(dir, port: port, state: state)
        defer { if p.isRunning { p.terminate() } }

        #expect(try CLITests.waitFor { try CLITests.http("GET", "\(admin)/readyz").status == 200 })
        let flows = try JSON.parse(try CLITests.http("GET", "\(admin)/api/flows", headers: auth).body)
        #expect(flows.arrayValue?.map { $0["name"] } == ["pagination-loop", "slow"])
        #expect(flows[0]["health"] == "healthy")

        // A manual trigger needs the token, answers with the run id, and the run can be read back.
        #expect(try CLITests.http("POST", "\(admin)/api/flows/pagination-loop/runs").status == 401)
        let triggered = try CLITests.http("POST", "\(admin)/api/flows/pagination-loop/runs", headers: auth)
        #expect(triggered.status == 202, "\(triggered.body)")
        let id = try #require(try JSON.parse(triggered.body)["id"].stringValue)
        var run: Value = nil
        #expect(
            try CLITests.waitFor {
                run = try JSON.parse(try CLITests.http("GET", "\(admin)/api/runs/\(id)", headers: auth).body)
                return run["status"] == "completed"
            })
        #expect(run["trigger"] == "manual")
        #expect(run["messages"] == 11)

        let metrics = try CLITests.http("GET", "\(admin)/metrics", headers: auth).body
        #expect(metrics.contains(#"flowrun_runs_total{flow="pagination-loop",status="completed"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"flowrun_node_messages_total{flow="pagination-loop",node="page"} 10"#))
        #expect(metrics.contains("flowrun_process_resident_memory_bytes"))

        // SIGHUP with a broken edit: reported, the old version keeps running.
        try "flow: pagination-loop\nnodes: {x: {component: nope}}\n".write(
            to: loopFile, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        #expect(
            try CLITests.waitFor { try JSON.parse(try CLITests.http("GET", "\(admin)/readyz").body)["problems"] == 1 })
        #expect(try CLITests.http("POST", "\(admin)/api/flows/pagination-loop/runs", headers: auth).status == 202)
        // A good edit replaces it: lastPage 3 makes a shorter loop.
        try Self.loop.replacingOccurrences(of: "lastPage: 5", with: "lastPage: 3").write(
            to: loopFile, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        #expect(
            try CLITests.waitFor { try JSON.parse(try CLITests.http("GET", "\(admin)/readyz").body)["problems"] == 0 })
        let again = try CLITests.http("POST", "\(admin)/api/flows/pagination-loop/runs", headers: auth)
        let id2 = try #require(try JSON.parse(again.body)["id"].stringValue)
        #expect(
            try CLITests.waitFor {
                run = try JSON.parse(try CLITests.http("GET", "\(admin)/api/runs/\(id2)", headers: auth).body)
                return run["status"] == "completed"
            })
        #expect(run["messages"] == 7)

        // SIGTERM during a slow run: it is cancelled after the grace period, and the exit status is 0.
        let slow = try CLITests.http("POST", "\(admin)/api/flows/slow/runs", headers: auth)
        let slowID = try #require(try JSON.parse(slow.body)["id"].stringValue)
        Thread.sleep(forTimeInterval: 0.3)
        p.terminate()
        let exitStatus1 = ChildProcess.exitStatus(p)
        #expect(exitStatus1 == 0)
        let show = try CLITests.run(["runs", "show", slowID, "--state", state, "--format", "json"])
        #expect(try JSON.parse(show.stdout)["status"] == "cancelled", "\(show.stdout)\(show.stderr)")
        // The next run times were remembered in the state store.
        let schedule = try CLITests.run(["schedule", dir.path, "--state", state, "--format", "json"])
        let slots = try JSON.parse(schedule.stdout).arrayValue ?? []
        #expect(slots.map { $0["flow"] } == ["pagination-loop", "slow"], "\(schedule.stdout)\(schedule.stderr)")
        #expect(slots.allSatisfy { $0["remembered"] == true && $0["schedule"] == "every 1h" })
    }

    /// `flowrun flows disable|enable` and `POST /api/flows/{name}/disable|enable` share one flag in the
    /// state store: a disabled flow refuses manual runs (409) and `/api/flows` shows it disabled.
    @Test func disabledFlowsRefuseManualRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-disable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.loop.replacingOccurrences(of: "pagination-loop", with: "user-sync").write(
            to: dir.appendingPathComponent("loop.yaml"), atomically: true, encoding: .utf8)
        let port = freePort()
        let admin = "http://127.0.0.1:\(port)"
        let auth = ["Authorization": "Bearer s3cret"]
        let state = dir.appendingPathComponent("state.db").path
        let p = try Self.serve(dir, port: port, state: state)
        defer { if p.isRunning { p.terminate() } }
        #expect(try CLITests.waitFor { try CLITests.http("GET", "\(admin)/readyz").status == 200 })

        #expect(try CLITests.http("POST", "\(admin)/api/flows/user-sync/disable").status == 401)
        #expect(try CLITests.http("POST", "\(admin)/api/flows/nope/disable", headers: auth).status == 404)
        let disabled = try CLITests.http("POST", "\(admin)/api/flows/user-sync/disable", headers: auth)
        #expect(disabled.status == 200, "\(disabled.body)")
        var flows = try JSON.parse(try CLITests.http("GET", "\(admin)/api/flows", headers: auth).body)
        #expect(flows[0]["disabled"] == true)
        #expect(flows[0]["health"] == "disabled")
        let refused = try CLITests.http("POST", "\(admin)/api/flows/user-sync/runs", headers: auth)
        #expect(refused.status == 409, "\(refused.body)")
        // (the test client reports a non-2xx answer with the body it got, JSON-escaped)
        #expect(
            refused.body.contains(#"{\"error\":\"flow user-sync is disabled (flowrun flows enable user-sync)\"}"#),
            "\(refused.body)")

        // The CLI writes the same flag into the state store; the running service sees it.
        let enable = try CLITests.run(["flows", "enable", "user-sync", "--state", state])
        #expect(enable.status == 0, "\(enable.stderr)")
        #expect(enable.stdout == "user-sync: enabled\n")
        flows = try JSON.parse(try CLITests.http("GET", "\(admin)/api/flows", headers: auth).body)
        #expect(flows[0]["disabled"] == false)
        #expect(flows[0]["health"] == "healthy")
        #expect(try CLITests.http("POST", "\(admin)/api/flows/user-sync/runs", headers: auth).status == 202)
        #expect(try CLITests.run(["flows", "disable", "user-sync", "--state", state]).status == 0)
        #expect(try CLITests.http("POST", "\(admin)/api/flows/user-sync/runs", headers: auth).status == 409)
        p.terminate()
        _ = ChildProcess.exitStatus(p)
    }
}
