import FlowrunExpression
import FlowrunGraph
import FlowrunValue

#if canImport(Glibc)
    import Glibc
#endif

/// A loaded flow ready to run: its program, globals and store. Each run has its own `RunExecution`;
/// the program is read-only while runs go on, so runs may overlap on several threads when the flow
/// says `run.overlap: allow` (components keep no per-run state in themselves, or lock it).
public final class FlowRuntime: @unchecked Sendable {
    public struct Options {
        public var vars: [String: Value] = [:]
        public var env: Value = Globals.processEnvironment()
        /// Secret values by name that take the place of the flow's sources (`flowrun test`'s `secrets:`).
        public var secrets: [String: String] = [:]
        public var dryRun = false
        public var logger: any RunLogger = SilentLogger()
        public var clock: @Sendable () -> Int = Globals.systemClock
        /// Sees every message a node emits (node, port, message): test kits and tracing.
        public var observer: ((String, String, Value) -> Void)?
        /// Sees every message an edge delivers to an input port (node, port, message), as the edge built it.
        public var deliveries: ((String, String, Value) -> Void)?
        /// Lease timing for flows that do not set `run.lease` (`serve --lease-ttl/--lease-renewal`).
        public var leaseTiming: LeaseTiming?
        /// The cluster node this process is (`FLOWRUN_NODE_ID`); run records and leases name it.
        public var node: String = ClusterNode.id
        /// Sees the run record every 1,024 deliveries and while the run waits for I/O (the CLI's progress line).
        public var progress: ((RunRecord) -> Void)?
        /// Sleeps for nanoseconds (retry backoff); injected so tests never sleep.
        public var sleep: @Sendable (Int) -> Void = { nanos in
            var ts = timespec(tv_sec: nanos / 1_000_000_000, tv_nsec: nanos % 1_000_000_000)
            _ = nanosleep(&ts, nil)
        }
        /// Where final run records wait while the store is unreachable (default: memory).
        public var recordSpool: (any RecordSpool)?
        /// Tries of a run record save that fails (backoff paused with `sleep`).
        public var saveRetry = SaveRetry()
        public init() {}
    }

    /// How a run begins.
    public enum Start: Sendable {
        /// Fire a trigger node (ticker, ...).
        case trigger(String)
        /// Deliver a message to `node` (its first input port, or `port`). A trigger node emits it instead.
        case input(Value, node: String, port: String?)

        /// `message` delivered to `entry`, written `node` or `node.port`.
        public static func input(_ message: Value, entry: String) -> Start {
            let parts = entry.split(separator: ".", maxSplits: 1).map(String.init)
            return .input(message, node: parts.first ?? "", port: parts.count > 1 ? parts[1] : nil)
        }
    }

    public let program: FlowProgram
    public let store: any StateStore
    /// Saves run records: retried, kept in `options.recordSpool` while the store is unreachable.
    public let records: RunRecordKeeper
    public let cancellation = CancellationFlag()
    /// The options as given, with the logger wrapped in the runtime's redactor.
    public let options: Options
    let secrets: Value
    /// Takes the flow's secrets out of everything that leaves a run: the store and the logger are wrapped
    /// in it, and every record the runtime hands out has passed through it.
    public let redactor: Redactor
    let secretProblems: [String]
    /// The flow's vars with `options.vars` applied.
    let vars: Value
    /// The flow file as an absolute path (run records and dead letters keep it for retry and replay).
    public let flowFile: String

