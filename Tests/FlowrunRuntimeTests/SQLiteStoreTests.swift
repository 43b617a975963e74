import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

@Suite struct SQLiteStoreTests {
    func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-\(UUID().uuidString).db").path
    }

    @Test func storesStateAndRunsDurably() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try SQLiteStore(path: path)
            #expect(store.schemaVersion == SQLiteStore.currentVersion)
            try store.set(flow: "f", key: "cursor", value: ["at": "2024-01-01", "n": 3.5])
            var r = RunRecord(id: "r1", flow: "f", trigger: .scheduled, startedAt: 1_000)
            r.status = .completedWithErrors
            r.counters = [.processed: 10, .failed: 2, .created: 8]
            r.errors = [.init(node: "calc", port: "in", location: "f.yaml:3:4", message: "boom", input: "{}")]
            r.completedAt = 5_000
            r.parentID = "r0"
            try store.save(r)
            var r2 = RunRecord(id: "r2", flow: "g", trigger: .manual, startedAt: 2_000)
            r2.status = .completed
            try store.save(r2)
        }
        let reopened = try SQLiteStore(path: path)
        #expect(try reopened.get(flow: "f", key: "cursor") == ["at": "2024-01-01", "n": 3.5])
        #expect(try reopened.get(flow: "f", key: "other") == nil)
        let r = try #require(try reopened.run(id: "r1"))
        #expect(r.status == .completedWithErrors)
        #expect(r[.processed] == 10)
        #expect(r[.failed] == 2)
        #expect(r.errors.first?.location == "f.yaml:3:4")
        #expect(r.parentID == "r0")
        #expect(r.durationNanos == 4_000)
        #expect(try reopened.runs(flow: nil, limit: 10).map(\.id) == ["r2", "r1"])
        #expect(try reopened.runs(flow: "f", limit: 10).map(\.id) == ["r1"])
    }

    @Test func aStoreFromANewerVersionIsRefusedClearly() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        try store.exec("PRAGMA user_version = 99")
        #expect(throws: SQLiteStore.StoreError.self) { try SQLiteStore(path: path) }
    }

    @Test func anUnversionedStoreIsMigrated() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        try store.exec("DROP TABLE state; DROP TABLE runs; PRAGMA user_version = 0;")
        let migrated = try SQLiteStore(path: path)
        #expect(migrated.schemaVersion == SQLiteStore.currentVersion)
        try migrated.set(flow: "f", key: "k", value: 1)
    }
}

extension SQLiteStoreTests {
    /// A store written by the first version opens, is migrated, and keeps its runs.
    @Test func aVersionOneStoreIsMigratedAndKeepsItsRuns() throws {
        let path = tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let old = try SQLiteConnection(path: path)
            try old.exec("BEGIN; \(SQLiteStore.migrations[0]) PRAGMA user_version = 1; COMMIT;")
            _ = try old.query(
                "INSERT INTO runs (id, flow, trigger, status, started_at, processed) VALUES ('old', 'f', 'manual', 'completed', 5, 7)",
                [])
        }
        let store = try SQLiteStore(path: path)
        #expect(store.schemaVersion == SQLiteStore.currentVersion)
        #expect(SQLiteStore.currentVersion >= 2)
        let r = try #require(try store.run(id: "old"))
        #expect(r[.processed] == 7)
        #expect(r[.requests] == 0)
        var new = RunRecord(id: "new", flow: "f", trigger: .manual, startedAt: 9)
        new.counters[.requests] = 4
        try store.save(new)
        #expect(try store.run(id: "new")?[.requests] == 4)
    }
}
