import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// One run of a flow program: the work stack, the record, and the loop that delivers messages.
///
/// Delivery is depth-first with an explicit stack: a message emitted by a node is delivered before
/// the next message of the same emitter, so a fan-out does not pile up and a loop of any length runs
/// in constant memory and stack. Pure components run inline: no task hop per message.
public final class RunExecution {
    enum Work {
        /// A message arriving at a node's input port.
        case deliver(node: Int, port: String, message: Value)
        /// A node emitting many messages one at a time (iterator items), each fully handled before the next.
        case sequence(SequenceEmission)
        /// An I/O node's finished results, handled one at a time in the order their messages arrived.
        case ready(node: Int)
    }

    let program: FlowProgram
    let globals: Globals
    let logger: any RunLogger
    let redactor: Redactor
    let store: any StateStore
    /// Saves the record while the run goes on (the runtime shares its own keeper).
    var records: RunRecordKeeper
    var settings: [[String: Value]] = []
    /// Checkpoint values offered during the run, reduced per key; committed only if the run completes.
    var checkpoints: [String: (value: Value, reduce: CheckpointReduce)] = [:]
    /// Node failures, handled or not (for `continueOnError: false`).
    var failureEvents = 0
    var observer: ((String, String, Value) -> Void)?
    /// Sees every message an edge delivers to an input port (`FlowRuntime.Options.deliveries`).
    var deliveryObserver: ((String, String, Value) -> Void)?
    /// Called every 1,024 deliveries, and every 50 ms while waiting for I/O, with the record so far
    /// (live progress displays).
    var progress: ((RunRecord) -> Void)?
    /// I/O nodes' in-flight work, by node index.
    var asyncNodes: [Int: AsyncNodeState] = [:]
    let inbox = CompletionInbox()
    var totalInFlight = 0
    /// Messages waiting for an I/O node before producers are held back (back pressure).
    /// 16 (or 4 per slot of the node's concurrency): enough to keep an I/O node busy, few enough that a
    /// sync whose pages outrun its database holds a handful of pages, not hundreds (peak RSS).
    static let waitingLimit = 16
    var record: RunRecord
    /// Messages delivered to each node (metrics).
    var deliveries: [Int]
    private var stack: [Work] = []
    private var halted = false
    /// Failure ids (an `id` on every error message) already counted as `failed`, or parked in the
    /// dead-letter queue: a failure that reaches two counting nodes counts once.
    private var countedFailures = Set<Int>()
    /// The failure id of each entry of `record.errors` (the reason quotes the first counted one).
    private var errorFailureIDs: [Int] = []
    private var parkedFailures = Set<Int>()
    private var nextFailureID = 0
    /// Failures parked in the dead-letter queue this run (`run.cursorPolicy: park` lets the cursor pass them).
    var parkedCount = 0
    /// What a node keeps for the length of one run (paginate: the record keys and tokens it has seen).
    var runLocals: [Int: AnyObject] = [:]
    /// Under `hold`: every checkpoint value offered (reduce `max`), so that a run with failures can move
    /// the cursor to the newest value before the oldest failure; and the failures with a known version.
    let keepsOfferedCheckpoints: Bool
    var offeredCheckpoints: [String: [Value]] = [:]
    private var versionedFailures = Set<Int>()
    private var versionedFailureCount = 0
    private var oldestFailedVersion: Value?
    /// Whether the run's fatal failure (`fail`) may pass on its own (`run.retries`); nil when none.
    private var fatalRetryable: Bool?
    /// Records count by outcome (written or failed) when the flow has a writer that counts them.
    private let countsByOutcome: Bool
    /// In the last phase (run-end nodes): the status is settled and failures are shown apart.
    private(set) var inEndPhase = false
    /// Per I/O node, the first message sequence number of the end phase (older results are dropped).
    private var endPhaseSeq: [Int: Int] = [:]
    /// When the record was last saved while running (live progress, at least every second).
    private var lastSaved: Int
    static let saveInterval = 1_000_000_000
    /// Set from another thread to stop the run (SIGINT/SIGTERM, API); checked between deliveries.
    public let cancellation: CancellationFlag
    private let deadline: Int?
    /// The run's lease (with `run.overlap: allow` one of its own): its commits are fenced by its token, and a run
    /// whose lease is lost stops and ends `abandoned`.
    var lease: RunLock? {
        didSet { componentStore = lease.map { FencedStore(inner: store, lease: $0) } ?? store }
    }
    /// The store components write through: fenced by the run's lease when it has one.
    private(set) var componentStore: any StateStore
    /// Set when a fenced commit was refused: the lease was taken over, nothing of this run was committed.
    private(set) var fencedOut = false

