import Dispatch
import FlowrunDatabase
import FlowrunTesting
import Foundation
import Synchronization
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// One backend of the state store, opened twice where that means two connections (as two processes
/// sharing one SQLite file or one PostgreSQL database would).
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite, postgres

    var testDescription: String { rawValue }

    /// PostgreSQL only when FLOWRUN_TEST_DATABASE_URL is set (scripts/test starts a cluster).
    static var available: [StoreBackend] {
        allCases.filter { $0 != .postgres || ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil }
    }

    /// Two handles on one fresh, empty store, and a clean-up.
    func open() throws -> (any StateStore, any StateStore, cleanUp: () -> Void) {
        switch self {
        case .memory:
            let store = MemoryStore()
            return (store, store, {})
        case .sqlite:
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("flowrun-conformance-\(UUID().uuidString).db").path
            let cleanUp = {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            return (try SQLiteStore(path: path), try SQLiteStore(path: path), cleanUp)
        case .postgres:
            let url = try PostgresTesting.freshDatabase(prefix: "conformance")
            return (try PostgresStore(url: url), try PostgresStore(url: url), {})
        }
    }
}

/// The behaviour every `StateStore` promises, checked against each backend.
@Suite struct StateStoreConformanceTests {
    /// Reports the PostgreSQL cases as skipped (rather than silently absent) without a database.
    @Test(
        .enabled(
            if: StoreBackend.available.contains(.postgres),
            "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster); the PostgreSQL cases are left out"))
    func postgresIsAmongTheBackends() { #expect(StoreBackend.available == StoreBackend.allCases) }

    @Test(arguments: StoreBackend.available)
    func getSetEntriesAndDelete(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        #expect(try store.get(flow: "f", key: "cursor") == nil)
        try store.set(flow: "f", key: "cursor", value: ["at": "2024-01-01", "n": 3.5])
        try store.set(flow: "f", key: "dlq/d1", value: 1)
        try store.set(flow: "g", key: "dlq/d2", value: [true, nil, "x"])
        #expect(try other.get(flow: "f", key: "cursor") == ["at": "2024-01-01", "n": 3.5])
        #expect(try other.get(flow: "g", key: "cursor") == nil)
        try store.set(flow: "f", key: "cursor", value: "2025")
        #expect(try other.get(flow: "f", key: "cursor") == "2025")

        let dlq = try other.entries(flow: nil, prefix: "dlq/").map { "\($0.flow)/\($0.key)" }.sorted()
        #expect(dlq == ["f/dlq/d1", "g/dlq/d2"])
        #expect(try other.entries(flow: "f", prefix: "").map(\.key).sorted() == ["cursor", "dlq/d1"])
        #expect(try other.entries(flow: "g", prefix: "dlq/").first?.value == [true, nil, "x"])

        try store.delete(flow: "f", key: "cursor")
        try store.delete(flow: "f", key: "never-set")  // not an error
        #expect(try other.get(flow: "f", key: "cursor") == nil)
        #expect(try other.get(flow: "f", key: "dlq/d1") == 1)
    }

    @Test(arguments: StoreBackend.available)
    func compareAndSetChangesOnlyWhatItExpects(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        // nil expected: only when there is no value.
        #expect(try store.compareAndSet(flow: "f", key: "lock/run", expected: nil, new: nil))
        #expect(try store.compareAndSet(flow: "f", key: "lock/run", expected: nil, new: ["owner": "a", "n": 1]))
        #expect(try !other.compareAndSet(flow: "f", key: "lock/run", expected: nil, new: ["owner": "b"]))
        #expect(try !other.compareAndSet(flow: "f", key: "lock/run", expected: nil, new: nil))
        #expect(try other.get(flow: "f", key: "lock/run") == ["owner": "a", "n": 1])
        // A different expected value changes nothing; ints and doubles differ as stored.
        #expect(try !other.compareAndSet(flow: "f", key: "lock/run", expected: ["owner": "b"], new: "x"))
        #expect(try !other.compareAndSet(flow: "f", key: "lock/run", expected: ["owner": "a", "n": 1.0], new: "x"))
        #expect(try other.get(flow: "f", key: "lock/run") == ["owner": "a", "n": 1])
        // The stored value replaces it; the same key of another flow is another value.
        #expect(try other.compareAndSet(flow: "f", key: "lock/run", expected: ["owner": "a", "n": 1], new: "b"))
        #expect(try store.get(flow: "f", key: "lock/run") == "b")
        #expect(try store.compareAndSet(flow: "g", key: "lock/run", expected: nil, new: "g"))
        // nil new deletes, only when the value is the expected one.
        #expect(try !store.compareAndSet(flow: "f", key: "lock/run", expected: "a", new: nil))
        #expect(try store.compareAndSet(flow: "f", key: "lock/run", expected: "b", new: nil))
        #expect(try other.get(flow: "f", key: "lock/run") == nil)
        #expect(try other.get(flow: "g", key: "lock/run") == "g")
        // A plain set and a compare-and-set see each other's values.
        try store.set(flow: "f", key: "lock/run", value: 7)
        #expect(try other.compareAndSet(flow: "f", key: "lock/run", expected: 7, new: 8))
        #expect(try store.get(flow: "f", key: "lock/run") == 8)
    }

    /// Two threads, each with its own handle, race to take the same keys from nothing: exactly one wins
    /// each key, and the stored value is the winner's.
    @Test(arguments: StoreBackend.available)
    func concurrentCompareAndSetFromNilHasOneWinner(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        let handles = [store, other]
        let keys = 25
        let wins = Mutex(Array(repeating: [Int](), count: keys))
        let failures = Mutex([String]())
        DispatchQueue.concurrentPerform(iterations: 2) { contender in
            for k in 0..<keys {
                do {
                    if try handles[contender].compareAndSet(
                        flow: "f", key: "lock/\(k)", expected: nil, new: .string("owner-\(contender)"))
                    {
                        wins.withLock { $0[k].append(contender) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        for (k, winners) in wins.withLock({ $0 }).enumerated() {
            #expect(winners.count == 1, "key \(k): \(winners)")
            if let winner = winners.first {
                #expect(try store.get(flow: "f", key: "lock/\(k)") == .string("owner-\(winner)"))
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func claimTakesASlotOnce(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        #expect(try store.claim(flow: "f", key: "slot/tick", due: 100))
        #expect(try !other.claim(flow: "f", key: "slot/tick", due: 100))
        #expect(try !other.claim(flow: "f", key: "slot/tick", due: 50))
        #expect(try other.claim(flow: "f", key: "slot/tick", due: 160))
        #expect(try store.claim(flow: "g", key: "slot/tick", due: 100))
        #expect(try store.get(flow: "f", key: "slot/tick") == 160)
    }

    @Test(arguments: StoreBackend.available)
    func savesRunsAndListsThemNewestFirst(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        var r = RunRecord(id: "r1", flow: "f", trigger: .scheduled, startedAt: 1_000)
        r.status = .completedWithErrors
        r.counters = [.processed: 10, .failed: 2, .requests: 3, .deadLettered: 1]
        r.errors = [.init(node: "calc", port: "in", location: "f.yaml:3:4", message: "boom", input: "{}")]
        r.completedAt = 5_000
        r.parentID = "r0"
        r.dryRun = true
        r.changedColumns = ["email": 3]
        r.owner = "42@host"
        try store.save(r)
        var s = RunRecord(id: "r2", flow: "g", trigger: .state, startedAt: 2_000)
        s.status = .completed
        s.reason = "state k set: null -> 1"
        try store.save(s)
        r.status = .failed
        try store.save(r)  // saving again updates the record

        let back = try #require(try other.run(id: "r1"))
        #expect(back.status == .failed)
        #expect(back[.processed] == 10 && back[.failed] == 2 && back[.requests] == 3 && back[.deadLettered] == 1)
        #expect(back.errors.first?.location == "f.yaml:3:4")
        #expect(back.parentID == "r0" && back.dryRun && back.owner == "42@host")
        #expect(back.changedColumns == ["email": 3])
        #expect(back.durationNanos == 4_000)
        #expect(try other.run(id: "r2")?.trigger == .state)
        #expect(try other.run(id: "r2")?.reason == "state k set: null -> 1")
        #expect(try other.run(id: "nope") == nil)
        #expect(try other.runs(flow: nil, limit: 10).map(\.id) == ["r2", "r1"])
        #expect(try other.runs(flow: nil, limit: 1).map(\.id) == ["r2"])
        #expect(try other.runs(flow: "f", limit: 10).map(\.id) == ["r1"])
    }

    @Test(arguments: StoreBackend.available)
    func deleteRunsKeepsRecentAndRunningOnes(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        for (id, startedAt, status) in [
            ("old1", 100, RunRecord.Status.completed), ("old2", 200, .failed), ("oldRunning", 300, .running),
            ("edge", 1_000, .completed), ("new", 2_000, .completed),
        ] {
            var r = RunRecord(id: id, flow: id == "old2" ? "g" : "f", trigger: .manual, startedAt: startedAt)
            r.status = status
            try store.save(r)
        }
        #expect(try other.deleteRuns(olderThan: 1_000) == 2)
        #expect(try store.runs(flow: nil, limit: 10).map(\.id) == ["new", "edge", "oldRunning"])
        #expect(try other.deleteRuns(olderThan: 1_000) == 0)
    }

    /// Retention reads dead letters back and deletes them by compare-and-set against the value read, so
    /// a value must compare equal to itself after a round trip through each store.
    @Test(arguments: StoreBackend.available)
    func housekeepingPrunesClosedDeadLettersAndOldRuns(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        let item: Value = [
            "id": "d1", "flow": "f", "key": "u7", "payload": ["n": 1.5, "tags": ["a", nil]], "error": "bad",
            "status": "skipped", "updatedAt": 10,
        ]
        try store.set(flow: "f", key: "dlq/d1", value: item)
        try store.set(flow: "f", key: "dlq/d2", value: ["id": "d2", "status": "parked", "updatedAt": 10])
        var r = RunRecord(id: "r1", flow: "f", trigger: .manual, startedAt: 10)
        r.status = .completed
        try store.save(r)
        let report = try Housekeeping.prune(other, before: 100)
        #expect(report.runs == 1)
        #expect(report.deadLetters == [.init(flow: "f", id: "d1", status: "skipped")])
        #expect(try store.entries(flow: "f", prefix: "dlq/").map(\.key) == ["dlq/d2"])
    }
}
