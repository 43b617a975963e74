import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
import FlowrunDatabase
@testable import FlowrunRuntime

private let postgresURL = ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"]

/// A state store whose saves of run records fail while `failSave` says so, as a PostgreSQL store does
/// while its server is unreachable; everything else goes to a real `MemoryStore`.
final class FlakyStore: StateStore, @unchecked Sendable {
    let inner = MemoryStore()
    var failSave: (RunRecord) -> Bool = { _ in false }
    var failedSaves = 0

    func get(flow: String, key: String) throws -> Value? { try inner.get(flow: flow, key: key) }
    func set(flow: String, key: String, value: Value) throws { try inner.set(flow: flow, key: key, value: value) }
    func delete(flow: String, key: String) throws { try inner.delete(flow: flow, key: key) }
    func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        try inner.compareAndSet(flow: flow, key: key, expected: expected, new: new)
    }
    func claim(flow: String, key: String, due: Int) throws -> Bool { try inner.claim(flow: flow, key: key, due: due) }
    func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        try inner.entries(flow: flow, prefix: prefix)
    }
    func save(_ record: RunRecord) throws {
        if failSave(record) {
            failedSaves += 1
            throw NodeError("postgres: server closed the connection unexpectedly", code: "connection", retryable: true)
        }
        try inner.save(record)
    }
    func runs(flow: String?, limit: Int) throws -> [RunRecord] { try inner.runs(flow: flow, limit: limit) }
    func run(id: String) throws -> RunRecord? { try inner.run(id: id) }
    func deleteRuns(olderThan: Int) throws -> Int { try inner.deleteRuns(olderThan: olderThan) }
}

final class LineLogger: RunLogger, @unchecked Sendable {
    var lines: [String] = []
    func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
        lines.append("\(level.rawValue): \(message)")
    }
}

/// Saves of run records retried with backoff, kept while the store is unreachable and written when it is
/// back, so no record goes missing and none stays `running` (later `abandoned`) after it ended.
struct RunRecordKeeperTests {
    /// Every record fails (division by zero), so its true status is `failed`.
    static let failingFlow = """
        flow: keeper
        nodes:
          start: {component: ticker, settings: {interval: 1h, payload: {items: [0, 0, 0]}}}
          each: {component: iterator}
          calc: {component: modify}
        edges:
          - {from: start.out, to: each.in, data: {array: <<$.items>>}}
          - {from: each.item, to: calc.in, data: {v: <<1 / $.item>>}}
        """

    final class Sleeps: @unchecked Sendable { var nanos: [Int] = [] }

    static func runtime(
        _ store: any StateStore, yaml: String = failingFlow, spool: (any RecordSpool)? = nil, sleeps: Sleeps = Sleeps(),
        logger: any RunLogger = SilentLogger()
    ) throws -> FlowRuntime {
        let flow = try #require(FlowChecker.check(path: "keeper.yaml", text: yaml, registry: .standard).flow)
        var options = FlowRuntime.Options()
        options.recordSpool = spool
        options.logger = logger
        options.sleep = { sleeps.nanos.append($0) }
        return try FlowRuntime(flow: flow, factories: .standard, store: store, options: options)
    }

    static func run(_ runtime: FlowRuntime) throws -> RunRecord {
        try #require(try runtime.run(.trigger("start"), trigger: .manual).last)
    }

    @Test func retriesBackOffAndAreBounded() {
        let retry = SaveRetry()
        #expect((1...4).map { retry.delay(after: $0) } == [100_000_000, 400_000_000, 1_600_000_000, nil])
        #expect(SaveRetry.isTransient(NodeError("gone", code: "connection", retryable: true)))
        #expect(!SaveRetry.isTransient(NodeError("syntax", code: "pg_42601")))
    }

    @Test func aFinalSaveThatFailsTwiceIsRetriedAndStored() throws {
        let store = FlakyStore()
        var failures = 0
        store.failSave = { r in
            guard r.status != .running, failures < 2 else { return false }
            failures += 1
            return true
        }
        let sleeps = Sleeps()
        let record = try Self.run(try Self.runtime(store, sleeps: sleeps))
        #expect(record.status == .failed)
        #expect(sleeps.nanos == [100_000_000, 400_000_000])
        #expect(try store.run(id: record.id)?.status == .failed)
    }

