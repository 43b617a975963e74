import Flowrun
import FlowrunTesting
import Foundation
import Testing

@testable import FlowrunRuntime

/// Where the local contacts live in an end-to-end test.
enum LocalDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// PostgreSQL only when FLOWRUN_TEST_DATABASE_URL is set (scripts/test starts a cluster).
    static var available: [LocalDatabase] { allCases.filter { $0 == .sqlite || PostgresTesting.url != nil } }

    func environment() throws -> ContactsEnvironment {
        try ContactsEnvironment(
            databaseURL: self == .postgres ? PostgresTesting.freshDatabase(prefix: "contacts") : nil)
    }
}

/// flows/contacts-push.yaml end to end: the real binary against the contacts test API, on SQLite and
/// PostgreSQL, with the exact counts of every run, dry runs that change nothing and announce what the
/// next live run does, and both sides compared record by record at the end.
@Suite(.serialized, .enabled(if: ContactsEnvironment.python != nil, "\(ContactsEnvironment.skipReason)"))
struct OutboundSyncTests {
    /// created / updated / skipped / failed / missing destination / missing source of a run.
    static func counts(_ r: RunRecord?) -> [Int] {
        guard let r else { return [] }
        return [r[.created], r[.updated], r[.skipped], r[.failed], r[.missingDestination], r[.missingSource]]
    }

    @Test(arguments: LocalDatabase.available)
    func contactsPushEndToEnd(_ database: LocalDatabase) throws {
        let e = try database.environment()
        let rows = [
            (1, "'ann@x.com'", "Ann"), (2, "'bob@x.com'", "Bob"), (3, "'cleo@x.com'", "Cleo"),
            (4, "'dup@x.com'", "Dup"), (5, "'bad-email'", "Eve"), (6, "NULL", "Fay"),
        ]
        for (id, email, name) in rows {
            try e.execute(
                "INSERT INTO contacts VALUES (\(id), \(email), '\(name)', \(e.time("2025-01-01T00:00:0\(id)Z")))")
        }
        // Someone else's contact holds dup@x.com at the API: pushing contact 4 is a 409.
        let other = try e.api("POST", "/_control/contacts", ["email": "dup@x.com", "name": "Other"])
        let before = try e.remote()

        // Dry run: nothing is sent; every record would be created but the one without an email (a dry
        // run cannot know the API's 409 and 422 verdicts).
        let (dry1, dryRecord1) = try e.run("contacts-push", ["--dry-run"])
        #expect(dry1.status == 1 || dry1.status == 3, "\(dry1.stdout)\(dry1.stderr)")
        #expect(dryRecord1?.dryRun == true)
        #expect(Self.counts(dryRecord1) == [5, 0, 0, 1, 0, 1], "\(dry1.stdout)")
        #expect(dry1.stdout.contains("missing source (required field null)   1"), "\(dry1.stdout)")
        #expect(try e.remote() == before)
        #expect(try e.flowrun(["dlq", "list"]).stdout.contains("parked") == false)

        // Live: 1-3 created, 4 (409), 5 (422) and 6 (missing source) parked in the dead-letter queue.
        let (live1, record1) = try e.run("contacts-push")
        #expect(live1.status == 3, "\(live1.stdout)\(live1.stderr)")
        #expect(Self.counts(record1) == [3, 0, 0, 3, 0, 1], "\(live1.stdout)")
        #expect(record1?.status == .completedWithErrors)
        #expect(Set(record1?.errors.map(\.code) ?? []) == ["http_409", "http_422", "missing_source"])
        let dlq1 = try e.flowrun(["dlq", "list"]).stdout
        #expect(dlq1.components(separatedBy: "parked").count - 1 == 3, "\(dlq1)")

        // Between runs: 1 renamed, 2 touched without a change, 3 renamed locally but deleted at the API,
        // 5 given a valid email; the API throttles the next write (429, Retry-After: 1).
        let refs = try SQLiteStore(path: e.state)
        let ref3 = try #require(try refs.references(namespace: "contacts-api", ids: ["3"], by: .local).first)
        try e.execute("UPDATE contacts SET name = 'Ann B', updated_at = \(e.time("2025-02-01T00:00:01Z")) WHERE id = 1")
        try e.execute("UPDATE contacts SET updated_at = \(e.time("2025-02-01T00:00:02Z")) WHERE id = 2")
        try e.execute(
            "UPDATE contacts SET name = 'Cleo C', updated_at = \(e.time("2025-02-01T00:00:03Z")) WHERE id = 3")
        try e.execute(
            "UPDATE contacts SET email = 'eve@x.com', updated_at = \(e.time("2025-02-01T00:00:05Z")) WHERE id = 5")
        _ = try e.api("DELETE", "/_control/contacts/\(ref3.remoteID)")
        _ = try e.api("POST", "/_control/throttle", ["count": 1, "retryAfter": 1])
        let between = try e.remote()
        let localBetween = try e.local()

        // The dry run announces the next live run exactly: 5 created, 3 missing at the API (found by a
        // GET) and created again, 1 updated, 2 skipped (same hash as pushed); 4 and 6 stay parked.
        let (dry2, dryRecord2) = try e.run("contacts-push", ["--dry-run"])
        #expect(dry2.status == 0, "\(dry2.stdout)\(dry2.stderr)")
        #expect(Self.counts(dryRecord2) == [2, 1, 1, 0, 1, 0], "\(dry2.stdout)")
        #expect(try e.remote() == between)
        #expect(try e.local() == localBetween)

        let (live2, record2) = try e.run("contacts-push")
        #expect(live2.status == 0, "\(live2.stdout)\(live2.stderr)")
        #expect(Self.counts(record2) == [2, 1, 1, 0, 1, 0], "\(live2.stdout)")
        #expect(try e.api("GET", "/_control/stats")["throttled"] == 1)
        let dlq2 = try e.flowrun(["dlq", "list"]).stdout
        #expect(dlq2.components(separatedBy: "parked").count - 1 == 2, "\(dlq2)")

        // Nothing changed since: nothing is read, nothing sent.
        let (live3, record3) = try e.run("contacts-push")
        #expect(live3.status == 0)
        #expect(Self.counts(record3) == [0, 0, 0, 0, 0, 0] && record3?[.processed] == 0 && record3?[.requests] == 0)

        // Both sides, record by record: every pushed contact is at the API under its reference, with the
        // local values; 4 and 6 are not; the other contact is untouched.
        let remote = try e.remote()
        let local = try e.local()
        let pushed = try refs.references(namespace: "contacts-api", ids: local.keys.map(String.init), by: .local)
        #expect(Set(pushed.map(\.localID)) == ["1", "2", "3", "5"])
        for ref in pushed {
            let contact = remote[ref.remoteID] ?? nil
            let row = local[Int(ref.localID) ?? 0] ?? []
            #expect(contact["email"] == row[0] && contact["name"] == row[1], "\(ref.localID): \(contact) vs \(row)")
            #expect(contact["external_id"] == .string(ref.localID))
            #expect(contact["updated_at"].stringValue == ref.remoteVersion)
        }
        #expect(remote.count == 5)
        #expect(remote[other["id"].stringValue ?? ""] == other)
    }
}