    public init(flow: CheckedFlow, factories: ComponentFactories, store: any StateStore, options: Options = Options())
        throws(NodeError)
    {
        self.program = try FlowProgram(flow, factories: factories)
        var resolved = Value.Object()
        var problems: [String] = []
        for secret in flow.document.secrets {
            if let v = options.secrets[secret.name] {
                resolved[secret.name] = .string(v)
            } else if let name = secret.env, case .string(let v) = options.env[name] {
                resolved[secret.name] = .string(v)
            } else if let path = secret.file, let text = Self.readFile(path) {
                resolved[secret.name] = .string(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            } else if let d = secret.defaultValue {
                resolved[secret.name] = .string(d)
            } else {
                problems.append("secret '\(secret.name)' is not set" + (secret.env.map { " (set \($0))" } ?? ""))
            }
        }
        self.secrets = .object(resolved)
        let redactor = Redactor(secrets: resolved.values.compactMap(\.stringValue))
        self.redactor = redactor
        self.store = RedactingStore(store, redactor: redactor)
        var options = options
        options.logger = RedactingLogger(options.logger, redactor: redactor)
        if let progress = options.progress { options.progress = { progress(redactor.redact($0)) } }
        self.options = options
        self.records = RunRecordKeeper(
            store: self.store, spool: options.recordSpool ?? MemorySpool(), logger: options.logger,
            retry: options.saveRetry, sleep: options.sleep)
        self.secretProblems = problems
        self.vars = .object(flow.document.vars.merging(options.vars) { _, new in new })
        let path = flow.document.source.path
        self.flowFile = path.hasPrefix("/") ? path : Self.currentDirectory + "/" + path
    }

    /// The directory of the flow file (`flow.dir`).
    var flowDirectory: String {
        guard let slash = flowFile.lastIndex(of: "/") else { return "." }
        return slash == flowFile.startIndex ? "/" : String(flowFile[..<slash])
    }

    /// The globals expressions see: the flow's vars, secrets and env, with `run` describing the run (or
    /// the occasion, outside runs).
    func globals(run: Value) -> Globals {
        Globals(
            vars: vars, secrets: secrets, env: options.env, run: run,
            flow: ["name": .string(program.name), "dir": .string(flowDirectory)],
            clock: options.clock)
    }

    static func readFile(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            bytes += buffer[0..<n]
            if n < buffer.count { break }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A node's settings evaluated outside any run (with the flow's vars, secrets and env), for
    /// components that act while no run is going on, such as a server's port and auth.
    public func standingSettings(of name: String) throws(NodeError) -> [String: Value] {
        guard let node = program.nodes.first(where: { $0.name == name }) else {
            throw NodeError("no node named '\(name)'")
        }
        if let problem = secretProblems.first { throw NodeError(problem) }
        let globals = globals(run: ["id": "standing", "trigger": "webhook"])
        var values: [String: Value] = [:]
        for (key, template) in node.checked.settings {
            if case .perMessage = node.checked.descriptor.setting(key)?.evaluation { continue }
            do { values[key] = try template.evaluate(.null, globals) } catch {
                // Outside a run, so not through the run's logger: redacted here.
                let e = NodeError(error)
                throw NodeError(redactor.redact(e.message), code: e.code, retryable: e.retryable, location: e.location)
            }
        }
        return values
    }

    /// A manual start: `input` delivered to the default entry, or (without input) the first trigger that
    /// is not a server fired. Nil when the flow has nothing to start.
    public func manualStart(input: Value?) -> Start? {
        if let input { return defaultEntry.map { .input(input, entry: $0) } }
        guard let t = program.triggers.first(where: { !(program.nodes[$0].component is ServingComponent) }) else {
            return nil
        }
        return .trigger(program.nodes[t].name)
    }

    /// The start of a new run with the trigger input of `record` (`flowrun runs retry`, the admin API).
    public func start(replaying record: RunRecord) -> Start? {
        guard !record.input.isNull else { return manualStart(input: nil) }
        guard let entry = record.entry ?? defaultEntry else { return nil }
        return .input(record.input, entry: entry)
    }

    /// The default start of a manual run: the flow's first trigger, or its first node without inputs.
    public var defaultEntry: String? {
        if let t = program.triggers.first { return program.nodes[t].name }
        let fed = Set(program.flow.edges.map(\.to.node))
        return program.nodes.first { !fed.contains($0.name) }?.name
    }

    /// Runs once, then retries runs that failed or timed out for a retryable reason as new linked runs
    /// (`run.retries`, with exponential backoff): a 401, a bad record, a check error or the circuit
    /// breaker is not retried, and the record says why. Replays of dead letters are not retried (the item
    /// counts its own failures).
    /// Returns every attempt's record, the last one last.
    /// `started` sees each attempt's record as it starts (the admin API answers with the run id).
    /// `slot` is the schedule slot a scheduled run fires (`run.slot`; rescue runs pass their parent's);
    /// `waits` makes the start wait for the flow's lease like `run.overlap: queue` (a deferred slot).
    public func run(
        _ start: Start, trigger: RunRecord.Trigger, parent: String? = nil, dryRun: Bool? = nil, slot: Int? = nil,
        waits: Bool = false, started: ((RunRecord) -> Void)? = nil
    ) throws(RunLock.Busy) -> [RunRecord] {
        let dryRun = dryRun ?? options.dryRun
        var id = Self.newRunID(at: options.clock())
        let lock = try admit(start, runID: id, trigger: trigger, waits: waits)
        defer { lock?.release() }
        var records: [RunRecord] = []
        let retries = trigger != .replay
        var record = runOnce(
            start, trigger: trigger, parent: parent, attempt: 1, id: id, dryRun: dryRun, slot: slot, lease: lock,
            retries: retries, started: started)
        records.append(record)
        if trigger == .retry || trigger == .rescue, let parent { linkRetry(parent, record.id) }
        var delay = program.policy.retryDelayNanos
        while retries, willRetry(record, lease: lock) {
            options.logger.log(
                .info, "retrying in \(Durations.format(delay))", flow: program.name, node: nil, run: record.id)
            options.sleep(delay)
            delay = min(delay * 2, 3_600_000_000_000)
            let previous = record.id
            id = Self.newRunID(at: options.clock())
            lock?.transfer(to: id)
            record = runOnce(
                start, trigger: .retry, parent: record.id, attempt: record.attempt + 1, id: id, dryRun: dryRun,
                slot: slot, lease: lock, retries: retries, started: started)
            records.append(record)
            linkRetry(previous, record.id)
        }
        return records
    }

    /// Whether `run.retries` runs the work again after the attempt that ended with `record`.
    func willRetry(_ record: RunRecord, lease: RunLock?) -> Bool {
        record.isRetryable && record.attempt <= program.policy.retries && !cancellation.isCancelled
            && lease?.isLost != true
    }

    /// The flow's shared health after the run's last attempt when its final record could not carry it (the
    /// lease was lost, or the run has none): by compare-and-set.
    func recordHealth(_ last: RunRecord) {
        SharedHealth.record(last.status, flow: program.name, store: store, now: options.clock())
    }

    /// Takes the flow's run claim for a new run: a live run holding it makes this start `Busy` (`skip`), or
    /// wait until it ends (`queue`). With `run.overlap: allow` the run takes a lease of its own instead
    /// (`LeaseRules.ownKey`), so it excludes nothing yet is rescued and fenced like the others.
    /// A rescue run waits for the lease like `queue` does. The lease's heartbeat starts at once.
    func admit(
        _ start: Start, runID: String, trigger: RunRecord.Trigger = .manual, waits: Bool = false
    ) throws(RunLock.Busy) -> RunLock? {
        let key = program.policy.overlap == .allow ? LeaseRules.ownKey(run: runID) : concurrencyKey(for: start)
        while true {
            do {
                let lock = try RunLock.acquire(
                    store: store, flow: program.name, concurrencyKey: key, runID: runID, owner: RunOwner.current,
                    now: options.clock(), node: options.node, timing: leaseTiming)
                lock.startHeartbeat(clock: options.clock)
                return lock
            } catch {
                guard program.policy.overlap == .queue || trigger == .rescue || waits, !cancellation.isCancelled else {
                    throw error
                }
                options.sleep(100_000_000)
            }
        }
    }

    /// The lease timing of this flow's runs: `run.lease`, else the service's setting, else the defaults.
    public var leaseTiming: LeaseTiming {
        let p = program.policy
        if !p.leaseSet, let t = options.leaseTiming { return t }
        return LeaseTiming(ttl: p.leaseTTLNanos, renewEvery: p.leaseRenewNanos)
    }

    /// `run.concurrencyKey` evaluated on the trigger message (empty: one key for the whole flow).
    func concurrencyKey(for start: Start) -> String {
        guard let template = program.policy.concurrencyKey else { return "" }
        var message = Value.null
        if case .input(let m, _, _) = start { message = m }
        guard let key = try? template.evaluate(message, globals(run: ["id": "admission"])), !key.isNull else {
            return ""
        }
        return key.interpolated
    }

    /// Notes on `parent` that `child` retried it (the chain is visible from both ends).
    public func linkRetry(_ parent: String, _ child: String) {
        guard var p = try? records.record(id: parent) else { return }
        p.retriedBy.append(child)
        records.save(p)
    }

    /// Runs in progress by id, with their cancellation flags.
    private var active: [String: CancellationFlag] = [:]
    private let activeLock = NSLockLite()

    public var activeRunIDs: [String] { activeLock.withLock { Array(active.keys) } }

    /// Cancels one run in progress (it ends `cancelled`); false when no such run is going on.
    public func cancel(runID: String) -> Bool {
        activeLock.withLock { active[runID] }.map { $0.cancel() } != nil
    }

    func runOnce(
        _ start: Start, trigger: RunRecord.Trigger, parent: String?, attempt: Int, id: String, dryRun: Bool,
        slot: Int? = nil, lease: RunLock? = nil, retries: Bool = true, started: ((RunRecord) -> Void)? = nil
    ) -> RunRecord {
        let startedAt = options.clock()
        var record = RunRecord(id: id, flow: program.name, trigger: trigger, startedAt: startedAt)
        record.dryRun = dryRun
        record.parentID = parent
        record.attempt = attempt
        record.owner = Self.owner
        record.node = options.node
        record.fence = lease?.fence.token
        record.slot = slot
        record.flowFile = flowFile
        if case .input(let message, let node, let port) = start {
            record.input = message
            record.entry = port.map { "\(node).\($0)" } ?? node
        }
        markAbandonedRuns()
        let globals = globals(run: [
            "id": .string(record.id), "startedAt": .int(startedAt), "trigger": .string(trigger.rawValue),
            "dryRun": .bool(dryRun), "fence": lease.map { .int($0.fence.token) } ?? .null,
            "node": .string(options.node), "slot": slot.map { .int($0) } ?? .null,
        ])
        let flag = CancellationFlag(parent: cancellation)
        let logger = options.logger
        let flowName = program.name
        lease?.setOnLost { reason in
            logger.log(.error, reason, flow: flowName, node: nil, run: id)
            flag.cancel()
        }
        defer { lease?.setOnLost(nil) }
        activeLock.withLock { active[record.id] = flag }
        defer { _ = activeLock.withLock { active.removeValue(forKey: record.id) } }
        let execution = RunExecution(
            program: program, record: record, globals: globals, redactor: redactor,
            logger: options.logger, store: store, cancellation: flag)
        execution.lease = lease
        execution.observer = options.observer
        execution.deliveryObserver = options.deliveries
        execution.progress = options.progress
        execution.records = records
        records.save(execution.record, keep: false)
        started?(redactor.redact(execution.record))
        if let problem = secretProblems.first {
            execution.fail(problem)
        } else if execution.prepareSettings() {
            switch start {
            case .trigger(let name):
                if let i = program.nodeIndex(name) {
                    execution.start(trigger: i)
                } else {
                    execution.fail("no node named '\(name)'")
                }
            case .input(let message, let name, let port):
                guard let i = program.nodeIndex(name) else {
                    execution.fail("no node named '\(name)'")
                    break
                }
                let node = program.nodes[i]
                if port == nil, node.component is TriggerComponent {
                    execution.emit(node: i, port: node.outputs.first ?? "out", message)
                } else if let p = port ?? node.checked.ports.first(where: { $0.direction == .input })?.name {
                    execution.start(deliver: message, to: i, port: p)
                } else {
                    execution.fail("node '\(name)' has no input port")
                }
            }
            if case .trigger = start, trigger != .replay, !dryRun, program.policy.retryParked {
                retryParked(in: execution)
            }
            execution.drain()
        }
        execution.finish()
        record = redactor.redact(execution.record)
        // The run's last attempt: its final record carries the flow's shared health, in one transaction.
        let last = !(retries && willRetry(record, lease: lease))
        if last, retries, record.isRetryable {
            record.retryNote =
                (record.retryNote ?? "retryable") + "; not retried: run.retries (\(program.policy.retries)) used up"
        }
        var healthWritten = false
        if let lease = execution.lease, !execution.fencedOut {
            let saved = records.save(record, fence: lease.fence, healthAt: last ? options.clock() : nil)
            if saved == nil {
                execution.loseLease("lease lost: the final record was refused by its fencing token")
            }
            healthWritten = saved == true
        } else if execution.lease == nil {
            records.save(record)
        }
        if execution.fencedOut {
            // Another replica holds the lease now: nothing of this run was committed.
            record.status = .abandoned
            record.reason = "lease lost"
            record.retryable = false
            records.save(record)
        }
        if last, !healthWritten { recordHealth(record) }
        return record
    }

    /// `run.retryParked`: the flow's parked dead-letter items with attempts left are delivered to their
    /// `entry` before the trigger's own work (pushed last, so handled first). The dead-letter node records
    /// a new failure as one more attempt; a `resolve` edge closes the items that pass.
    func retryParked(in execution: RunExecution) {
        let due: [DeadLetterQueue.Item]
        do {
            due = try DeadLetterQueue(store: store).list(flow: program.name).filter(\.isDueForRetry)
        } catch {
            options.logger.log(
                .warning, "run.retryParked: could not list dead letters: \(error)", flow: program.name, node: nil,
                run: execution.record.id)
            return
        }
        guard !due.isEmpty else { return }
        options.logger.log(
            .info, "retrying \(due.count) parked dead-letter item(s)", flow: program.name, node: nil,
            run: execution.record.id)
        for item in due.reversed() {
            guard case .input(let message, let name, let port) = Start.input(item.payload, entry: item.entry ?? ""),
                let i = program.nodeIndex(name),
                let p = port ?? program.nodes[i].checked.ports.first(where: { $0.direction == .input })?.name
            else {
                options.logger.log(
                    .warning, "\(item.id): entry '\(item.entry ?? "")' is not an input of this flow; not retried",
                    flow: program.name, node: nil, run: execution.record.id)
                continue
            }
            execution.start(deliver: message, to: i, port: p)
        }
    }

    static var currentDirectory: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process, as `pid@host`.
    public static var owner: String { RunOwner.current }

    /// Records left `running` by a process of this host that no longer exists (SIGKILL, power loss)
    /// are marked `abandoned`; their checkpoints were never committed, so the next run resumes from the
    /// last committed cursor.
    /// Final records kept while the store was unreachable are written first; one still waiting is not
    /// abandoned, whatever the store says.
    public func markAbandonedRuns() {
        records.flush()
        guard let recent = try? store.runs(flow: program.name, limit: 100) else { return }
        let kept = records.pendingIDs
        for var r in recent where r.status == .running && !kept.contains(r.id) {
            guard let owner = r.owner, RunOwner.isGone(owner) else { continue }
            r.status = .abandoned
            r.reason = "the process that ran it (\(owner)) ended without finishing it"
            records.save(r)
            options.logger.log(
                .warning, "run \(r.id) was abandoned by \(owner)", flow: program.name, node: nil, run: r.id)
        }
    }

    public static func newRunID(at nanos: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let suffix = String(UInt16.random(in: 0...UInt16.max, using: &rng), radix: 16)
        return "r" + String(nanos / 1_000_000, radix: 36) + "-" + String(repeating: "0", count: 4 - suffix.count)
            + suffix
    }
}
