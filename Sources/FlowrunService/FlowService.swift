import Flowrun
import Foundation

/// One flow under `flowrun serve`: its runtime, schedule slots, webhook servers, health and runs.
public final class FlowService: @unchecked Sendable {
    public struct Slot {
        public let node: String
        public let schedule: TickerSchedule
        public var next: Int?
        public var remaining: Int?
        /// A due slot that waits for the active run to end (`run.overlap: queue`).
        public var queued = false
        /// The due time `next` was stepped from: when a run ends, `next` is stepped again from it with the
        /// health factor the run's outcome gives (nil while `next` is the schedule's first slot).
        var base: Int?
    }

    public let file: String
    /// SHA-256 of the file's bytes when loaded: a reload starts only flows whose content changed (mtimes
    /// do not move when Kubernetes swaps a ConfigMap's symlinks).
    public let fileDigest: String
    public let runtime: FlowRuntime
    public var name: String { runtime.program.name }
    let lock = NSLock()
    public private(set) var slots: [Slot] = []
    public private(set) var running = 0
    /// Of `running`, the catch-up runs (rescue runs, deferred slots fired late): they do not make the
    /// schedule's own slots overlap here (a slot that meets one is deferred behind it, in the store).
    private var catchingUp = 0
    public private(set) var consecutiveFailures = 0
    public private(set) var lastRun: RunRecord?
    public private(set) var skippedSlots = 0
    /// Slots this process fired (with replicas, the others fired the rest).
    public private(set) var claimedSlots = 0
    /// Slots skipped because claiming them failed (the state store errored on every attempt).
    public private(set) var claimErrors = 0
    private var lastPrune = Int.min / 2
    public let health: HealthPolicy
    let overlap: RunPolicy.Overlap
    let catchUp: SchedulePlanner.CatchUp
    public internal(set) var servers: [any ServingComponent] = []

    init(file: String, runtime: FlowRuntime) {
        self.file = file
        fileDigest = Self.digest(file)
        self.runtime = runtime
        let policy = runtime.program.policy
        health = policy.health
        overlap = policy.overlap
        catchUp = policy.catchUp
    }

    /// `disabled` when the flow is disabled, else what its consecutive failures make it.
    public var healthState: HealthPolicy.State {
        if isDisabled { return .disabled }
        return lock.withLock { health.state(consecutiveFailures: consecutiveFailures) }
    }

    // MARK: Disabled flows

    /// The state store key of the disabled flag: in the store, so every replica sees it.
    public static let disabledKey = "flow/disabled"

    /// Disables or enables a flow in a state store (`flowrun flows disable|enable`, the admin API).
    public static func setDisabled(_ disabled: Bool, flow: String, store: any StateStore) throws {
        try store.set(flow: flow, key: disabledKey, value: .bool(disabled))
    }

    public static func isDisabled(flow: String, store: any StateStore) -> Bool {
        (try? store.get(flow: flow, key: disabledKey)) == .bool(true)
    }

    /// A disabled flow's schedule does not fire (its slots are skipped and counted) and manual runs are refused.
    public var isDisabled: Bool { Self.isDisabled(flow: name, store: runtime.store) }

    public func setDisabled(_ disabled: Bool) throws {
        try Self.setDisabled(disabled, flow: name, store: runtime.store)
        runtime.options.logger.log(
            .warning, disabled ? "flow disabled" : "flow enabled", flow: name, node: nil, run: nil)
    }

    /// What a refused manual run answers.
    public var disabledMessage: String { "flow \(name) is disabled (flowrun flows enable \(name))" }

    public var nextRun: Int? { lock.withLock { slots.compactMap(\.next).min() } }

