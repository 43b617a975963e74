import Flowrun
import Foundation

/// Cluster duties of a `serve` replica, on the scheduler loop: every `LeaseTiming.sweepEvery` it sweeps
/// the flows' leases for expired ones (their node died or froze), marks their runs `abandoned` and starts
/// rescue runs (`run.onAbandoned: retry`), and publishes itself in the replica registry.
public enum ClusterRegistry {
    /// The registry lives under this pseudo-flow of the state store, one `node/<id>` key per replica.
    public static let flow = "_cluster"

    public static func key(_ node: String) -> String { "node/" + node }

    /// A replica's registry entry; `started`: when the replica started.
    public static func entry(
        node: String, version: String, now: Int, runs: [String], sweepEvery: Int, started: Int? = nil
    ) -> Value {
        var o: Value.Object = [
            "node": .string(node), "version": .string(version), "heartbeat": .int(now),
            "runs": .array(runs.map { .string($0) }), "expires": .int(now + 3 * sweepEvery),
        ]
        if let started { o["started"] = .int(started) }
        return .object(o)
    }

    /// The replicas as `GET /api/cluster` and `flowrun cluster` show them: live first, then by node id.
    public static func replicas(_ store: any StateStore, now: Int) throws -> [Value] {
        try store.entries(flow: flow, prefix: "node/").map { e -> Value in
            var o = e.value.objectValue ?? [:]
            if let beat = o["heartbeat"]?.intValue { o["lastHeartbeat"] = .string(Time.rfc3339(nanos: beat)) }
            o["alive"] = .bool((o["expires"]?.intValue ?? 0) >= now)
            o["heartbeat"] = nil
            o["expires"] = nil
            o["started"] = o["started"]?.intValue.map { .string(Time.rfc3339(nanos: $0)) }
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
        settleDeferredSlots(now: now)
    }

    /// Writes this replica's registry entry.
    func publish(now: Int) {
        let runs = flows.flatMap { $0.runtime.activeRunIDs }.sorted()
        let entry = ClusterRegistry.entry(
            node: options.node, version: options.version, now: now, runs: runs,
            sweepEvery: options.leaseTiming.sweepEvery, started: startedAt)
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
                service.began(catchUp: true)
                let parent = record.id
                let slot = record.slot
                Thread.detachNewThread { self.execute(service, start, trigger: .rescue, parent: parent, slot: slot) }
            }
        }
        return marked
    }

    /// Whether this replica fires the `emitOnStart` slot of a ticker as the flow starts at `now`
    /// (`StartClaims`): the replicas of the registry and the flow's start claim decide, and a compare-and-set
    /// takes the claim.
    func claimStart(flow: String, node: String, now: Int) -> Bool {
        let window = StartClaims.window(sweepEvery: options.leaseTiming.sweepEvery)
        let replicas: [(flow: String, key: String, value: Value)]
        let stored: Value?
        do {
            replicas = try store.entries(flow: ClusterRegistry.flow, prefix: "node/")
            stored = try store.get(flow: flow, key: StartClaims.key(node: node))
        } catch {
            return false  // a start with the store unreachable emits nothing rather than twice
        }
        let others = replicas.compactMap { e -> Int? in
            guard e.value["node"].stringValue != options.node, (e.value["expires"].intValue ?? 0) >= now else {
                return nil
            }
            return e.value["started"].intValue ?? 0
        }
        guard StartClaims.fires(started: now, others: others, claimed: stored, window: window) else {
            options.logger.log(
                .info, "\(node): emitOnStart left to the replica that started the cluster", flow: flow, node: node,
                run: nil)
            return false
        }
        let claim = StartClaims.claim(node: options.node, at: now)
        return (try? store.compareAndSet(flow: flow, key: StartClaims.key(node: node), expected: stored, new: claim))
            == true
    }

    /// Records a claimed slot whose run found the flow held by another run (`DeferredSlots`).
    func deferSlot(_ service: FlowService, _ entry: DeferredSlots.Entry) {
        for _ in 0..<5 {
            let stored: Value?
            do { stored = try store.get(flow: service.name, key: DeferredSlots.key) } catch { break }
            let new = DeferredSlots.adding(entry, to: stored)
            if (try? store.compareAndSet(flow: service.name, key: DeferredSlots.key, expected: stored, new: new))
                == true
            {
                options.logger.log(
                    .info,
                    "slot \(Time.rfc3339(nanos: entry.slot)) deferred: run \(entry.holder) holds the flow; it fires "
                        + "if that run turns out abandoned",
                    flow: service.name, node: entry.node, run: nil)
                return
            }
        }
        service.skipped()
        options.logger.log(
            .warning, "slot \(Time.rfc3339(nanos: entry.slot)) skipped: the flow is busy and it could not be deferred",
            flow: service.name, node: entry.node, run: nil)
    }

    /// Decides every flow's deferred slots: the replica whose compare-and-set takes them fires those whose
    /// holder was abandoned (one after the other, each waiting for the flow's lease, with the holder as
    /// `parentId`) and counts the rest as skipped. Returns the slots it fired.
    @discardableResult
    func settleDeferredSlots(now: Int) -> [DeferredSlots.Entry] {
        var fired: [DeferredSlots.Entry] = []
        for service in flows {
            guard let stored = (try? store.get(flow: service.name, key: DeferredSlots.key)) ?? nil else { continue }
            let entries = DeferredSlots.entries(stored)
            var holders: [String: RunRecord?] = [:]
            for holder in Set(entries.map(\.holder)) {
                guard let record = try? store.run(id: holder) else { continue }  // unknown: decided later
                holders[holder] = record
            }
            let decided = entries.map { e -> (DeferredSlots.Entry, DeferredSlots.Decision) in
                guard let holder = holders[e.holder] else { return (e, .wait) }
                return (e, DeferredSlots.decide(e, holder: holder, now: now))
            }
            let waiting = decided.filter { $0.1 == .wait }.map(\.0)
            guard waiting.count < entries.count,
                (try? store.compareAndSet(
                    flow: service.name, key: DeferredSlots.key, expected: stored, new: DeferredSlots.value(waiting)))
                    == true
            else { continue }
            // A flow disabled meanwhile fires nothing (its slots are skipped and counted, as on time).
            let fire = service.isDisabled ? [] : decided.filter { $0.1 == .fire }.map(\.0)
            for _ in 0..<(decided.count - waiting.count - fire.count) { service.skipped() }
            guard !fire.isEmpty else { continue }
            fired += fire
            for _ in fire { service.began(catchUp: true) }
            options.logger.log(
                .info, "firing \(fire.count) deferred slot(s): the run they met was abandoned or catch-up work",
                flow: service.name, node: nil, run: nil)
            Thread.detachNewThread {
                for e in fire {
                    self.execute(
                        service, .trigger(e.node), trigger: .scheduled, parent: e.holder, slot: e.slot, waits: true)
                }
            }
        }
        return fired
    }

    /// The fence counter stays above the swept lease's token, so the next holder's token is greater.
    func keepFence(_ lease: LeaseSweep.Expired, flow: String) {
        guard !LeaseRules.isOwn(lockKey: lease.key) else { return }  // a run's own lease is never taken again
        let key = LeaseRules.counterKey(lease.key)
        let counter = (try? store.get(flow: flow, key: key)).flatMap { $0 }
        let token = LeaseRules.nextFence(counter: counter, replacing: lease.held) - 1
        if token > counter?.intValue ?? 0 { try? store.set(flow: flow, key: key, value: .int(token)) }
    }
}

/// Who fires a ticker's `emitOnStart` in a cluster: once per start of the cluster, not once per replica.
/// A replica that joins a cluster already running (another live replica started more than `window`
/// earlier) does not; of replicas starting together, the first whose compare-and-set takes the flow's
/// `start/<node>` claim does (a claim less than `window` old means one already did). Pure rules.
public enum StartClaims {
    public static func key(node: String) -> String { "start/" + node }

    /// How far apart replicas may start and still count as starting together: the registry's expiry.
    public static func window(sweepEvery: Int) -> Int { 3 * sweepEvery }

    public static func claim(node: String, at started: Int) -> Value { ["node": .string(node), "at": .int(started)] }

    /// `others`: the start times of the other live replicas.
    public static func fires(started: Int, others: [Int], claimed: Value?, window: Int) -> Bool {
        if others.contains(where: { $0 < started - window }) { return false }
        if let at = claimed?["at"].intValue, at >= started - window { return false }
        return true
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
