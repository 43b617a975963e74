import Flowrun

/// Health-aware backoff, declared with the rest of the `run:` policy (`run.health`).
public typealias HealthPolicy = RunPolicy.Health

extension RunPolicy.Health {
    /// Whether a run counts as a failure for health.
    public static func failed(_ status: RunRecord.Status) -> Bool {
        status == .failed || status == .timedOut || status == .abandoned
    }
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
        if catchUp == .once { return now }
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
        return queueMissed ? now : following(schedule, after: n, now: now)
    }

    /// The first slot strictly after `now`, stepping from `from`.
    static func following(_ schedule: TickerSchedule, after from: Int, now: Int) -> Int? {
        var n: Int? = from
        while let t = n, t <= now { n = schedule.next(after: t) }
        return n
    }
}
