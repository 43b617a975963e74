import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// flows/examples/{github-issues,stripe-customers,offset-orders}.yaml end to end: each flow, copied into a
/// temporary directory (its SQLite file lands beside it), run by the real flowrun binary against a local
/// server speaking its API (example_apis.py), into SQLite and, with FLOWRUN_TEST_DATABASE_URL, PostgreSQL.
/// Rows are compared exactly; a second run after the source changed fetches and writes only the changes.
@Suite(.serialized, .enabled(if: PythonServer.python != nil, "\(PythonServer.skipReason)"))
struct ExampleFlowsTests {
    static let postgres = ProcessInfo.processInfo.environment["FLOWRUN_TEST_DATABASE_URL"] != nil

    /// A temporary directory with one example flow, the API's data file and the server.
    final class Example {
        let dir: URL
        let flow: String
        let databaseURL: String?
        let server: PythonServer
        var port: Int { server.port }
        var data: [String: Value]

        init(_ name: String, databaseURL: String?, data: [String: Value]) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-ex-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            flow = dir.appendingPathComponent("\(name).yaml").path
            try FileManager.default.copyItem(
                atPath: CLITests.repo.appendingPathComponent("flows/examples/\(name).yaml").path, toPath: flow)
            self.databaseURL = databaseURL
            var all: [String: Value] = [
                "token": "t0k", "repo": ["o", "r"], "issues": [], "customers": [], "orders": [],
            ]
            for (k, v) in data { all[k] = v }
            self.data = all
            try Self.write(all, to: dir)
            server = try PythonServer([
                URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("example_apis.py")
                    .path,
                dir.appendingPathComponent("data.json").path,
            ])
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: dir)
        }

        func write() throws { try Self.write(data, to: dir) }

        static func write(_ data: [String: Value], to dir: URL) throws {
            try JSON.serialize(.object(Value.Object(uniqueKeysWithValues: data.map { ($0.key, $0.value) })))
                .write(to: dir.appendingPathComponent("data.json"), atomically: true, encoding: .utf8)
        }

        func run() throws -> CLITests.Result {
            var env = ProcessInfo.processInfo.environment
            env["API_BASE_URL"] = "http://127.0.0.1:\(port)"
            env["API_TOKEN"] = "t0k"
            env["DATABASE_URL"] = databaseURL
            return try CLITests.run(
                [flow, "--once", "--state", dir.appendingPathComponent("state.db").path], in: dir, environment: env)
        }

        func query(_ sql: String, sqlite file: String) throws -> [[Value]] {
            if let databaseURL { return try PostgresTesting.query(databaseURL, sql) }
            return try SQLiteConnection(path: dir.appendingPathComponent(file).path).query(sql, []).rows
        }

        func stats() throws -> Value {
            try JSON.parse(try CLITests.http("GET", "http://127.0.0.1:\(port)/_stats").body)
        }
    }

    static func databases() throws -> [String?] {
        postgres ? [nil, try PostgresTesting.freshDatabase(prefix: "ex")] : [nil]
    }

    static func issue(_ i: Int, updated: String, label: String? = nil) -> Value {
        [
            "id": .int(1000 + i), "title": .string("Issue \(i)"), "state": i % 3 == 0 ? "closed" : "open",
            "labels": .array(label.map { [["name": .string($0)]] } ?? []), "updated_at": .string(updated),
        ]
    }

    /// 120 issues in three Link-header pages; then one issue changes and one is added: the second run asks
    /// `since` the newest issue it saw (inclusive: that one again) and writes the two changes.
    @Test func githubIssues() throws {
        for url in try Self.databases() {
            let issues = (0..<120).map { i in
                Self.issue(
                    i, updated: String(format: "2024-03-%02dT%02d:00:00Z", 1 + i / 24, i % 24),
                    label: i % 2 == 1 ? "bug" : nil)
            }
            let e = try Example("github-issues", databaseURL: url, data: ["issues": .array(issues)])
            let first = try e.run()
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)\nserver: \(e.server.log)")
            #expect(
                first.stdout.contains("created 120  updated 0  unchanged 0  skipped 0  failed 0  pages 3"),
                "\(first.stdout)")
            let select =
                url == nil
                ? "SELECT id, title, state, labels, updated_at FROM issues ORDER BY id"
                : "SELECT id, title, state, labels::text, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM issues ORDER BY id"
            func expected(_ issues: [Value]) -> [[Value]] {
                issues.map { i in
                    [
                        i["id"], i["title"], i["state"], .string(i["labels"].arrayValue!.isEmpty ? "[]" : #"["bug"]"#),
                        i["updated_at"],
                    ]
                }.sorted { ($0[0].intValue ?? 0) < ($1[0].intValue ?? 0) }
            }
            #expect(try e.query(select, sqlite: "github-issues.db") == expected(issues))

            var changed = issues
            changed[5] = Self.issue(5, updated: "2024-03-06T00:00:00Z", label: "bug")
            changed.append(Self.issue(120, updated: "2024-03-06T01:00:00Z"))
            e.data["issues"] = .array(changed)
            try e.write()
            let second = try e.run()
            #expect(second.status == 0, "\(second.stdout)\(second.stderr)\nserver: \(e.server.log)")
            // Issue 119 (the cursor, inclusive), the changed issue 5 and the new 120: one page.
            #expect(
                second.stdout.contains("created 1  updated 1  unchanged 1  skipped 0  failed 0  pages 1"),
                "\(second.stdout)")
            #expect(try e.query(select, sqlite: "github-issues.db") == expected(changed))
        }
    }

    static func customer(_ i: Int, plan: String = "free") -> Value {
        [
            "id": .string(String(format: "cus_%03d", i)), "email": .string("c\(i)@example.com"),
            "name": .string("Customer \(i)"), "created": .int(1_700_000_000 + i * 60),
            "metadata": ["plan": .string(plan)],
        ]
    }

    /// 230 customers, newest first, in three pages of 100 by `starting_after`; then 5 new ones: the second
    /// run asks only for customers created after the newest it saw. No request drew a 429.
    @Test func stripeCustomers() throws {
        for url in try Self.databases() {
            let customers = (0..<230).map { Self.customer($0) }
            let e = try Example("stripe-customers", databaseURL: url, data: ["customers": .array(customers)])
            let first = try e.run()
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)\nserver: \(e.server.log)")
            #expect(
                first.stdout.contains("created 230  updated 0  unchanged 0  skipped 0  failed 0  pages 3"),
                "\(first.stdout)")
            let select = "SELECT id, email, name, created, metadata FROM customers ORDER BY id"
            func expected(_ customers: [Value]) -> [[Value]] {
                customers.map { c in
                    [c["id"], c["email"], c["name"], c["created"], .string(JSON.serialize(c["metadata"]))]
                }
            }
            #expect(try e.query(select, sqlite: "customers.db") == expected(customers))

            let more = customers + (230..<235).map { Self.customer($0, plan: "pro") }
            e.data["customers"] = .array(more)
            try e.write()
            let second = try e.run()
            #expect(second.status == 0, "\(second.stdout)\(second.stderr)\nserver: \(e.server.log)")
            #expect(second.stdout.contains("processed 5  created 5  updated 0  unchanged 0"), "\(second.stdout)")
            #expect(try e.query(select, sqlite: "customers.db") == expected(more))
            #expect(try e.stats()["throttled"] == 0)
        }
    }

    static func order(_ i: Int, status: String = "paid") -> Value {
        [
            "id": .int(i + 1), "customer_id": .string(String(format: "cus_%03d", i % 50)),
            "amount_cents": .int(100 * i + 99), "status": .string(status), "updated_at": "2024-04-01T00:00:00Z",
        ]
    }

    /// 250 orders by offset (100, 100, 50: `total` ends it); then two are refunded: the second run reads the
    /// API again (it has no change filter) and writes only those two.
    @Test func offsetOrders() throws {
        for url in try Self.databases() {
            let orders = (0..<250).map { Self.order($0) }
            let e = try Example("offset-orders", databaseURL: url, data: ["orders": .array(orders)])
            let first = try e.run()
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)\nserver: \(e.server.log)")
            #expect(
                first.stdout.contains("created 250  updated 0  unchanged 0  skipped 0  failed 0  pages 3"),
                "\(first.stdout)")
            let select =
                url == nil
                ? "SELECT id, customer_id, amount_cents, status, updated_at FROM orders ORDER BY id"
                : "SELECT id, customer_id, amount_cents, status, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM orders ORDER BY id"
            func expected(_ orders: [Value]) -> [[Value]] {
                orders.map { o in [o["id"], o["customer_id"], o["amount_cents"], o["status"], o["updated_at"]] }
            }
            #expect(try e.query(select, sqlite: "orders.db") == expected(orders))

            var changed = orders
            changed[7] = Self.order(7, status: "refunded")
            changed[201] = Self.order(201, status: "refunded")
            e.data["orders"] = .array(changed)
            try e.write()
            let second = try e.run()
            #expect(second.status == 0, "\(second.stdout)\(second.stderr)\nserver: \(e.server.log)")
            #expect(second.stdout.contains("created 0  updated 2  unchanged 248"), "\(second.stdout)")
            #expect(try e.query(select, sqlite: "orders.db") == expected(changed))
        }
    }
}
