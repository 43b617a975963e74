import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunDatabase

/// Pooled sessions that the server ended (a restart, `pg_terminate_backend`: "terminating connection due
/// to administrator command") are replaced before the next statement is sent, so no request fails, and no
/// write that cannot be repeated safely is sent twice.
@Suite(.enabled(if: postgresURL != nil, "needs FLOWRUN_TEST_DATABASE_URL (scripts/test starts a cluster)"))
struct ConnectionRecoveryTests {
    let table = "recovery_" + UUID().uuidString.prefix(8).lowercased()

    static func with(_ url: String, applicationName: String) -> String {
        url + (url.contains("?") ? "&" : "?") + "application_name=\(applicationName)"
    }

    /// Ends the sessions and waits until their backends are gone (the timeout argument makes
    /// pg_terminate_backend wait), so their FATAL message and end of stream are on the sockets.
    static func terminate(where condition: String) throws {
        _ = try PostgresTesting.query(
            postgresURL!, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE \(condition)")
    }

    func run(_ connection: PostgresDriver.Connection, _ message: Value) throws -> DatabaseResult {
        try connection.run(DatabaseRequest(message, boolsAsInts: false), dryRun: false)
    }

    @Test func everyPooledSessionEndedByTheServerIsReplacedBeforeAWriteIsSent() throws {
        let driver = PostgresDriver(url: postgresURL!, size: 3)
        let c = driver.connections
        _ = try run(c[0], ["query": .string("CREATE TABLE \(table) (v INT NOT NULL)")])
        var pids: [Value] = []
        for connection in c {
            pids.append(try run(connection, ["query": "SELECT pg_backend_pid() AS pid"]).rows[0]["pid"])
        }
        try Self.terminate(where: "pid IN (\(pids.map(\.interpolated).joined(separator: ", ")))")

        // None of these may be repeated blindly after it was sent: an autocommitted insert, a pipelined
        // batch, a transaction. Each goes out on a new session and is applied exactly once.
        _ = try run(c[0], ["query": .string("INSERT INTO \(table) (v) VALUES ($1)"), "parameters": [1]])
        _ = try run(
            c[1],
            [
                "operation": "batch", "query": .string("INSERT INTO \(table) (v) VALUES ($1)"),
                "parameters": [[2], [3]],
            ])
        _ = try run(
            c[2],
            ["query": .string("INSERT INTO \(table) (v) VALUES ($1)"), "parameters": [4], "transaction": true])

        let rows = try run(c[0], ["query": .string("SELECT v FROM \(table) ORDER BY v")]).rows
        #expect(rows.map { $0["v"] } == [1, 2, 3, 4])
        for (connection, old) in zip(c, pids) {
            #expect(try run(connection, ["query": "SELECT pg_backend_pid() AS pid"]).rows[0]["pid"] != old)
        }
        _ = try run(c[0], ["query": .string("DROP TABLE \(table)")])
    }

    /// The state store's own session: reads, saves of run records and claims go through after it ended.
    @Test func theStateStoreReconnectsAfterItsSessionEnded() throws {
        let name = "store_" + UUID().uuidString.prefix(8).lowercased()
        let store = try PostgresStore(url: Self.with(postgresURL!, applicationName: name))
        var record = RunRecord(id: "r-\(name)", flow: name, trigger: .manual, startedAt: 1)
        try store.save(record)
        try Self.terminate(where: "application_name = '\(name)'")
        record.status = .failed
        try store.save(record)
        #expect(try store.run(id: record.id)?.status == .failed)
        try Self.terminate(where: "application_name = '\(name)'")
        #expect(try store.claim(flow: name, key: "slot/start", due: 10))
        try Self.terminate(where: "application_name = '\(name)'")
        #expect(try store.compareAndSet(flow: name, key: "k", expected: nil, new: 1))
        #expect(try store.get(flow: name, key: "k") == 1)
    }
}

/// A real `pg_ctl restart -m fast` between two runs of a flow: the run after the restart succeeds on its
/// first try (no retries configured), on the pooled connections of the run before it.
@Suite(.enabled(if: postgresURL != nil, "needs a PostgreSQL installation"))
struct ServerRestartRecoveryTests {
    @Test func theFirstRunAfterARestartSucceeds() throws {
        let cluster = try PrivateCluster()
        _ = try PostgresTesting.query(cluster.url, "CREATE TABLE t (v INT NOT NULL)")
        let h = try FlowHarness(
            """
            flow: after-restart
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              db: {component: database, settings: {url: '\(cluster.url)', maxOpenConns: 2, retryCount: 0}}
              failed: {component: modify}
            edges:
              - {from: start.out, to: db.request, data: {query: 'INSERT INTO t (v) VALUES ($1)', parameters: [1]}}
              - {from: db.error, to: failed.in}
            """)
        #expect(h.run().status == .completed)
        try cluster.restart()
        let record = h.run()
        #expect(record.status == .completed, "\(h.messages("failed.out"))")
        #expect(try PostgresTesting.query(cluster.url, "SELECT count(*) FROM t") == [[2]])
    }
}

/// Which server errors end the session (the pool starts a new one on next use) and which end a statement.
struct ConnectionLevelErrorTests {
    @Test(arguments: [
        ("08006", true), ("08001", true), ("08P01", true), ("57P01", true), ("57P02", true), ("57P03", true),
        ("57014", false), ("40001", false), ("23505", false), ("53300", false), ("", false),
    ])
    func sessionEndingStates(state: String, endsSession: Bool) {
        #expect(PostgresDriver.Connection.isConnectionLevel(state) == endsSession)
    }
}