    /// `flowrun serve`: the store is down from the run's end on; the record waits in memory, the failure
    /// is logged, and the next save (the next run) writes it.
    @Test func aRecordTheStoreRefusesIsKeptAndWrittenWhenTheStoreIsBack() throws {
        let store = FlakyStore()
        store.failSave = { $0.status != .running }
        let logger = LineLogger()
        let runtime = try Self.runtime(store, logger: logger)
        let first = try Self.run(runtime)
        #expect(first.status == .failed)
        #expect(try store.run(id: first.id)?.status == .running)
        #expect(store.failedSaves == 4)
        #expect(runtime.records.pendingIDs == [first.id])
        #expect(logger.lines.contains { $0.hasPrefix("error: could not save the run record (failed) after 4") })

        store.failSave = { _ in false }
        let second = try Self.run(runtime)
        let stored = try #require(try store.run(id: first.id))
        #expect(stored.status == .failed)
        #expect(stored.reason == first.reason)
        #expect(stored[.failed] == 3)
        #expect(try store.run(id: second.id)?.status == .failed)
        #expect(runtime.records.pendingIDs.isEmpty)
    }

    /// The CLI: its process ends with the store still down. The record waits on disk; the next process
    /// writes it before it looks for abandoned runs, so the run is `failed`, never `abandoned`.
    @Test func theCLIKeepsTheRecordOnDiskForTheNextStart() throws {
        let dir = NSTemporaryDirectory() + "flowrun-spool-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = FlakyStore()
        store.failSave = { $0.status != .running }
        let first = try Self.run(try Self.runtime(store, spool: FileSpool(directory: dir)))
        #expect(FileSpool(directory: dir).pending().map(\.id) == [first.id])
        // The process that ran it is gone: its stored record still says `running`.
        var stale = try #require(try store.run(id: first.id))
        #expect(stale.status == .running)
        stale.owner = "4194303@\(RunOwner.host)"
        try store.inner.save(stale)

        store.failSave = { _ in false }
        let next = try Self.runtime(store, spool: FileSpool(directory: dir))
        next.markAbandonedRuns()
        let stored = try #require(try store.run(id: first.id))
        #expect(stored.status == .failed)
        #expect(stored[.failed] == 3)
        #expect(stored.owner == first.owner)
        #expect(FileSpool(directory: dir).pending().isEmpty)
    }

    @Test func aDamagedSpoolFileIsSkippedNotFatal() throws {
        let dir = NSTemporaryDirectory() + "flowrun-spool-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("[\"r1\", 3".utf8).write(to: URL(fileURLWithPath: dir + "/r1.json"))
        let spool = FileSpool(directory: dir)
        #expect(spool.pending().isEmpty)
        var record = RunRecord(id: "r2-00ff", flow: "f", trigger: .manual, startedAt: 5)
        record.status = .completedWithErrors
        record.errors = [.init(node: "n", port: "in", location: nil, message: "m", input: "{}")]
        spool.keep(record)
        let kept = try #require(spool.pending().first)
        #expect(kept.status == .completedWithErrors)
        #expect(kept.errors.map(\.message) == ["m"])
    }
}

/// The PostgreSQL state store's session is ended by the server in the middle of a run: the final record
/// is in the store afterwards, with the run's real status.
@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct RunRecordStoreBlipTests {
    @Test func theFinalRecordSurvivesTheStoresSessionEndingMidRun() throws {
        let url = try PostgresTesting.freshDatabase(prefix: "blip")
        let name = "store_" + UUID().uuidString.prefix(8).lowercased()
        let store = try PostgresStore(url: url + (url.contains("?") ? "&" : "?") + "application_name=\(name)")
        let yaml = """
            flow: blip
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              kill: {component: database, settings: {url: '\(url)'}}
              each: {component: iterator}
              calc: {component: modify}
            edges:
              - {from: start.out, to: kill.request, data: {query: "SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity WHERE application_name = '\(name)'"}}
              - {from: kill.response, to: each.in, data: {array: [0, 0]}}
              - {from: each.item, to: calc.in, data: {v: <<1 / $.item>>}}
            """
        let runtime = try RunRecordKeeperTests.runtime(store, yaml: yaml)
        let record = try RunRecordKeeperTests.run(runtime)
        #expect(record.status == .failed)
        let stored = try #require(try store.run(id: record.id))
        #expect(stored.status == .failed)
        #expect(stored[.failed] == 2)
        #expect(runtime.records.pendingIDs.isEmpty)
    }
}