    /// Schedules from the flow's tickers, resumed from the next-run times the state store remembers.
    /// `emitsOnStart` says whether a ticker's `emitOnStart` slot fires here (in a cluster: on one replica).
    func prepareSlots(now: Int, emitsOnStart: ((String) -> Bool)? = nil) {
        var prepared: [Slot] = []
        for t in runtime.program.triggers {
            let node = runtime.program.nodes[t]
            guard node.checked.descriptor.name == "ticker", let schedule = TickerSchedule(node.checked) else {
                continue
            }
            let remembered = (try? runtime.store.get(flow: name, key: Self.scheduleKey(node.name)))?.intValue
            var next = SchedulePlanner.resume(schedule, remembered: remembered, now: now, catchUp: catchUp)
            if schedule.emitOnStart, next == now, emitsOnStart?(node.name) == false {
                next = schedule.next(after: now)
            }
            prepared.append(Slot(node: node.name, schedule: schedule, next: next, remaining: schedule.maxEmissions))
            remember(node.name, next)
        }
        lock.withLock { slots = prepared }
    }

    static func digest(_ file: String) -> String {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))).map { Array($0) } ?? []
        return Digest.hex(Digest.sha256(bytes))
    }

    static func scheduleKey(_ node: String) -> String { "schedule/\(node)" }

    func remember(_ node: String, _ next: Int?) {
        try? runtime.store.set(flow: name, key: Self.scheduleKey(node), value: next.map { .int($0) } ?? .null)
    }

    /// A slot to fire now: the trigger node and the slot time (`run.slot`).
    struct Due: Equatable {
        let node: String
        let slot: Int
    }

    /// The trigger nodes of `takeDueSlots`.
    func takeDue(now: Int) -> [String] { takeDueSlots(now: now).map(\.node) }

    /// Slots due at `now` that may start a run now; skipped (overlap) slots are counted and moved on.
    func takeDueSlots(now: Int) -> [Due] {
        lock.withLock {
            var fire: [Due] = []
            var disabledFlag: Bool?
            func disabled() -> Bool {  // read from the store once, when a slot is due
                if disabledFlag == nil { disabledFlag = isDisabled }
                return disabledFlag!
            }
            var sharedRead = false
            for i in slots.indices {
                guard let due = slots[i].next, due <= now, slots[i].remaining != 0 else { continue }
                if !sharedRead {  // the health every replica shares, read once when a slot is due
                    sharedRead = true
                    if let shared = sharedFailures() { consecutiveFailures = shared }
                }
                let factor = health.factor(health.state(consecutiveFailures: consecutiveFailures))
                slots[i].base = due
                if disabled() {
                    skippedSlots += 1
                    slots[i].queued = false
                    slots[i].next = SchedulePlanner.next(slots[i].schedule, after: due, now: now, factor: factor)
                    remember(slots[i].node, slots[i].next)
                    continue
                }
                if running - catchingUp > 0, overlap != .allow {
                    if overlap == .queue {
                        slots[i].queued = true
                    } else {
                        skippedSlots += 1
                    }
                    slots[i].next = SchedulePlanner.next(slots[i].schedule, after: due, now: now, factor: factor)
                    remember(slots[i].node, slots[i].next)
                    continue
                }
                // Replicas sharing the state store fire each slot once: the first to claim it runs it.
                if claimSlot(node: slots[i].node, due: due, now: now) {
                    fire.append(Due(node: slots[i].node, slot: due))
                    running += 1
                    claimedSlots += 1
                    if let r = slots[i].remaining { slots[i].remaining = r - 1 }
                }
                slots[i].next = SchedulePlanner.next(slots[i].schedule, after: due, now: now, factor: factor)
                remember(slots[i].node, slots[i].next)
            }
            // A queued slot fires once the active run is over.
            if running == 0, let i = slots.indices.first(where: { slots[$0].queued }) {
                slots[i].queued = false
                if !disabled() {
                    fire.append(Due(node: slots[i].node, slot: slots[i].base ?? now))
                    running += 1
                }
            }
            return fire
        }
    }

    /// Claims the slot `due` of `node` under its own key (insert-if-absent), so replicas that reach it at
    /// different instants still fire it once. A claim that errors is not a claim: it is tried again a few
    /// times, then the slot is skipped with a log line and counted in `claimErrors`.
    func claimSlot(node: String, due: Int, now: Int) -> Bool {
        guard SlotClaims.isClaimable(due: due, now: now) else {
            skippedSlots += 1
            runtime.options.logger.log(
                .warning, "slot \(Time.rfc3339(nanos: due)) is too old to claim; skipped", flow: name, node: node,
                run: nil)
            return false
        }
        let key = SlotClaims.key(node: node, due: due)
        var lastError: (any Error)?
        for _ in 0..<SlotClaims.attempts {
            do {
                let claimed = try runtime.store.claim(flow: name, key: key, due: due)
                if claimed { pruneClaims(node: node, now: now) }
                return claimed
            } catch {
                lastError = error
            }
        }
        claimErrors += 1
        skippedSlots += 1
        runtime.options.logger.log(
            .error,
            "slot \(Time.rfc3339(nanos: due)) not claimed, the state store failed \(SlotClaims.attempts) times "
                + "(\(lastError.map { "\($0)" } ?? "?")); skipped, not run unclaimed",
            flow: name, node: node, run: nil)
        return false
    }

    /// Deletes claim keys past the horizon, at most once a minute per flow.
    func pruneClaims(node: String, now: Int) {
        guard now - lastPrune >= 60_000_000_000 else { return }
        lastPrune = now
        guard let entries = try? runtime.store.entries(flow: name, prefix: SlotClaims.prefix(node: node)) else {
            return
        }
        for key in SlotClaims.prunable(entries.map(\.key), node: node, now: now) {
            try? runtime.store.delete(flow: name, key: key)
        }
    }

    /// The consecutive failures stored for the flow (shared by every replica); nil when unknown.
    func sharedFailures() -> Int? {
        SharedHealth.consecutiveFailures((try? runtime.store.get(flow: name, key: SharedHealth.key)) ?? nil)
    }

    /// Counts a slot skipped outside `takeDue` (a deferred slot that overlapped a live run).
    func skipped() { lock.withLock { skippedSlots += 1 } }

    /// Counts a run that is about to start outside the schedule (manual trigger, webhook).
    func began(catchUp: Bool = false) {
        lock.withLock {
            running += 1
            if catchUp { catchingUp += 1 }
        }
    }

    /// Records a finished run for health and the API, and steps the pending slots again with the
    /// health factor after this run (so the slot after a first failure is already stretched). With
    /// `run.health.disableAfter`, disables a flow that failed that many times in a row.
    func finished(_ records: [RunRecord], catchUp: Bool = false) {
        let now = runtime.options.clock()
        let failures = lock.withLock { () -> Int? in
            running -= 1
            if catchUp { catchingUp -= 1 }
            guard let last = records.last else { return nil }
            lastRun = last
            if let shared = sharedFailures() {
                consecutiveFailures = shared
            } else if HealthPolicy.failed(last.status) {
                consecutiveFailures += 1
            } else if last.status != .cancelled {
                consecutiveFailures = 0
            }
            let factor = health.factor(health.state(consecutiveFailures: consecutiveFailures))
            for i in slots.indices {
                guard let base = slots[i].base, slots[i].next != nil, slots[i].remaining != 0 else { continue }
                let next = SchedulePlanner.next(slots[i].schedule, after: base, now: now, factor: factor)
                if next != slots[i].next {
                    slots[i].next = next
                    remember(slots[i].node, next)
                }
            }
            return HealthPolicy.failed(last.status) ? consecutiveFailures : nil
        }
        if let failures, let limit = health.disableAfter, failures >= limit, !isDisabled {
            try? Self.setDisabled(true, flow: name, store: runtime.store)
            runtime.options.logger.log(
                .error, "disabled after \(failures) failed runs in a row (flowrun flows enable \(name))", flow: name,
                node: nil, run: records.last?.id)
        }
    }

    public var isRunning: Bool { lock.withLock { running > 0 } }

    /// Nothing left to do: no run going on, no slot that will fire again, no server listening.
    var isIdle: Bool {
        lock.withLock { running == 0 && servers.isEmpty && !slots.contains { $0.next != nil && $0.remaining != 0 } }
    }
}
