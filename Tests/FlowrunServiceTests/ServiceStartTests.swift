import Flowrun
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// What `flowrun serve` does when it starts, before any flow runs: file names, abandoned runs, retention.
@Suite struct ServiceStartTests {
    let fixture = ServiceFixture("start")
    var dir: URL { fixture.dir }
    static let day = 86_400_000_000_000

    /// `serve flows/` used to list `flows//user-sync.yaml`.
    @Test func aDirectoryWithATrailingSlashGivesCleanPaths() throws {
        defer { fixture.removeDirectory() }
        let file = try fixture.writeFlow("clean")
        #expect(Service.expand([dir.path + "/"]) == [file])
        #expect(Service.expand([dir.path + "//"]) == [file])
        #expect(Service.expand([dir.path]) == [file])
        let service = Service(store: MemoryStore(), options: .init())
        service.load([dir.path + "/"])
        #expect(service.flows.map(\.file) == [file])
    }

    /// A run left `running` by a dead process of this host is marked abandoned when the service loads the
    /// flow, not only when the flow next runs.
    @Test func deadRunsOfThisHostAreAbandonedAtStart() throws {
        defer { fixture.removeDirectory() }
        let file = try fixture.writeFlow("ghost")
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        _ = ChildProcess.exitStatus(dead)
        let host = FlowRuntime.owner.split(separator: "@", maxSplits: 1).last.map(String.init) ?? ""
        let store = MemoryStore()
        var r = RunRecord(id: "r-dead", flow: "ghost", trigger: .scheduled, startedAt: 1)
        r.owner = "\(dead.processIdentifier)@\(host)"
        try store.save(r)
        var elsewhere = RunRecord(id: "r-elsewhere", flow: "ghost", trigger: .scheduled, startedAt: 2)
        elsewhere.owner = "\(dead.processIdentifier)@another-host"
        try store.save(elsewhere)

        let service = Service(store: store, options: .init())
        service.load([file])
        #expect(service.flows.map(\.name) == ["ghost"])
        #expect(try store.run(id: "r-dead")?.status == .abandoned)
        #expect(try store.run(id: "r-elsewhere")?.status == .running)
        #expect(try store.runs(flow: "ghost", limit: 10).count == 2)  // nothing ran
    }

    /// `--retention`: the scheduler loop prunes at its first pass and then once a day of the service's clock.
    @Test func retentionPrunesAtStartAndThenDaily() throws {
        let t0 = 100 * Self.day
        let store = MemoryStore()
        func save(_ id: String, startedAt: Int) throws {
            var r = RunRecord(id: id, flow: "f", trigger: .scheduled, startedAt: startedAt)
            r.status = .completed
            try store.save(r)
        }
        try save("old", startedAt: t0 - 31 * Self.day)
        try save("recent", startedAt: t0 - 29 * Self.day - Self.day / 2)
        try store.set(
            flow: "f", key: "dlq/d1", value: ["id": "d1", "status": "skipped", "updatedAt": .int(t0 - 40 * Self.day)])
        var options = Service.Options()
        options.retention = 30 * Self.day
        options.clock = { t0 }
        let service = Service(store: store, options: options)

        service.runLoop(untilIdle: true)  // no flows: one pass, which prunes
        #expect(try store.runs(flow: nil, limit: 10).map(\.id) == ["recent"])
        #expect(try store.get(flow: "f", key: "dlq/d1") == nil)

        try save("old2", startedAt: t0 - 31 * Self.day)
        #expect(service.housekeepIfDue(now: t0 + Self.day / 2) == nil)  // not yet a day later
        #expect(try store.run(id: "old2") != nil)
        let report = try #require(service.housekeepIfDue(now: t0 + Self.day))
        #expect(report.runs == 2)  // old2, and `recent`, now 30.5 days old
        #expect(try store.runs(flow: nil, limit: 10).isEmpty)

        var keepAll = Service.Options()
        keepAll.clock = { t0 }
        #expect(Service(store: store, options: keepAll).housekeepIfDue(now: t0) == nil)
    }
}
