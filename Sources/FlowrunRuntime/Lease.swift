import FlowrunExpression
import FlowrunValue

#if canImport(Glibc)
    import Glibc
#endif

/// This replica's identity in a cluster: `FLOWRUN_NODE_ID`, or the host name plus a random boot id, so a
/// process that restarts with the same host name and pid (a container) is a new node and never adopts
/// the runs of the one that died.
public enum ClusterNode {
    public static let id: String = {
        if let set = getenv("FLOWRUN_NODE_ID").map({ String(cString: $0) }), !set.isEmpty { return set }
        var rng = SystemRandomNumberGenerator()
        let boot = String(UInt32.random(in: 0...UInt32.max, using: &rng), radix: 16)
        return RunOwner.host + "-" + String(repeating: "0", count: 8 - boot.count) + boot
    }()
}

/// The fencing token of a run: its lease's key, run id and token. A commit carrying it succeeds only
/// while the lease in the store still names this run with this token.
public struct Fence: Sendable, Equatable {
    public let key: String
    public let run: String
    public let token: Int

    public init(key: String, run: String, token: Int) {
        self.key = key
        self.run = run
        self.token = token
    }

    /// Whether the lease value stored under `key` still belongs to this fence.
    public func holds(_ stored: Value?) -> Bool {
        guard let stored else { return false }
        return stored["run"].stringValue == run && stored["fence"].intValue == token
    }
}

/// Lease timing: how long a lease lives without a heartbeat and how often it is renewed.
public struct LeaseTiming: Sendable, Equatable {
    public var ttl: Int
    public var renewEvery: Int

    public static let standard = LeaseTiming(ttl: 30_000_000_000, renewEvery: 10_000_000_000)

    public init(ttl: Int, renewEvery: Int) {
        self.ttl = ttl
        self.renewEvery = renewEvery
    }

    /// How often every replica sweeps for expired leases: a quarter of the TTL, from 0.5 s to 5 s.
    public var sweepEvery: Int { min(5_000_000_000, max(500_000_000, ttl / 4)) }
}

/// The pure rules of run leases: values in the store in, values and decisions out.
/// A lease is the value of the flow's run lock `lock/<concurrency key>`:
/// `{run, owner, node, since, fence, heartbeat, expires}`.
public enum LeaseRules {
    /// The store key remembering the last fencing token of a lock key (tokens only grow).
    public static func counterKey(_ lockKey: String) -> String { "fence/" + lockKey }

    /// The concurrency key of a run's own lease (`run.overlap: allow`: it excludes no other run, but the
    /// run is swept, rescued and fenced like any other). Nobody else ever takes such a key, so its token
    /// is always 1 and no counter is kept for it.
    public static func ownKey(run: String) -> String { ownPrefix + run }

    /// Whether a lock key (`lock/...`) is a run's own lease.
    public static func isOwn(lockKey: String) -> Bool { lockKey.hasPrefix("lock/" + ownPrefix) }

    static let ownPrefix = "@run/"

    /// The token of the next acquisition: above both the remembered counter and the lease replaced.
    public static func nextFence(counter: Value?, replacing held: Value?) -> Int {
        max(counter?.intValue ?? 0, held?["fence"].intValue ?? 0) + 1
    }

    public static func lease(
        run: String, owner: String, node: String, fence: Int, now: Int, timing: LeaseTiming
    ) -> Value {
        [
            "run": .string(run), "owner": .string(owner), "node": .string(node), "since": .int(now),
            "fence": .int(fence), "heartbeat": .int(now), "expires": .int(now + timing.ttl),
        ]
    }

    /// A lease whose expiry passed (no heartbeat for a TTL); values without an expiry never expire here.
    public static func isExpired(_ held: Value, now: Int) -> Bool {
        guard let expires = held["expires"].intValue else { return false }
        return now > expires
    }

    /// The lease renewed at `now`.
    public static func renewed(_ held: Value, now: Int, timing: LeaseTiming) -> Value {
        var fields = held.objectValue ?? [:]
        fields["heartbeat"] = .int(now)
        fields["expires"] = .int(now + timing.ttl)
        return .object(fields)
    }

    /// Why a swept lease's run is abandoned: its owner and last heartbeat.
    public static func abandonReason(_ held: Value) -> String {
        let node = held["node"].stringValue ?? held["owner"].stringValue ?? "?"
        let beat = held["heartbeat"].intValue.map { Time.rfc3339(nanos: $0) } ?? "never"
        return "lease expired: node \(node) stopped renewing it (last heartbeat \(beat))"
    }
}

/// The heartbeat of one lease as a pure state machine: the shell calls `tick(now)` and does what it
/// says, then reports the outcome of a renewal. A renewal that finds another value in the store means
/// the lease was taken: the run lost it. A renewal that errors is tried again until the lease's own
/// expiry passes, then the run counts it lost (another replica may take it from then on).
public struct LeaseKeeper: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case wait
        /// Compare-and-set the stored lease from `expected` to `new`.
        case renew(expected: Value, new: Value)
        case lost(String)
    }

    public private(set) var held: Value
    public let timing: LeaseTiming
    public private(set) var lastRenewal: Int
    public private(set) var isLost = false

    public init(held: Value, timing: LeaseTiming, now: Int) {
        self.held = held
        self.timing = timing
        lastRenewal = now
    }

    public func tick(now: Int) -> Action {
        if isLost { return .wait }
        if LeaseRules.isExpired(held, now: now) {
            return .lost("lease lost: no renewal for \(Durations.format(timing.ttl))")
        }
        guard now - lastRenewal >= timing.renewEvery else { return .wait }
        return .renew(expected: held, new: LeaseRules.renewed(held, now: now, timing: timing))
    }

    /// The compare-and-set of a renewal succeeded (true), found another value (false) or threw (nil).
    public mutating func renewal(_ new: Value, succeeded: Bool?, now: Int) -> Action {
        switch succeeded {
        case true?:
            held = new
            lastRenewal = now
            return .wait
        case false?:
            isLost = true
            return .lost("lease lost: another replica took it over")
        case nil:
            if LeaseRules.isExpired(held, now: now) {
                isLost = true
                return .lost("lease lost: the state store did not answer before it expired")
            }
            return .wait
        }
    }

    public mutating func markLost() { isLost = true }
}
