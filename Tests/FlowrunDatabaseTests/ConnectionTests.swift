import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunDatabase

/// Database nodes that name one connection share its settings and one driver (pool).
@Suite struct ConnectionTests {
    static func flow(name: String, connection: String) -> String {
        """
        flow: \(name)
        connections:
          db:
        \(connection)
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          ddl: {component: database, connection: db}
          write: {component: database, connection: db, concurrency: 2}
          read: {component: database, connection: db}
          failed: {component: modify}
        edges:
          - {from: start.out, to: ddl.request, data: {query: 'CREATE TABLE IF NOT EXISTS conn_t (id TEXT PRIMARY KEY, n INT)'}}
          - {from: ddl.response, to: write.request, data: {operation: upsert, table: conn_t, key: id, rows: [{id: a, n: 1}, {id: b, n: 2}]}}
          - {from: write.response, to: read.request, data: {query: 'SELECT count(*) AS c FROM conn_t'}}
          - {from: ddl.error, to: failed.in}
          - {from: write.error, to: failed.in}
          - {from: read.error, to: failed.in}
        """
    }

    @Test func nodesOfASQLiteConnectionShareOneDriver() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conn-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let name = "conn-sqlite-\(UInt32.random(in: 0...UInt32.max))"
        let h = try FlowHarness(
            Self.flow(name: name, connection: "    kind: database\n    driver: sqlite\n    url: 'sqlite:\(path)'"))
        let record = h.run()
        #expect(record.status == .completed, "\(record.errors)")
        #expect(h.messages("read.response").first?["rows"][0]["c"] == 2)
        #expect(Database.Drivers.shared.pools(scope: name + "/db") == 1)
    }

    @Test(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL"))
    func nodesOfAPostgresConnectionShareOnePool() throws {
        let url = try PostgresTesting.freshDatabase(prefix: "conn")
        let name = "conn-pg-\(UInt32.random(in: 0...UInt32.max))"
        let h = try FlowHarness(
            Self.flow(name: name, connection: "    kind: database\n    url: '\(url)'\n    maxOpenConns: 2"))
        let record = h.run()
        #expect(record.status == .completed, "\(record.errors)")
        #expect(h.messages("read.response").first?["rows"][0]["c"] == 2)
        #expect(Database.Drivers.shared.pools(scope: name + "/db") == 1)
    }

    /// A node's own setting wins over its connection's; the connection's others still apply.
    @Test func aNodeSettingOverridesItsConnection() throws {
        let report = FlowChecker.check(
            path: "o.yaml",
            text: """
                flow: o
                connections:
                  db: {kind: database, driver: sqlite, url: 'sqlite:a.db', maxOpenConns: 2}
                nodes:
                  start: {component: ticker, settings: {interval: 1h}}
                  w: {component: database, connection: db, settings: {url: 'sqlite:b.db'}}
                edges:
                  - {from: start.out, to: w.request, data: {query: SELECT 1}}
                """, registry: .standard)
        let node = try #require(report.flow?.node("w"))
        #expect(node.connection == "db")
        #expect(node.settings["url"]?.constantValue == "sqlite:b.db")
        #expect(node.settings["driver"]?.constantValue == "sqlite")
        #expect(node.settings["maxOpenConns"]?.constantValue == 2)
    }
}
