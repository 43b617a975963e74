import Flowrun

/// Health-aware backoff, declared with the rest of the `run:` policy (`run.health`).
public typealias HealthPolicy = RunPolicy.Health

extension RunPolicy.Health {
    /// Whether a run counts as a failure for health.
    public static func failed(_ status: RunRecord.Status) -> Bool { SharedHealth.failed(status) == true }
}

/// When a scheduled trigger fires next: pure functions of the schedule, the clock and what the state
/// store remembers, so they are tested under a manual clock.
public enum SchedulePlanner {
    public typealias CatchUp = RunPolicy.CatchUp

    /// The first due time when a flow starts: a remembered next-run time still in the future is kept (it
    /// survives restarts); one that passed during downtime is fired at once with `catchUp: once`, or
    /// skipped to the next slot after now with `catchUp: skip`. Without a remembered time the schedule's
    /// own start applies. `emitOnStart` fires at every start of the process.
    public static func resume(_ schedule: TickerSchedule, remembered: Int?, now: Int, catchUp: CatchUp) -> Int? {
        guard let remembered, !schedule.emitOnStart else { return schedule.first(now: now) }
        if remembered > now { return remembered }
        if catchUp == .once { return latest(schedule, from: remembered, now: now) }
        return following(schedule, after: remembered, now: now)
    }

    /// The next due time after the slot `due` ran (or was skipped), at `now`: `factor` slots later
    /// (health backoff); slots that passed meanwhile are skipped, or with `overlap: queue` one fires now.
    public static func next(
        _ schedule: TickerSchedule, after due: Int, now: Int, factor: Int = 1, queueMissed: Bool = false
    ) -> Int? {
        var next: Int? = due
        for _ in 0..<max(1, factor) { next = next.flatMap { schedule.next(after: $0) } }
        guard let n = next else { return nil }
        if n > now { return n }
        return queueMissed ? latest(schedule, from: n, now: now) : following(schedule, after: n, now: now)
    }

    /// The last slot at or before `now`, stepping from the slot `from` (itself at or before `now`): a
    /// missed slot run late keeps its own slot time, so replicas catching up claim the same slot.
    static func latest(_ schedule: TickerSchedule, from: Int, now: Int) -> Int {
        var last = from
        while let t = schedule.next(after: last), t <= now { last = t }
        return last
    }

    /// The first slot strictly after `now`, stepping from `from`.
    static func following(_ schedule: TickerSchedule, after from: Int, now: Int) -> Int? {
        var n: Int? = from
        while let t = n, t <= now { n = schedule.next(after: t) }
        return n
    }
}

/// How replicas sharing a state store agree on who fires a slot: pure functions of the slot and the
/// clock, the store calls are the caller's.
public enum SlotClaims {
    /// The store key that names one slot of one trigger node: claimed once, insert-if-absent.
    public static func key(node: String, due: Int) -> String { "\(prefix(node: node))\(due)" }

    public static func prefix(node: String) -> String { "slot/\(node)/" }

    /// Claim keys are kept this long (by slot time) and then pruned; a slot older than this when a
    /// replica reaches it (a replica that was frozen) is not claimed: its key may be gone.
    public static let horizon = 3_600_000_000_000

    /// How many times a claim that errors (a broken store connection) is tried before the slot is skipped.
    public static let attempts = 3

    /// Whether the slot `due` may still be claimed at `now`.
    public static func isClaimable(due: Int, now: Int) -> Bool { now - due < horizon }

    /// The claim keys of `node` that may be deleted at `now`.
    public static func prunable(_ keys: [String], node: String, now: Int) -> [String] {
        let p = prefix(node: node)
        return keys.filter { key in
            guard key.hasPrefix(p), let due = Int(key.dropFirst(p.count)) else { return false }
            return now - due >= horizon
        }
    }
}
