import Flowrun
import Foundation

/// Cluster duties of a `serve` replica, on the scheduler loop: every `LeaseTiming.sweepEvery` it sweeps
/// the flows' leases for expired ones (their node died or froze), marks their runs `abandoned` and starts
/// rescue runs (`run.onAbandoned: retry`), and publishes itself in the replica registry.
public enum ClusterRegistry {
    /// The registry lives under this pseudo-flow of the state store, one `node/<id>` key per replica.
    public static let flow = "_cluster"

    public static func key(_ node: String) -> String { "node/" + node }

    /// A replica's registry entry.
    public static func entry(node: String, version: String, now: Int, runs: [String], sweepEvery: Int) -> Value {
        [
            "node": .string(node), "version": .string(version), "heartbeat": .int(now),
            "runs": .array(runs.map { .string($0) }), "expires": .int(now + 3 * sweepEvery),
        ]
    }

    /// The replicas as `GET /api/cluster` and `flowrun cluster` show them: live first, then by node id.
    public static func replicas(_ store: any StateStore, now: Int) throws -> [Value] {
        try store.entries(flow: flow, prefix: "node/").map { e -> Value in
            var o = e.value.objectValue ?? [:]
            if let beat = o["heartbeat"]?.intValue { o["lastHeartbeat"] = .string(Time.rfc3339(nanos: beat)) }
            o["alive"] = .bool((o["expires"]?.intValue ?? 0) >= now)
            o["heartbeat"] = nil
            o["expires"] = nil
            return .object(o)
        }
        .sorted {
            ($0["alive"] == true ? 0 : 1, $0["node"].stringValue ?? "") < (
                $1["alive"] == true ? 0 : 1, $1["node"].stringValue ?? ""
            )
        }
    }
}

/// What the sweep does with one flow's leases: pure, from the stored values and the clock.
public enum LeaseSweep {
    public struct Expired: Equatable, Sendable {
        public let key: String
        public let held: Value
        public let run: String
    }

    public static func expired(_ entries: [(key: String, value: Value)], now: Int) -> [Expired] {
        entries.compactMap { e in
            guard e.key.hasPrefix("lock/"), let run = e.value["run"].stringValue,
                LeaseRules.isExpired(e.value, now: now)
            else { return nil }
            return Expired(key: e.key, held: e.value, run: run)
        }
    }

    /// Whether an abandoned run is rescued: `run.onAbandoned: retry` for runs the schedule (or an earlier
    /// retry or rescue) started; manual and webhook runs are only marked (their caller saw them fail).
    public static func rescues(_ trigger: RunRecord.Trigger, policy: RunPolicy.OnAbandoned) -> Bool {
        policy == .retry && [.scheduled, .retry, .rescue].contains(trigger)
    }
}

extension Service {
    /// Sweeps and publishes when due (the scheduler loop calls it every pass).
    func clusterDutiesIfDue(now: Int) {
        guard cluster.due(now: now, every: options.leaseTiming.sweepEvery) else { return }
        publish(now: now)
        sweepLeases(now: now)
    }

    /// Writes this replica's registry entry.
    func publish(now: Int) {
        let runs = flows.flatMap { $0.runtime.activeRunIDs }.sorted()
        let entry = ClusterRegistry.entry(
            node: options.node, version: options.version, now: now, runs: runs,
            sweepEvery: options.leaseTiming.sweepEvery)
        try? store.set(flow: ClusterRegistry.flow, key: ClusterRegistry.key(options.node), value: entry)
    }

    /// Leaves the registry (graceful stop).
    func unpublish() { try? store.delete(flow: ClusterRegistry.flow, key: ClusterRegistry.key(options.node)) }

    /// Takes every expired lease of every loaded flow: the one replica whose compare-and-set wins marks
    /// the run `abandoned` (owner, last heartbeat) and, per `run.onAbandoned`, starts its rescue run.
    /// Returns the ids of the runs it marked.
    @discardableResult
    func sweepLeases(now: Int) -> [String] {
        var marked: [String] = []
        for service in flows {
            guard let entries = try? store.entries(flow: service.name, prefix: "lock/") else { continue }
            for lease in LeaseSweep.expired(entries.map { ($0.key, $0.value) }, now: now) {
                guard
                    (try? store.compareAndSet(flow: service.name, key: lease.key, expected: lease.held, new: nil))
                        == true
                else { continue }
                keepFence(lease, flow: service.name)
                let reason = LeaseRules.abandonReason(lease.held)
                options.logger.log(.warning, reason, flow: service.name, node: nil, run: lease.run)
                guard var record = try? store.run(id: lease.run), record.status == .running else { continue }
                record.status = .abandoned
                record.reason = reason
                record.completedAt = now
                try? store.save(record)
                SharedHealth.record(.abandoned, flow: service.name, store: store, now: now)
                marked.append(record.id)
                let policy = service.runtime.program.policy.onAbandoned
                guard LeaseSweep.rescues(record.trigger, policy: policy),
                    let start = service.runtime.start(replaying: record)
                else { continue }
                metrics.cluster(.rescued, flow: service.name)
                options.logger.log(
                    .info, "starting a rescue run of \(record.id)", flow: service.name, node: nil, run: record.id)
                service.began()
                let parent = record.id
                Thread.detachNewThread { self.execute(service, start, trigger: .rescue, parent: parent) }
            }
        }
        return marked
    }

    /// The fence counter stays above the swept lease's token, so the next holder's token is greater.
    func keepFence(_ lease: LeaseSweep.Expired, flow: String) {
        let key = LeaseRules.counterKey(lease.key)
        let counter = (try? store.get(flow: flow, key: key)).flatMap { $0 }
        let token = LeaseRules.nextFence(counter: counter, replacing: lease.held) - 1
        if token > counter?.intValue ?? 0 { try? store.set(flow: flow, key: key, value: .int(token)) }
    }
}

/// When the replica's cluster duties next run.
final class ClusterClock: @unchecked Sendable {
    private let lock = NSLock()
    private var next: Int?

    func due(now: Int, every: Int) -> Bool {
        lock.withLock {
            guard now >= next ?? now else { return false }
            next = now + every
            return true
        }
    }
}
