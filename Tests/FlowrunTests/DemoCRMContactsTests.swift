import Flowrun
import FlowrunTesting
import Foundation
import Testing

@testable import FlowrunRuntime

/// The demo CRM's contact endpoints (flows/mock-crm.yaml: POST /contacts, GET and PATCH /contacts/:id,
/// kept in its state store) take contacts-push's writes as the contacts test API does: creates, updates,
/// 409 for a taken email, 404 for an unknown id.
@Suite struct DemoCRMContactsTests {
    @Test func contactsPushAgainstTheDemoCRM() throws {
        let e = try SyncEnvironment()
        try FileManager.default.createDirectory(
            at: e.dir.appendingPathComponent(".flowrun"), withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: e.dir.appendingPathComponent(".flowrun/contacts.db").path)
        _ = try db.query(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, name TEXT, updated_at TEXT NOT NULL)", [])
        _ = try db.query(
            "INSERT INTO contacts VALUES (1, 'ann@x.com', 'Ann', '2025-01-01T00:00:01Z'), "
                + "(2, 'bob@x.com', 'Bob', '2025-01-01T00:00:02Z'), (3, 'ann@x.com', 'Ann Too', '2025-01-01T00:00:03Z')",
            [])
        let flow = CLITests.repo.appendingPathComponent("flows/contacts-push.yaml").path
        let state = e.dir.appendingPathComponent("push.db").path
        func push() throws -> RunRecord? {
            _ = try CLITests.run([flow, "--once", "--state", state], in: e.dir, environment: e.env)
            return try SQLiteStore(path: state).runs(flow: "contacts-push", limit: 1).first
        }
        let first = try #require(try push())
        #expect(first[.created] == 2 && first[.updated] == 0 && first[.failed] == 1)
        #expect(first.errors.map(\.code) == ["http_409"])
        _ = try db.query("UPDATE contacts SET name = 'Bob B', updated_at = '2025-02-01T00:00:00Z' WHERE id = 2", [])
        let second = try #require(try push())
        #expect(second[.created] == 0 && second[.updated] == 1 && second[.failed] == 0)
        let ref = try #require(
            try SQLiteStore(path: state).references(namespace: "contacts-api", ids: ["2"], by: .local).first)
        let contact = try CLITests.http(
            "GET", "http://127.0.0.1:\(e.port)/contacts/\(ref.remoteID)",
            headers: ["Authorization": "Bearer demo-token"])
        #expect(contact.status == 200)
        #expect(try JSON.parse(contact.body)["name"] == "Bob B")
        let missing = try CLITests.http(
            "GET", "http://127.0.0.1:\(e.port)/contacts/c99", headers: ["Authorization": "Bearer demo-token"])
        #expect(missing.status == 404)
    }
}
