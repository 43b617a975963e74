import Flowrun
import FlowrunTesting
import Foundation
import Testing

@testable import FlowrunRuntime

/// flows/contacts-bidirectional.yaml end to end: the real binary against the contacts test API, on SQLite
/// and PostgreSQL, with the exact counts of every run, dry runs that change nothing and announce what the
/// next live run does, no echo of the sync's own writes, every conflict strategy, manual conflicts resolved
/// both ways, and both sides compared record by record.
@Suite(.serialized, .enabled(if: ContactsEnvironment.python != nil, "\(ContactsEnvironment.skipReason)"))
struct BidirectionalSyncTests {
    static let flow = "contacts-bidirectional"

    /// created / updated / skipped / failed / conflicts of a run.
    static func counts(_ r: RunRecord?) -> [Int] {
        guard let r else { return [] }
        return [r[.created], r[.updated], r[.skipped], r[.failed], r[.conflicts]]
    }

    /// A dry run, then the live run: both report `expected`; the dry run changes neither side.
    static func sync(
        _ e: ContactsEnvironment, _ expected: [Int], strategy: String = "source_wins",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (local, remote) = (try e.local(), try e.remote())
        let set = ["--set", "vars.strategy=\(strategy)"]
        let (dry, dryRecord) = try e.run(flow, set + ["--dry-run"])
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)", sourceLocation: sourceLocation)
        #expect(dryRecord?.dryRun == true, sourceLocation: sourceLocation)
        #expect(counts(dryRecord) == expected, "dry run: \(dry.stdout)", sourceLocation: sourceLocation)
        #expect(try e.local() == local, "the dry run changed the local side", sourceLocation: sourceLocation)
        #expect(try e.remote() == remote, "the dry run changed the remote side", sourceLocation: sourceLocation)
        let (live, record) = try e.run(flow, set)
        #expect(live.status == 0, "\(live.stdout)\(live.stderr)", sourceLocation: sourceLocation)
        #expect(record?.dryRun == false, sourceLocation: sourceLocation)
        #expect(counts(record) == expected, "live run: \(live.stdout)", sourceLocation: sourceLocation)
        #expect(
            expected[4] == 0 || live.stdout.contains("  conflicts \(expected[4])"), "the summary: \(live.stdout)",
            sourceLocation: sourceLocation)
    }

    /// The run after a sync: the sync's own writes are read back past both cursors and dropped (no echo):
    /// nothing counted, nothing written, one request (the list).
    static func noEcho(_ e: ContactsEnvironment, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (r, record) = try e.run(flow)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
        #expect(counts(record) == [0, 0, 0, 0, 0], "\(r.stdout)", sourceLocation: sourceLocation)
        #expect(record?[.processed] == 0 && record?[.requests] == 1, sourceLocation: sourceLocation)
    }

    /// Both sides hold the same contacts: every local row is the remote contact its reference names (and
    /// no contact is unreferenced).
    static func bothSidesAgree(
        _ e: ContactsEnvironment, count: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let local = try e.local()
        let remote = try e.remote()
        let refs = try SQLiteStore(path: e.state).references(
            namespace: "contacts-api", ids: local.keys.map(String.init), by: .local)
        #expect(local.count == count && remote.count == count, "\(local) vs \(remote)", sourceLocation: sourceLocation)
        #expect(Set(refs.map(\.remoteID)) == Set(remote.keys), sourceLocation: sourceLocation)
        for ref in refs {
            let contact = remote[ref.remoteID] ?? nil
            let row = local[Int(ref.localID) ?? 0] ?? []
            #expect(
                [contact["email"], contact["name"]] == row, "\(ref.localID): \(contact) vs \(row)",
                sourceLocation: sourceLocation)
        }
    }

    /// A local change now (the database's clock), as an application would make it.
    static func changeLocal(_ e: ContactsEnvironment, _ id: Int, _ set: String, at time: String? = nil) throws {
        let now = e.databaseURL == nil ? "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" : "now()"
        try e.execute("UPDATE contacts SET \(set), updated_at = \(time.map(e.time) ?? now) WHERE id = \(id)")
    }

    static func remoteID(_ e: ContactsEnvironment, local id: Int) throws -> String {
        let ref = try SQLiteStore(path: e.state).references(namespace: "contacts-api", ids: [String(id)], by: .local)
        return try #require(ref.first?.remoteID)
    }

    static func seed(_ e: ContactsEnvironment, _ rows: [(Int, String, String)]) throws {
        for (id, email, name) in rows {
            try e.execute(
                "INSERT INTO contacts VALUES (\(id), '\(email)', '\(name)', \(e.time("2025-01-01T00:00:0\(id)Z")))")
        }
    }

    @Test(arguments: LocalDatabase.available)
    func changesOnEitherSideAreSyncedOnce(_ database: LocalDatabase) throws {
        let e = try database.environment()
        try Self.seed(e, [(1, "ann@x.com", "Ann"), (2, "bob@x.com", "Bob")])
        let zed = try e.api("POST", "/_control/contacts", ["email": "zed@x.com", "name": "Zed"])

        // First sync: the two local contacts are created at the API, Zed locally (as contact 3).
        try Self.sync(e, [3, 0, 0, 0, 0])
        #expect(try e.local()[3] == ["zed@x.com", "Zed"])
        try Self.bothSidesAgree(e, count: 3)
        try Self.noEcho(e)

        // A local-only change and a remote-only one: each is applied to the other side.
        try Self.changeLocal(e, 1, "name = 'Ann B'")
        _ = try e.api("PUT", "/_control/contacts/\(zed["id"].stringValue ?? "")", ["name": "Zed Z"])
        try Self.sync(e, [0, 2, 0, 0, 0])
        #expect(try e.local()[3] == ["zed@x.com", "Zed Z"])
        #expect(try e.remote()[try Self.remoteID(e, local: 1)]?["name"] == "Ann B")
        try Self.noEcho(e)

        // Both sides changed alike: no conflict, nothing written, the reference catches up.
        try Self.changeLocal(e, 2, "name = 'Bob C'")
        _ = try e.api("PUT", "/_control/contacts/\(try Self.remoteID(e, local: 2))", ["name": "Bob C"])
        try Self.sync(e, [0, 0, 1, 0, 0])
        try Self.noEcho(e)
        try Self.bothSidesAgree(e, count: 3)
        #expect(try e.local()[2] == ["bob@x.com", "Bob C"])
    }

    static let strategies: [(LocalDatabase, String)] = LocalDatabase.available.flatMap { d in
        ["source_wins", "destination_wins", "newest_wins"].map { (d, $0) }
    }

    @Test(arguments: strategies)
    func conflictStrategies(_ database: LocalDatabase, _ strategy: String) throws {
        let e = try database.environment()
        try Self.seed(e, [(1, "ann@x.com", "Ann"), (2, "bob@x.com", "Bob")])
        try Self.sync(e, [2, 0, 0, 0, 0], strategy: strategy)

        // Contact 1 changed on both sides (the API's change is the later one), contact 2 only locally.
        try Self.changeLocal(e, 1, "name = 'Ann L'")
        try Self.changeLocal(e, 2, "name = 'Bob L'")
        _ = try e.api("PUT", "/_control/contacts/\(try Self.remoteID(e, local: 1))", ["name": "Ann R"])
        try Self.sync(e, [0, 2, 0, 0, 1], strategy: strategy)
        try Self.noEcho(e)
        try Self.bothSidesAgree(e, count: 2)
        let winner = strategy == "source_wins" ? "Ann L" : "Ann R"
        #expect(try e.local()[1] == ["ann@x.com", .string(winner)])
        #expect(try e.local()[2] == ["bob@x.com", "Bob L"])

        guard strategy == "newest_wins" else { return }
        // Now the local change is the later one (the API's clock is in 2030): the local version wins.
        _ = try e.api("PUT", "/_control/contacts/\(try Self.remoteID(e, local: 1))", ["name": "Ann R2"])
        try Self.changeLocal(e, 1, "name = 'Ann L2'", at: "2040-01-01T00:00:00Z")
        try Self.sync(e, [0, 1, 0, 0, 1], strategy: strategy)
        try Self.bothSidesAgree(e, count: 2)
        #expect(try e.local()[1] == ["ann@x.com", "Ann L2"])
    }

    @Test(arguments: LocalDatabase.available)
    func manualConflictsAreParkedAndResolvedEitherWay(_ database: LocalDatabase) throws {
        let e = try database.environment()
        try Self.seed(e, [(1, "ann@x.com", "Ann"), (2, "bob@x.com", "Bob")])
        try Self.sync(e, [2, 0, 0, 0, 0], strategy: "manual")
        for (id, name) in [(1, "Ann"), (2, "Bob")] {
            try Self.changeLocal(e, id, "name = '\(name) L'")
            _ = try e.api(
                "PUT", "/_control/contacts/\(try Self.remoteID(e, local: id))", ["name": .string("\(name) R")])
        }
        let remoteBefore = try e.remote()
        let localBefore = try e.local()

        // Both pairs are parked as conflicts (not failures); neither side is written.
        try Self.sync(e, [0, 0, 0, 0, 2], strategy: "manual")
        #expect(try SQLiteStore(path: e.state).runs(flow: Self.flow, limit: 1).first?[.deadLettered] == 2)
        #expect(try e.remote() == remoteBefore)
        #expect(try e.local() == localBefore)
        let list = try e.flowrun(["dlq", "list"]).stdout
        #expect(list.components(separatedBy: "parked (conflict)").count - 1 == 2, "\(list)")
        let items = try JSON.parse(e.flowrun(["dlq", "list", "--format", "json"]).stdout).arrayValue ?? []
        func item(_ key: String) throws -> String {
            try #require(items.first { $0["key"] == .string(key) }?["id"].stringValue)
        }
        let conflict = try #require(items.first { $0["key"] == "1" })
        #expect(conflict["conflict"] == true)
        #expect(conflict["payload"]["pairs"][0]["row"]["name"] == "Ann L")
        #expect(conflict["payload"]["pairs"][0]["contact"]["name"] == "Ann R")

        // Resolved: 1 takes the local version (pushed), 2 the remote one (written locally), each at once.
        let (id1, id2) = (try item("1"), try item("2"))
        let take1 = try e.flowrun(["dlq", "resolve", id1, "--take", "local"])
        #expect(take1.status == 0 && take1.stdout.contains("\(id1): resolved"), "\(take1.stdout)\(take1.stderr)")
        #expect(Self.counts(try SQLiteStore(path: e.state).runs(flow: Self.flow, limit: 1).first) == [0, 1, 0, 0, 0])
        let take2 = try e.flowrun(["dlq", "resolve", id2, "--take", "remote"])
        #expect(take2.status == 0, "\(take2.stdout)\(take2.stderr)")
        #expect(Self.counts(try SQLiteStore(path: e.state).runs(flow: Self.flow, limit: 1).first) == [0, 1, 0, 0, 0])
        #expect(try e.flowrun(["dlq", "list"]).stdout.contains("no unresolved items"))
        let again = try e.flowrun(["dlq", "resolve", id2, "--take", "local"])
        #expect(again.status != 0 && again.stderr.contains("is resolved, not open"), "\(again.stderr)")

        try Self.noEcho(e)
        try Self.bothSidesAgree(e, count: 2)
        #expect(try e.local()[1] == ["ann@x.com", "Ann L"])
        #expect(try e.local()[2] == ["bob@x.com", "Bob R"])
    }
}
