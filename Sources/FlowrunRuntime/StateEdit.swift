import FlowrunValue

/// A hand edit of a flow's stored state (`flowrun state set|delete`, the console's State page): the
/// change is made by compare-and-set and recorded in the run history as a completed run of trigger
/// `state`, so `flowrun runs` shows who moved a cursor and from what to what.
public enum StateEdit {
    /// What a guarded edit did.
    public enum Outcome: Equatable, Sendable {
        /// Stored (or deleted); the run record of the edit has this id.
        case changed(recordID: String)
        /// The value was no longer the one the operator saw: nothing was written.
        case conflict(current: Value?)
    }

    /// Keys the runtime keeps for itself: dead letters, claimed slots, next-run times and run locks.
    public static let internalPrefixes = ["dlq/", "slot/", "schedule/", "lock/"]

    public static func isInternal(_ key: String) -> Bool { internalPrefixes.contains { key.hasPrefix($0) } }

    /// Replaces the value with `new` (nil deletes it) whatever it is, by compare-and-set, so the returned
    /// old value is exactly the one replaced even while a run writes the same key.
    public static func change(_ store: any StateStore, flow: String, key: String, to new: Value?) throws -> Value? {
        while true {
            let old = try store.get(flow: flow, key: key)
            if old == nil, new == nil { return nil }
            if try store.compareAndSet(flow: flow, key: key, expected: old, new: new) { return old }
        }
    }

    /// Replaces the value only when it still is `expected` (what the operator saw; nil: absent), and
    /// records the edit.
    public static func guarded(
        _ store: any StateStore, flow: String, key: String, expected: Value?, new: Value?, now: Int
    ) throws -> Outcome {
        guard try store.compareAndSet(flow: flow, key: key, expected: expected, new: new) else {
            return .conflict(current: try store.get(flow: flow, key: key))
        }
        return .changed(
            recordID: try record(store, flow: flow, reason: reason(key: key, old: expected, new: new), now: now))
    }

    /// The run history's words for an edit.
    public static func reason(key: String, old: Value?, new: Value?) -> String {
        guard let new else { return "state \(key) deleted: \(old.map(JSON.serialize) ?? "(none)")" }
        return "state \(key) set: \(old.map(JSON.serialize) ?? "(none)") -> \(JSON.serialize(new))"
    }

    /// Saves a completed run record of trigger `state` with `reason`; returns its id.
    @discardableResult
    public static func record(_ store: any StateStore, flow: String, reason: String, now: Int) throws -> String {
        var r = RunRecord(id: FlowRuntime.newRunID(at: now), flow: flow, trigger: .state, startedAt: now)
        r.status = .completed
        r.completedAt = now
        r.reason = reason
        try store.save(r)
        return r.id
    }
}
