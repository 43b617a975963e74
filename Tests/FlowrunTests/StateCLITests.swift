import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// `flowrun state` and `flowrun prune` as a user runs them, against a SQLite state store.
@Suite struct StateCLITests {
    let dir: URL = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-state-\(UUID().uuidString)")
    var state: String { dir.appendingPathComponent("state.db").path }

    func seeded() throws -> SQLiteStore {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: state)
        try store.set(flow: "user-sync", key: "users-updated-since", value: "2024-05-01T00:00:00Z")
        try store.set(flow: "user-sync", key: "dlq/d1", value: ["id": "d1", "status": "parked"])
        try store.set(flow: "user-sync", key: "slot/start", value: 100)
        try store.set(flow: "other", key: "k", value: 1)
        return store
    }

    @Test func listGetSetAndDelete() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try seeded()

        let list = try CLITests.run(["state", "list", "user-sync", "--state", state])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "KEY                  VALUE\nusers-updated-since  \"2024-05-01T00:00:00Z\"\n")
        let all = try CLITests.run(["state", "list", "user-sync", "--all", "--state", state, "--format", "json"])
        let keys = try JSON.parse(all.stdout).arrayValue?.map { $0["key"] }
        #expect(keys == ["dlq/d1", "slot/start", "users-updated-since"])

        let get = try CLITests.run(["state", "get", "user-sync", "users-updated-since", "--state", state])
        #expect(get.status == 0)
        #expect(get.stdout == "\"2024-05-01T00:00:00Z\"\n")
        let missing = try CLITests.run(["state", "get", "user-sync", "nope", "--state", state])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no state key nope"))

        // JSON values are stored as JSON; anything else as a string.
        let setJSON = try CLITests.run(["state", "set", "user-sync", "limits", #"{"max": 5}"#, "--state", state])
        #expect(setJSON.status == 0, "\(setJSON.stderr)")
        #expect(try store.get(flow: "user-sync", key: "limits") == ["max": 5])
        let setText = try CLITests.run([
            "state", "set", "user-sync", "users-updated-since", "2024-06-01T00:00:00Z", "--state", state,
        ])
        #expect(setText.status == 0)
        #expect(try store.get(flow: "user-sync", key: "users-updated-since") == "2024-06-01T00:00:00Z")

        let delete = try CLITests.run(["state", "delete", "user-sync", "limits", "--state", state])
        #expect(delete.status == 0)
        #expect(try store.get(flow: "user-sync", key: "limits") == nil)
        #expect(try CLITests.run(["state", "delete", "user-sync", "limits", "--state", state]).status == 1)
        #expect(try store.get(flow: "other", key: "k") == 1)

        // Each change is a completed run of trigger `state`, newest first.
        let runs = try store.runs(flow: "user-sync", limit: 10)
        #expect(runs.map(\.trigger) == [.state, .state, .state])
        #expect(runs.allSatisfy { $0.status == .completed && $0.completedAt == $0.startedAt })
        #expect(
            runs.map(\.reason) == [
                #"state limits deleted: {"max":5}"#,
                #"state users-updated-since set: "2024-05-01T00:00:00Z" -> "2024-06-01T00:00:00Z""#,
                #"state limits set: (none) -> {"max":5}"#,
            ])
        let table = try CLITests.run(["runs", "--state", state])
        #expect(table.stdout.contains("state    completed"))
    }

    @Test func usageErrorsExitTwo() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try seeded()
        #expect(try CLITests.run(["state", "get", "user-sync", "--state", state]).status == 2)
        #expect(try CLITests.run(["state", "set", "user-sync", "k", "--state", state]).status == 2)
        #expect(try CLITests.run(["state", "list", "user-sync", "--state", dir.path + "/none.db"]).status == 2)
        #expect(try CLITests.run(["prune", "--older-than", "soon", "--state", state]).status == 2)
        let serve = try CLITests.run(["serve", dir.path, "--retention", "soon", "--admin", "off", "--state", state])
        #expect(serve.status == 2)
        #expect(serve.stderr.contains("--retention takes a duration"))
    }

    @Test func pruneRemovesOldRunsAndClosedDeadLetters() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try seeded()
        let day = 86_400_000_000_000
        let now = Globals.systemClock()
        for (id, age, status) in [
            ("old", 40, RunRecord.Status.completed), ("oldFailed", 31, .failed), ("stillRunning", 40, .running),
            ("recent", 2, .completed),
        ] {
            var r = RunRecord(id: id, flow: "user-sync", trigger: .scheduled, startedAt: now - age * day)
            r.status = status
            try store.save(r)
        }
        for (id, age, status) in [
            ("dReplayed", 40, "replayed"), ("dSkipped", 35, "skipped"), ("dResolved", 40, "resolved"),
            ("dParked", 40, "parked"), ("dOpen", 40, "open"), ("dRecent", 1, "skipped"),
        ] {
            try store.set(
                flow: "user-sync", key: "dlq/\(id)",
                value: [
                    "id": .string(id), "flow": "user-sync", "key": "k", "status": .string(status),
                    "updatedAt": .int(now - age * day),
                ])
        }
        let r = try CLITests.run(["prune", "--older-than", "30d", "--state", state])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("pruned 2 run records and 3 closed dead-letter items older than 30d\n"))
        #expect(r.stdout.contains("dead letter dResolved  user-sync  resolved"))
        #expect(try store.runs(flow: nil, limit: 10).map(\.id).sorted() == ["recent", "stillRunning"])
        let left = try store.entries(flow: "user-sync", prefix: "dlq/").map(\.key).sorted()
        #expect(left == ["dlq/d1", "dlq/dOpen", "dlq/dParked", "dlq/dRecent"])
        #expect(try store.get(flow: "user-sync", key: "users-updated-since") != nil)

        let again = try CLITests.run(["prune", "--older-than", "30d", "--state", state, "--format", "json"])
        #expect(try JSON.parse(again.stdout) == ["runs": 0, "deadLetters": []])
    }
}
