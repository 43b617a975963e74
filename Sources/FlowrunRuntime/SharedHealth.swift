import FlowrunValue

/// A flow's health in the state store, so every replica backs off alike: the count of consecutive
/// failed runs under `flow/health`, written with the final record of each run.
public enum SharedHealth {
    public static let key = "flow/health"

    /// Whether a run's outcome counts as a failure for health; nil leaves the count as it is (cancelled).
    public static func failed(_ status: RunRecord.Status) -> Bool? {
        switch status {
        case .failed, .timedOut, .abandoned: true
        case .cancelled, .running: nil
        default: false
        }
    }

    /// The stored value after a run ended with `status`.
    public static func next(_ stored: Value?, after status: RunRecord.Status, at now: Int) -> Value? {
        let count = stored?["consecutiveFailures"].intValue ?? 0
        guard let failed = failed(status) else { return stored }
        return ["consecutiveFailures": .int(failed ? count + 1 : 0), "updatedAt": .int(now)]
    }

    public static func consecutiveFailures(_ stored: Value?) -> Int? { stored?["consecutiveFailures"].intValue }

    /// Updates the count by compare-and-set (runs without a lease, replicas marking abandoned runs).
    public static func record(_ status: RunRecord.Status, flow: String, store: any StateStore, now: Int) {
        for _ in 0..<5 {
            let current: Value?
            do { current = try store.get(flow: flow, key: key) } catch { return }
            let new = next(current, after: status, at: now)
            if new == current { return }
            if (try? store.compareAndSet(flow: flow, key: key, expected: current, new: new)) == true { return }
        }
    }
}