    init(
        program: FlowProgram, record: RunRecord, globals: Globals, redactor: Redactor, logger: any RunLogger,
        store: any StateStore, cancellation: CancellationFlag
    ) {
        self.store = store
        self.componentStore = store
        self.records = RunRecordKeeper(store: store, logger: logger, sleep: { _ in })
        self.program = program
        self.record = record
        self.globals = globals
        self.redactor = redactor
        self.logger = logger
        self.cancellation = cancellation
        self.deadline = program.policy.timeoutNanos.map { record.startedAt + $0 }
        self.deliveries = Array(repeating: 0, count: program.nodes.count)
        self.countsByOutcome = program.nodes.contains { $0.checked.descriptor.countsRecords }
        self.lastSaved = record.startedAt
        self.keepsOfferedCheckpoints = !program.policy.parkFailures
    }

    /// Evaluates every node's settings once for this run; a failing setting fails the run.
    func prepareSettings() -> Bool {
        for node in program.nodes {
            var values: [String: Value] = [:]
            for (name, template) in node.checked.settings {
                if case .perMessage = node.checked.descriptor.setting(name)?.evaluation { continue }
                do { values[name] = try template.evaluate(.null, globals) } catch {
                    fail("setting '\(name)' of node '\(node.name)': \(error.description)")
                    return false
                }
            }
            settings.append(values)
        }
        return true
    }

    // MARK: Emitting and delivering

    /// Called by `NodeContext.emit`: evaluates each edge's mapping and pushes the deliveries.
    func emit(node: Int, port: String, _ message: Value) {
        let source = program.nodes[node]
        observer?(source.name, port, message)
        guard let p = source.outputs.firstIndex(of: port) else {
            fail("node '\(source.name)' emitted on unknown port '\(port)'")
            return
        }
        let edges = source.outEdges[p]
        // Pushed in reverse so that they are delivered in declaration order.
        for edge in edges.reversed() {
            guard let data = edge.data else {
                deliveryObserver?(program.nodes[edge.target].name, edge.port, message)
                stack.append(.deliver(node: edge.target, port: edge.port, message: message))
                continue
            }
            do {
                let built = try data.evaluate(message, globals)
                deliveryObserver?(program.nodes[edge.target].name, edge.port, built)
                stack.append(.deliver(node: edge.target, port: edge.port, message: built))
            } catch {
                // An expression error on an edge is an error of the edge's target node.
                nodeFailed(edge.target, port: edge.port, input: message, NodeError(error))
            }
        }
    }

