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
    /// The flows, shared with bench/cluster-soak.sh: a 1 s ticker writing one row per run into `ticks`,
    /// and a slow flow (4 s every 10 s) committing a cursor.
    static let flows = CLITests.repo.appendingPathComponent("bench/flows/cluster")

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
            for name in ["ticks.yaml", "slow.yaml"] {
                try FileManager.default.copyItem(
                    at: ClusterTests.flows.appendingPathComponent(name), to: dir.appendingPathComponent(name))
            }
            url = try database ?? PostgresTesting.freshDatabase(prefix: "cluster")
            _ = try PostgresTesting.query(
                url, try String(contentsOf: ClusterTests.flows.appendingPathComponent("ticks.sql"), encoding: .utf8))
            store = try PostgresStore(url: url)
        }

        /// Starts the replicas at the same instant (each in its own UTS namespace as root).
        /// The first replica serves the admin API here (token `s3cret`).
        let adminPort = freePort()  // a random pick in the ephemeral range met outgoing connections: node-a exited

        mutating func start(_ nodes: [String]) throws {
            let processes = nodes.enumerated().map { i, node -> Process in
                let p = Process()
                let admin =
                    i == 0 ? ["--admin", "127.0.0.1:\(adminPort)", "--admin-token", "s3cret"] : ["--admin", "off"]
                let serve =
                    [ClusterTests.binary, "serve", dir.path] + admin + [
                        "--state", url, "--grace", "10", "--lease-ttl", "2s", "--lease-renewal", "500ms",
                    ]
                // Its own host name as root (scripts/lib/cluster-replica.sh, shared with the soak).
                p.executableURL = CLITests.repo.appendingPathComponent("scripts/lib/cluster-replica.sh")
                p.arguments = [node] + serve
                var env = ProcessInfo.processInfo.environment
                env["FLOWRUN_NODE_ID"] = node
                env["CLUSTER_DB"] = url
                env["FLOWRUN_TEST_DATABASE_URL"] = nil
                p.environment = env
                // Each replica's output goes to <dir>/<node>.log, shown when a check about it fails.
                let log = dir.appendingPathComponent("\(node).log")
                FileManager.default.createFile(atPath: log.path, contents: nil)
                let handle = try? FileHandle(forWritingTo: log)
                p.standardOutput = handle ?? FileHandle.nullDevice
                p.standardError = handle ?? FileHandle.nullDevice
                return p
            }
            for p in processes { try p.run() }
            replicas += zip(nodes, processes).map { Replica(node: $0, process: $1) }
        }

        func replica(_ node: String?) -> Replica? { replicas.first { $0.node == node } }

        /// The last lines a replica printed (its log file), for the message of a failed check.
        func log(_ node: String) -> String {
            let text = (try? String(contentsOf: dir.appendingPathComponent("\(node).log"), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").suffix(20).joined(separator: "\n")
        }

        /// Per slot second (`run.slot`), the scheduled runs that fired it, from the ticker's table. A slot
        /// whose only row is its rescue run's (the killed replica died before its insert) counts 0 here and
        /// is in `rescued()`: executed at least once, not a second firing of the slot.
        func slots() throws -> [Int: Int] {
            var out: [Int: Int] = [:]
            let sql = "SELECT slot, count(*) FILTER (WHERE trigger = 'scheduled') FROM ticks GROUP BY slot"
            for row in try PostgresTesting.query(url, sql) {
                out[row[0].intValue ?? 0] = row[1].intValue ?? 0
            }
            return out
        }

        /// Waits for a run of the slow flow in progress; the replica holding it.
        func holderOfASlowRun() throws -> (run: RunRecord, replica: Replica) {
            var held: RunRecord?
            #expect(
                try CLITests.waitFor(20) {
                    held = try runs("slow").first { $0.status == .running }
                    return held != nil
                })
            let run = try #require(held)
            return (run, try #require(replica(run.node)))
        }

        func runs(_ flow: String) throws -> [RunRecord] { try store.runs(flow: flow, limit: 200) }

        /// SIGTERM to every live replica; their exit statuses.
        func stopAll() -> [Int32] {
            replicas.filter(\.process.isRunning).map { r in
                kill(r.pid, SIGCONT)
                r.process.terminate()
                return ChildProcess.exitStatus(r.process)
            }
        }

        func cleanUp() {
            for r in replicas where r.process.isRunning {
                kill(r.pid, SIGCONT)
                kill(r.pid, SIGKILL)
                _ = ChildProcess.exitStatus(r.process)
            }
            try? FileManager.default.removeItem(at: dir)
        }
    }

    static var binary: String { CLITests.binary.path }

    /// No slot fired twice and none was lost between the first and the last one seen: also while a replica
    /// that died or froze holding the ticker flow's lease kept the flow busy (those slots are deferred and
    /// fire once its run is abandoned).
    static func expectEverySlotOnce(_ slots: [Int: Int], sourceLocation: SourceLocation = #_sourceLocation) {
        let doubled = slots.filter { $0.value > 1 }.keys.sorted()
        #expect(doubled.isEmpty, "slots fired more than once: \(doubled)", sourceLocation: sourceLocation)
        guard let first = slots.keys.min(), let last = slots.keys.max() else {
            Issue.record("no slot fired", sourceLocation: sourceLocation)
            return
        }
        let lost = (first...last).filter { slots[$0] == nil }
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
        #expect(api.status == 200, "node-a: \(cluster.log("node-a"))")
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
        #expect(statuses == [0, 0, 0], "node-a: \(cluster.log("node-a"))")
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
        let (victim, replica) = try cluster.holderOfASlowRun()
        // Killed while it holds the ticker flow's lease too when that happens within the slow run (0.3 s of
        // every second, on one of three replicas): the slots due until the sweep abandons that run are
        // deferred, then fired.
        _ = try CLITests.waitFor(3) {
            try cluster.store.get(flow: "ticks", key: "lock/")?["node"].stringValue == replica.node
        }
        kill(replica.pid, SIGKILL)
        _ = ChildProcess.exitStatus(replica.process)
        let killedAt = Date()
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
        Self.expectEverySlotOnce(try cluster.slots())
    }

    /// (c) SIGSTOP of the replica holding a slow run for 2 x TTL, then SIGCONT: the zombie's commit is
    /// refused, it ends `abandoned` ("lease lost") and its cursor never overwrites the newer one.
    @Test func aFrozenReplicaCannotCommitAfterItThaws() throws {
        var cluster = try Cluster()
        defer { cluster.cleanUp() }
        try cluster.start(["node-a", "node-b", "node-c"])
        let (zombie, replica) = try cluster.holderOfASlowRun()
        kill(replica.pid, SIGSTOP)
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
        Self.expectEverySlotOnce(try cluster.slots())
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
