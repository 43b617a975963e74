import Flowrun
import FlowrunDatabase
import Foundation
import FlowrunTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three `flowrun serve` replicas on one PostgreSQL state store, each with its own FLOWRUN_NODE_ID (and,
/// as root, its own host name), a 1 s ticker writing one row per run into `ticks` and a slow flow with a
/// cursor. Leases are short (TTL 2 s, renewed every 0.5 s). Skipped without FLOWRUN_TEST_DATABASE_URL.
@Suite(.serialized, .enabled(if: PostgresTesting.url != nil)) struct ClusterTests {
    static let ticks = """
        flow: ticks
        nodes:
          tick: {component: ticker, settings: {interval: 1s}}
          db: {component: database, settings: {url: <<env.CLUSTER_DB>>}}
          failed: {component: log}
        edges:
          - from: tick.out
            to: db.request
            data:
              operation: execute
              query: INSERT INTO ticks (slot, node, run, trigger) VALUES ($1::bigint / 1000000000, $2, $3, $4)
              parameters: <<[run.startedAt, run.node, run.id, run.trigger]>>
          - {from: db.error, to: failed.in}
        """

    static let slow = """
        flow: slow
        nodes:
          tick: {component: ticker, settings: {interval: 10s}}
          wait: {component: delay, settings: {duration: 4s}}
          cursor: {component: state, settings: {key: cursor, reduce: last}}
        edges:
          - {from: tick.out, to: wait.in}
          - {from: wait.out, to: cursor.checkpoint, data: {value: <<run.id>>}}
        """

    final class Replica {
        let node: String
        let process: Process
        init(node: String, process: Process) {
            self.node = node
            self.process = process
        }
        var pid: Int32 { process.processIdentifier }
    }

    /// A state store and a database of the test's own, with the flows in a fresh directory.
    struct Cluster {
        let dir: URL
        let url: String
        let store: PostgresStore
        var replicas: [Replica] = []

        /// `database`: a database URL of the test's own (default: a fresh one on the shared test server).
        init(database: String? = nil) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-cluster-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try ClusterTests.ticks.write(
                to: dir.appendingPathComponent("ticks.yaml"), atomically: true, encoding: .utf8)
            try ClusterTests.slow.write(to: dir.appendingPathComponent("slow.yaml"), atomically: true, encoding: .utf8)
            url = try database ?? PostgresTesting.freshDatabase(prefix: "cluster")
            _ = try PostgresTesting.query(
                url, "CREATE TABLE ticks (slot BIGINT NOT NULL, node TEXT, run TEXT, trigger TEXT)")
            store = try PostgresStore(url: url)
        }

        /// Starts the replicas at the same instant (each in its own UTS namespace as root).
        /// The first replica serves the admin API here (token `s3cret`).
        let adminPort = Int.random(in: 40_001...50_000)

        mutating func start(_ nodes: [String]) throws {
            let processes = nodes.enumerated().map { i, node -> Process in
                let p = Process()
                let admin =
                    i == 0 ? ["--admin", "127.0.0.1:\(adminPort)", "--admin-token", "s3cret"] : ["--admin", "off"]
                let serve =
                    [ClusterTests.binary, "serve", dir.path] + admin + [
                        "--state", url, "--grace", "10", "--lease-ttl", "2s", "--lease-renewal", "500ms",
                    ]
                if getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") {
                    p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
                    p.arguments = ["--uts", "sh", "-c", "hostname host-\(node) && exec \"$@\"", "sh"] + serve
                } else {
                    p.executableURL = URL(fileURLWithPath: serve[0])
                    p.arguments = Array(serve.dropFirst())
                }
                var env = ProcessInfo.processInfo.environment
                env["FLOWRUN_NODE_ID"] = node
                env["CLUSTER_DB"] = url
                env["FLOWRUN_TEST_DATABASE_URL"] = nil
                p.environment = env
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                return p
            }
            for p in processes { try p.run() }
            replicas += zip(nodes, processes).map { Replica(node: $0, process: $1) }
        }

        func replica(_ node: String?) -> Replica? { replicas.first { $0.node == node } }

        /// Scheduled runs per slot second, from the ticker's table (a rescue run re-runs a killed slot's run
        /// at a later second: at least once, not a second firing of a slot).
        func slots() throws -> [Int: Int] {
            var out: [Int: Int] = [:]
            let sql = "SELECT slot, count(*) FROM ticks WHERE trigger = 'scheduled' GROUP BY slot"
            for row in try PostgresTesting.query(url, sql) {
                out[row[0].intValue ?? 0] = row[1].intValue ?? 0
            }
            return out
        }

        func runs(_ flow: String) throws -> [RunRecord] { try store.runs(flow: flow, limit: 200) }

        /// SIGTERM to every live replica; their exit statuses.
        func stopAll() -> [Int32] {
            replicas.filter(\.process.isRunning).map { r in
                kill(r.pid, SIGCONT)
                r.process.terminate()
                r.process.waitUntilExit()
                return r.process.terminationStatus
            }
        }

        func cleanUp() {
            for r in replicas where r.process.isRunning {
                kill(r.pid, SIGCONT)
                kill(r.pid, SIGKILL)
                r.process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: dir)
        }
    }

    static var binary: String { CLITests.binary.path }

    /// No slot ran twice and none was lost between the first and the last one seen, except in `busy`: the
    /// seconds after a replica died or froze, when it may have held the ticker flow's lease in the middle of
    /// a run (the flow stays busy until the lease expires and is swept; those slots are skipped as overlapping).
    static func expectEverySlotOnce(
        _ slots: [Int: Int], busy: ClosedRange<Int>? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let doubled = slots.filter { $0.value > 1 }.keys.sorted()
        #expect(doubled.isEmpty, "slots fired more than once: \(doubled)", sourceLocation: sourceLocation)
        guard let first = slots.keys.min(), let last = slots.keys.max() else {
            Issue.record("no slot fired", sourceLocation: sourceLocation)
            return
        }
        let lost = (first...last).filter { slots[$0] == nil && busy?.contains($0) != true }
        #expect(lost.isEmpty, "slots lost: \(lost)", sourceLocation: sourceLocation)
    }

    /// (a) cold start of all three at once, then (e) SIGTERM of all: every slot once, exit 0.
    @Test func coldStartFiresEverySlotOnceAndSIGTERMExitsZero() throws {
        var cluster = try Cluster()
        defer { cluster.cleanUp() }
        try cluster.start(["node-a", "node-b", "node-c"])
        #expect(try CLITests.waitFor(20) { try cluster.slots().count >= 8 })
        // Every replica is listed, by the admin API and by `flowrun cluster`.
        let api = try CLITests.http(
            "GET", "http://127.0.0.1:\(cluster.adminPort)/api/cluster", headers: ["Authorization": "Bearer s3cret"])
        #expect(api.status == 200)
        let listed = try JSON.parse(api.body)
        #expect(listed["node"] == "node-a")
        #expect(
            listed["replicas"].arrayValue?.compactMap { $0["node"].stringValue }.sorted() == [
                "node-a", "node-b", "node-c",
            ])
        #expect(listed["replicas"].arrayValue?.allSatisfy { $0["alive"] == true && $0["version"] == "0.1.0" } == true)
        let cli = try CLITests.run(["cluster", "--state", cluster.url])
        #expect(cli.status == 0)
        #expect(cli.stdout.contains("node-b  alive  version 0.1.0"), "\(cli.stdout)")
        let statuses = cluster.stopAll()
        #expect(statuses == [0, 0, 0])
        let slots = try cluster.slots()
        Self.expectEverySlotOnce(slots)
        let nodes = Set(try PostgresTesting.query(cluster.url, "SELECT DISTINCT node FROM ticks").map { $0[0] })
        #expect(nodes.isSubset(of: ["node-a", "node-b", "node-c"]))
        // Every run record names its node; in-flight runs ended (finished, or cancelled after the grace).
        let records = try cluster.runs("ticks") + cluster.runs("slow")
        #expect(records.allSatisfy { $0.node != nil && $0.status != .running })
        // The replicas left the registry when they stopped.
        #expect(try cluster.store.entries(flow: "_cluster", prefix: "node/").isEmpty)
    }

    /// (b) kill -9 of the replica holding a slow run: abandoned within TTL + one sweep, and its rescue
    /// run completes on another replica; no slot of the ticker doubled or lost.
    @Test func aKilledReplicasRunIsAbandonedAndRescued() throws {
        var cluster = try Cluster()
        defer { cluster.cleanUp() }
        try cluster.start(["node-a", "node-b", "node-c"])
        var held: RunRecord?
        #expect(
            try CLITests.waitFor(20) {
                held = try cluster.runs("slow").first { $0.status == .running }
                return held != nil
            })
        let victim = try #require(held)
        let replica = try #require(cluster.replica(victim.node))
        kill(replica.pid, SIGKILL)
        replica.process.waitUntilExit()
        let killedAt = Date()
        let killSecond = Int(killedAt.timeIntervalSince1970)
        #expect(try CLITests.waitFor(10) { try cluster.store.run(id: victim.id)?.status == .abandoned })
        // TTL (2 s) + one sweep (0.5 s), with slack for a loaded machine.
        #expect(Date().timeIntervalSince(killedAt) < 2 + 0.5 + 2.5)
        let abandoned = try #require(try cluster.store.run(id: victim.id))
        #expect(abandoned.reason?.contains("node \(replica.node)") == true)
        var rescue: RunRecord?
        #expect(
            try CLITests.waitFor(15) {
                rescue = try cluster.runs("slow").first { $0.trigger == .rescue && $0.parentID == victim.id }
                return rescue?.status == .completed
            })
        #expect(rescue?.node != replica.node)
        #expect(cluster.stopAll() == [0, 0])
        // TTL 2 s + one sweep (0.5 s) + slack.
        Self.expectEverySlotOnce(try cluster.slots(), busy: (killSecond - 1)...(killSecond + 4))
    }

    /// (c) SIGSTOP of the replica holding a slow run for 2 x TTL, then SIGCONT: the zombie's commit is
    /// refused, it ends `abandoned` ("lease lost") and its cursor never overwrites the newer one.
    @Test func aFrozenReplicaCannotCommitAfterItThaws() throws {
        var cluster = try Cluster()
        defer { cluster.cleanUp() }
        try cluster.start(["node-a", "node-b", "node-c"])
        var held: RunRecord?
        #expect(
            try CLITests.waitFor(20) {
                held = try cluster.runs("slow").first { $0.status == .running }
                return held != nil
            })
        let zombie = try #require(held)
        let replica = try #require(cluster.replica(zombie.node))
        kill(replica.pid, SIGSTOP)
        let stopSecond = Int(Date().timeIntervalSince1970)
        var cursors: Set<String> = []
        let frozenUntil = Date().addingTimeInterval(4)
        while Date() < frozenUntil {
            if let c = try cluster.store.get(flow: "slow", key: "cursor")?.stringValue { cursors.insert(c) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(replica.pid, SIGCONT)
        #expect(
            try CLITests.waitFor(15) {
                if let c = try cluster.store.get(flow: "slow", key: "cursor")?.stringValue { cursors.insert(c) }
                return try cluster.store.run(id: zombie.id)?.reason == "lease lost"
                    && cluster.runs("slow").contains { $0.parentID == zombie.id && $0.status == .completed }
            })
        let ended = try #require(try cluster.store.run(id: zombie.id))
        #expect(ended.status == .abandoned)
        #expect(ended.reason == "lease lost")
        // A later run of the flow committed its cursor; the zombie's id was never the cursor.
        Thread.sleep(forTimeInterval: 1)
        if let c = try cluster.store.get(flow: "slow", key: "cursor")?.stringValue { cursors.insert(c) }
        #expect(!cursors.contains(zombie.id))
        #expect(!cursors.isEmpty)
        #expect(cluster.stopAll() == [0, 0, 0])
        Self.expectEverySlotOnce(try cluster.slots(), busy: (stopSecond - 1)...(stopSecond + 4))
    }

    /// (d) PostgreSQL restarts under the cluster: the claims that meet a broken connection are not taken
    /// for claims (retried on a new connection, or skipped), so no slot fires twice, and the schedule goes on.
    @Test func aDatabaseRestartFiresNoSlotTwice() throws {
        let server = try PrivateCluster()
        var cluster = try Cluster(database: server.url)
        defer { cluster.cleanUp() }
        try cluster.start(["node-a", "node-b", "node-c"])
        #expect(try CLITests.waitFor(20) { try cluster.slots().count >= 4 })
        let before = try cluster.slots().keys.max() ?? 0
        try server.restart()
        #expect(try CLITests.waitFor(20) { ((try? cluster.slots()) ?? [:]).keys.filter { $0 > before + 1 }.count >= 5 })
        #expect(cluster.stopAll() == [0, 0, 0])
        let doubled = try cluster.slots().filter { $0.value > 1 }.keys.sorted()
        #expect(doubled.isEmpty, "slots fired more than once: \(doubled)")
    }
}