    /// Routes a node failure to its `error` port, or records it on the run when nothing handles it.
    /// Either way it is in the run's error log (`handled` says which); only unhandled ones count as
    /// failed here (a handled one counts where the flow counts it: `count: failed`, a dead letter).
    func nodeFailed(_ node: Int, port: String, input: Value, _ error: NodeError) {
        failureEvents += 1
        nextFailureID += 1
        let id = error.failureID ?? nextFailureID
        let n = program.nodes[node]
        let errorEdges = n.outEdges[n.errorPort]
        // The input preview (a serialization) is made only for errors the log keeps.
        if record.errors.count < RunRecord.maxErrors + (inEndPhase ? 10 : 0) {
            var entry = RunRecord.ErrorEntry(
                node: n.name, port: port, location: error.location, message: error.message,
                input: redactedPreview(input), code: error.code, retryable: error.retryable,
                handled: !errorEdges.isEmpty)
            entry.afterEnd = inEndPhase
            record.errors.append(entry)
            errorFailureIDs.append(id)
        }
        if !errorEdges.isEmpty {
            record.counters[.handled, default: 0] += 1
            // Error messages leave the run through whatever the flow connects (a database, a webhook):
            // redacted like the error log.
            var err: Value.Object = [
                "message": .string(redactor.redact(error.message)), "code": .string(error.code),
                "retryable": .bool(error.retryable), "node": .string(n.name), "port": .string(port), "id": .int(id),
            ]
            if let location = error.location { err["location"] = .string(location) }
            emit(node: node, port: "error", ["error": .object(err), "input": input, "context": input["context"]])
            return
        }
        logger.log(.warning, error.description, flow: program.name, node: n.name, run: record.id)
        if countedFailures.insert(id).inserted { countFailed(1) }
    }

    /// Counts the failure a message carries (its `error.id`), once however many nodes count it.
    func countFailure(of message: Value) {
        if let id = message["error"]["id"].intValue, !countedFailures.insert(id).inserted { return }
        countFailed(1)
    }

    /// Notes that the failure a message carries was parked in the dead-letter queue (once per failure).
    func markParked(_ message: Value) {
        if let id = message["error"]["id"].intValue, !parkedFailures.insert(id).inserted { return }
        parkedCount += 1
    }

    /// Notes the version (checkpoint value) of a failed record, once per failure; a null version is
    /// unknown, and leaves the cursor where the run started.
    func markFailedVersion(_ message: Value, version: Value) {
        guard !version.isNull, !inEndPhase else { return }
        if let id = message["error"]["id"].intValue, !versionedFailures.insert(id).inserted { return }
        versionedFailureCount += 1
        if let oldest = oldestFailedVersion {
            if let c = Builtins.compare(version, oldest), c < 0 { oldestFailedVersion = version }
        } else {
            oldestFailedVersion = version
        }
    }

    func countFailed(_ n: Int) {
        guard !inEndPhase else { return }
        record.counters[.failed, default: 0] += n
        checkBreaker()
    }

    /// Records attempted so far, as the status rules and the circuit breaker count them: by outcome
    /// (written + failed) when a writer counts records, else what the sources handed over.
    var attempted: Int {
        countsByOutcome ? record[.attempted] + record[.failed] : record.recordsAttempted
    }

    /// Trips the circuit breaker when too many records failed; called whenever `failed` grows (an
    /// unhandled error, or a component counting a handled failure such as a dead letter).
    func checkBreaker() {
        guard !halted, !inEndPhase else { return }
        let failed = record[.failed]
        if RunStatusRules.breakerTripped(
            attempted: attempted, failed: failed, minRecords: program.policy.minRecords,
            ratio: program.policy.failureRatio)
        {
            fail("circuit breaker: \(failed) of \(max(attempted, failed)) records failed")
        }
    }

    func redactedPreview(_ value: Value) -> String { redactor.preview(value) }

    /// Ends the run as failed with a reason (fatal: the rest of its work is dropped). `retryable` says
    /// whether `run.retries` may try it again.
    func fail(_ reason: String, status: RunRecord.Status = .failed, retryable: Bool = false) {
        guard !halted, !inEndPhase else { return }
        halted = true
        fatalRetryable = retryable
        record.status = status
        record.reason = reason
        stack.removeAll()
        logger.log(.error, reason, flow: program.name, node: nil, run: record.id)
    }

    /// Starts the run at a trigger node (fires it) or with a message delivered to a node's input port.
    func start(trigger node: Int) {
        var context = NodeContext(run: self, node: node)
        guard let trigger = program.nodes[node].component as? TriggerComponent else { return }
        do { try trigger.fire(&context) } catch { nodeFailed(node, port: "fire", input: .null, error) }
    }

    func start(deliver message: Value, to node: Int, port: String) {
        stack.append(.deliver(node: node, port: port, message: message))
    }

    /// Delivers until nothing is left and nothing is in flight (the run's end), the budget runs out,
    /// or the run is stopped.
    func drain() {
        var sinceCheck = 0
        while !halted {
            if totalInFlight > 0 { applyCompletions() }
            guard let work = stack.popLast() else {
                if totalInFlight == 0 || (inEndPhase && endPhaseInFlight == 0) { return }
                inbox.wait(nanos: 50_000_000)
                if checkStop() { return }
                progress?(record)
                saveProgress()
                continue
            }
            switch work {
            case .ready(let node):
                handleReady(node)
                continue
            case .sequence(let emission):
                // Back pressure: a producer waits while an I/O node has too much waiting for it.
                if asyncNodes.values.contains(where: { $0.waiting.count >= max(Self.waitingLimit, 4 * $0.concurrency) })
                {
                    stack.append(work)
                    inbox.wait(nanos: 50_000_000)
                    if checkStop() { return }
                    progress?(record)
                    saveProgress()
                    continue
                }
                if emission.stopOnFailure, failureEvents > emission.failuresAtStart { continue }
                if emission.next < emission.count {
                    let i = emission.next
                    emission.next += 1
                    stack.append(work)
                    emit(node: emission.node, port: emission.port, emission.make(i))
                } else if let done = emission.completion {
                    var context = NodeContext(run: self, node: emission.node)
                    done(&context)
                }
                continue
            case .deliver(let node, let port, let message):
                record.messages += 1
                deliveries[node] += 1
                if record.messages > program.policy.maxMessages {
                    fail(
                        "message budget of \(program.policy.maxMessages) deliveries exhausted (a loop that never ends?)"
                    )
                    return
                }
                let target = program.nodes[node]
                if target.isAsync, let io = target.asyncComponent {
                    deliverAsync(node, io, port, message)
                } else {
                    var context = NodeContext(run: self, node: node)
                    do {
                        try target.component.receive(message, on: port, &context)
                    } catch {
                        nodeFailed(node, port: port, input: message, error)
                    }
                }
            }
            sinceCheck += 1
            if sinceCheck >= 1024 {
                sinceCheck = 0
                if checkStop() { return }
                progress?(record)
                saveProgress()
            }
        }
    }

    /// Saves the running record at most once a second (by the run's clock): live progress for
    /// `flowrun runs ID`, the admin API and other processes sharing the store.
    func saveProgress() {
        guard !inEndPhase else { return }
        let now = globals.clock()
        guard now - lastSaved >= Self.saveInterval else { return }
        lastSaved = now
        var snapshot = record
        snapshot.countWrittenAsProcessed()
        if lease != nil {
            if !saveFenced(snapshot) {
                loseLease("lease lost: the progress save was refused by its fencing token")
                stack.removeAll()
            }
        } else {
            records.saveProgress(snapshot)
        }
    }

    /// Cancellation and `run.timeout`; true when the run must stop. The end phase runs to its end.
    func checkStop() -> Bool {
        if inEndPhase { return false }
        if lease?.isLost == true {
            fail("lease lost", status: .abandoned)
            return true
        }
        if cancellation.isCancelled {
            fail("cancelled", status: .cancelled)
            return true
        }
        if let deadline, globals.clock() > deadline {
            fail("run.timeout exceeded", status: .timedOut)
            return true
        }
        return false
    }

    // MARK: I/O nodes

    func deliverAsync(_ node: Int, _ io: any AsyncComponent, _ port: String, _ message: Value) {
        let state = asyncNodes[node] ?? AsyncNodeState(concurrency: program.nodes[node].checked.concurrency)
        asyncNodes[node] = state
        let seq = state.nextSeq
        state.nextSeq += 1
        if state.inFlight < state.concurrency {
            startAsync(node, io, state, seq, port, message)
        } else {
            state.waiting.append((seq, port, message))
        }
    }

    /// I/O work started in the end phase and not finished yet.
    private var endPhaseInFlight = 0

    func startAsync(
        _ node: Int, _ io: any AsyncComponent, _ state: AsyncNodeState, _ seq: Int, _ port: String,
        _ message: Value
    ) {
        state.inFlight += 1
        totalInFlight += 1
        if inEndPhase { endPhaseInFlight += 1 }
        state.inputs[seq] = (port, message)
        var context = AsyncContext(
            nodeName: program.nodes[node].name, runID: record.id, settings: settings[node], globals: globals,
            isDryRun: record.dryRun, redactor: redactor)
        context.flowName = program.name
        context.logger = logger
        let inbox = self.inbox
        io.start(message, on: port, context) { result in inbox.post(node, seq, result) }
    }

    /// Takes finished I/O work and queues its results per node in the order the messages arrived.
    func applyCompletions() {
        for (node, seq, result) in inbox.take() {
            guard let state = asyncNodes[node], let input = state.inputs.removeValue(forKey: seq) else { continue }
            state.inFlight -= 1
            totalInFlight -= 1
            if inEndPhase {
                // Results of the run's main work that finish after it ended are dropped.
                guard seq >= endPhaseSeq[node] ?? 0 else {
                    if state.nextToEmit == seq { state.nextToEmit += 1 }
                    continue
                }
                endPhaseInFlight -= 1
            }
            state.finished[seq] = (input.port, input.message, result)
            // Start the next waiting message before emitting, so the node stays busy.
            if !state.waiting.isEmpty, state.inFlight < state.concurrency, let io = program.nodes[node].asyncComponent {
                let next = state.waiting.removeFirst()
                startAsync(node, io, state, next.seq, next.port, next.message)
            }
            while let done = state.finished.removeValue(forKey: state.nextToEmit) {
                state.ready.append(done)
                state.nextToEmit += 1
            }
            if !state.ready.isEmpty, !state.readyScheduled {
                state.readyScheduled = true
                stack.append(.ready(node: node))
            }
        }
    }

    /// Handles the oldest finished result of an I/O node; the next one waits until this one's
    /// messages have been handled downstream.
    func handleReady(_ node: Int) {
        guard let state = asyncNodes[node] else { return }
        guard !state.ready.isEmpty else {
            state.readyScheduled = false
            return
        }
        let done = state.ready.removeFirst()
        // The marker stays below this result's messages: results finishing meanwhile queue behind it.
        stack.append(.ready(node: node))
        if !inEndPhase {
            for (counter, n) in done.result.counters { record.counters[counter, default: 0] += n }
            if (done.result.counters[.failed] ?? 0) > 0 { checkBreaker() }
        }
        for (column, n) in done.result.changedColumns { record.changedColumns[column, default: 0] += n }
        if let error = done.result.error {
            nodeFailed(node, port: done.port, input: done.input, error)
            return
        }
        for emission in done.result.emissions.reversed() {
            emitReversed(node: node, port: emission.port, emission.message)
        }
    }

    /// `emit`, for callers that push several emissions in reverse order themselves.
    private func emitReversed(node: Int, port: String, _ message: Value) { emit(node: node, port: port, message) }

    func push(_ emission: SequenceEmission) {
        emission.failuresAtStart = failureEvents
        stack.append(.sequence(emission))
    }

    /// Settles the run: its status (from the counters unless it already ended otherwise), a reason
    /// for every failed, timed-out or cancelled run, its retry class, and the checkpoints, committed
    /// only when the run completed without failures or (`cursorPolicy: park`) with failures that were
    /// all parked in the dead-letter queue. Then the run-end nodes see the settled record.
    func finish() {
        if !halted {
            record.status = RunStatusRules.resolve(attempted: record.recordsAttempted, failed: record[.failed])
            if record.status == .failed {
                let first = firstCountedError.map { ": first at \($0.node): \($0.message)" } ?? ""
                record.reason = "\(record[.failed]) of \(record.recordsAttempted) records failed" + first
            }
        }
        record.countWrittenAsProcessed()
        let parked =
            program.policy.parkFailures && record.status == .completedWithErrors && parkedCount >= record[.failed]
        if record.status == .completed || parked, !record.dryRun {
            commit(checkpoints)
        } else if record.status == .completedWithErrors, !record.dryRun, let bound = holdBound() {
            commit(checkpointsBefore(bound))
        }
        if record.status != .completed && record.status != .completedWithErrors && record.reason == nil {
            record.reason = record.status.rawValue
        }
        let retry = RunStatusRules.classify(record, fatalRetryable: halted ? fatalRetryable : nil)
        record.retryable = retry.retryable
        record.retryNote = retry.note
        record.completedAt = globals.clock()
        runEndPhase()
        for (i, n) in deliveries.enumerated() where n > 0 { record.nodeMessages[program.nodes[i].name] = n }
    }

    /// The error the reason of a run failed by its counters quotes: the first one counted as `failed`,
    /// not a handled error whose records were tried again (a batch error before its per-record failures);
    /// the first of the log when none was counted.
    var firstCountedError: RunRecord.ErrorEntry? {
        let counted = zip(record.errors, errorFailureIDs).first { countedFailures.contains($0.1) }?.0
        return counted ?? record.errors.first
    }

    /// Commits checkpoint values, each combined with the stored one (a cursor never moves backwards).
    func commit(_ values: [String: (value: Value, reduce: CheckpointReduce)]) {
        if let lease {
            commitFenced(values, fence: lease.fence)
            return
        }
        for (key, offered) in values.sorted(by: { $0.key < $1.key }) {
            do {
                let current = try store.get(flow: program.name, key: key)
                let next = current.map { offered.reduce.combine($0, offered.value) } ?? offered.value
                try store.set(flow: program.name, key: key, value: next)
            } catch {
                record.status = .failed
                record.reason = "could not commit checkpoint '\(key)': \(error)"
                fatalRetryable = true
                halted = true
            }
        }
    }

    /// Commits every checkpoint in one transaction that first checks the run's fencing token: a run that
    /// lost its lease commits nothing and ends `abandoned` ("lease lost").
    func commitFenced(_ values: [String: (value: Value, reduce: CheckpointReduce)], fence: Fence) {
        guard !values.isEmpty else { return }
        do {
            let committed = try store.commit(
                flow: program.name, fence: fence, keys: Array(values.keys), record: nil
            ) { current in
                var out: [String: Value?] = [:]
                for (key, offered) in values {
                    out[key] = current[key].map { offered.reduce.combine($0, offered.value) } ?? offered.value
                }
                return out
            }
            if !committed { loseLease("lease lost: the checkpoint commit was refused by its fencing token") }
        } catch {
            record.status = .failed
            record.reason = "could not commit checkpoints: \(error)"
            fatalRetryable = true
            halted = true
        }
    }

    /// Ends the run `abandoned`: another replica holds its lease now.
    func loseLease(_ detail: String) {
        if !fencedOut { Telemetry.sink?.cluster(.fencedCommit, flow: program.name) }
        fencedOut = true
        record.status = .abandoned
        record.reason = "lease lost"
        halted = true
        logger.log(.error, detail, flow: program.name, node: nil, run: record.id)
    }

    /// Saves the record through the run's fence (when it has a lease); false when the fence refused it.
    /// A store error counts as saved: progress saves get one try (the next one carries the same facts).
    func saveFenced(_ snapshot: RunRecord) -> Bool {
        guard let lease else { return true }
        let fence = lease.fence
        return
            (try? store.commit(flow: program.name, fence: fence, keys: [], record: snapshot) { _ in [:] }) != false
    }

    /// Under `run.cursorPolicy: hold`, for a run that completed with errors: the checkpoint value of the
    /// oldest unresolved failure (this run's and the flow's open or parked dead-letter items), when every
    /// failure of the run has one; nil (the cursor stays where the run started) otherwise.
    func holdBound() -> Value? {
        guard keepsOfferedCheckpoints, record[.failed] > 0, versionedFailureCount >= record[.failed],
            var bound = oldestFailedVersion,
            let unresolved = try? DeadLetterQueue(store: store).list(flow: program.name)
        else { return nil }
        for item in unresolved {
            guard !item.version.isNull, let c = Builtins.compare(item.version, bound) else { return nil }
            if c < 0 { bound = item.version }
        }
        return bound
    }

    /// Per checkpoint key (reduce `max`), the newest value offered strictly before `bound`.
    func checkpointsBefore(_ bound: Value) -> [String: (value: Value, reduce: CheckpointReduce)] {
        var out: [String: (value: Value, reduce: CheckpointReduce)] = [:]
        for (key, values) in offeredCheckpoints {
            var best: Value?
            for v in values {
                guard let c = Builtins.compare(v, bound) else { return [:] }
                guard c < 0 else { continue }
                if let b = best, (Builtins.compare(v, b) ?? 0) <= 0 { continue }
                best = v
            }
            if let best { out[key] = (best, .max) }
        }
        return out
    }

    /// The run's last phase: every `run-end` node emits the settled record, and what follows runs to
    /// its end. Nothing in it changes the status, the counters or the cursor; its failures are kept
    /// apart on the record (`afterEnd`). Work of the main phase still in flight is dropped.
    func runEndPhase() {
        let ends = program.nodes.indices.filter { program.nodes[$0].component is RunEndComponent }
        guard !ends.isEmpty else { return }
        let settled = record
        inEndPhase = true
        halted = false
        stack.removeAll()
        for (node, state) in asyncNodes {
            endPhaseSeq[node] = state.nextSeq
            state.waiting.removeAll()
            state.ready.removeAll()
            state.finished.removeAll()
            state.nextToEmit = state.nextSeq
            state.readyScheduled = false
        }
        for node in ends {
            let name = program.nodes[node].outputs.first ?? "out"
            emit(node: node, port: name, redactor.redact(settled).json)
        }
        drain()
        let endErrors = record.errors.filter(\.afterEnd)
        let messages = record.messages
        record = settled
        record.messages = messages
        record.errors += endErrors
        for e in endErrors {
            logger.log(.error, "after the run ended: \(e.message)", flow: program.name, node: e.node, run: record.id)
        }
    }
}

/// A trigger of the run's last phase (`run-end`): fires once the run's status is settled.
public protocol RunEndComponent: Component {}

/// Many messages emitted one at a time by one node.
final class SequenceEmission {
    let node: Int
    let port: String
    let count: Int
    let make: (Int) -> Value
    let stopOnFailure: Bool
    let completion: ((inout NodeContext) -> Void)?
    var next = 0
    var failuresAtStart = 0

    init(
        node: Int, port: String, count: Int, stopOnFailure: Bool, make: @escaping (Int) -> Value,
        completion: ((inout NodeContext) -> Void)?
    ) {
        self.node = node
        self.port = port
        self.count = count
        self.make = make
        self.stopOnFailure = stopOnFailure
        self.completion = completion
    }
}

/// How checkpoint values offered in one run combine, and how a commit combines with the stored value.
public enum CheckpointReduce: String, Sendable {
    case max, min, last

    func combine(_ a: Value, _ b: Value) -> Value {
        switch self {
        case .last: return b
        case .max: return (Builtins.compare(b, a) ?? 0) > 0 ? b : a
        case .min: return (Builtins.compare(b, a) ?? 0) < 0 ? b : a
        }
    }
}

/// A flag another thread can raise to stop runs.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLockLite()
    private var cancelled = false
    /// A run's flag also reads its runtime's (SIGTERM cancels every run; the API one run).
    private let parent: CancellationFlag?
    public init(parent: CancellationFlag? = nil) { self.parent = parent }
    public var isCancelled: Bool { lock.withLock { cancelled } || (parent?.isCancelled ?? false) }
    public func cancel() { lock.withLock { cancelled = true } }
}

/// A tiny pthread mutex, to avoid Foundation in the runtime's core.
final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

#if canImport(Glibc)
    import Glibc
#endif
