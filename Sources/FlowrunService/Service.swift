import Flowrun
import Foundation

/// `flowrun serve`: many flows in one process. Loads and checks every flow (one that fails `check` is
/// reported and not started), fires their schedules on time without overlapping runs of one flow,
/// serves their webhooks and the admin API, reloads changed files on SIGHUP and shuts down gracefully.
public final class Service: @unchecked Sendable {
    public struct Options {
        public var statePath: String?
        public var logger: any RunLogger = SilentLogger()
        public var clock: @Sendable () -> Int = Globals.systemClock
        public var vars: [String: Value] = [:]
        /// Run records and closed dead letters older than this (nanoseconds) are pruned at start-up and
        /// then once a day (`--retention`); nil keeps everything.
        public var retention: Int?
        /// Lease timing for flows without `run.lease` (`--lease-ttl`, `--lease-renewal`); sets how often
        /// this replica sweeps for expired leases.
        public var leaseTiming = LeaseTiming.standard
        /// This replica's node id (`FLOWRUN_NODE_ID`) and version, as the cluster registry shows them.
        public var node = ClusterNode.id
        public var version = "dev"
        public init() {}
    }

    public let store: any StateStore
    public let metrics = ServiceMetrics()
    /// When this replica started (the cluster registry shows it; `StartClaims` compares it).
    let startedAt: Int
    let cluster = ClusterClock()
    /// Final run records waiting while the store is unreachable, shared by every flow (and kept across
    /// reloads): the next save of any run writes them.
    public let recordSpool = MemorySpool()
    let options: Options
    private let lock = NSLock()
    private var services: [String: FlowService] = [:]
    /// Problems of flow files that did not load, by file.
    public private(set) var problems: [String: String] = [:]
    private var paths: [String] = []
    private var failedDigests: [String: String] = [:]
    private let wake = DispatchSemaphore(value: 0)
    private var stopping = false
    private let runs = DispatchGroup()
    /// When retention next prunes the store (the scheduler loop's first pass: start-up).
    private var nextHousekeeping: Int?
    static let housekeepingInterval = 86_400_000_000_000
    /// Sees every finished run (attempts included), e.g. to print summaries.
    public var onFinished: (@Sendable (RunRecord) -> Void)?

    public init(store: any StateStore, options: Options) {
        self.store = store
        self.options = options
        startedAt = options.clock()
        Telemetry.install(metrics)
    }

    public var flows: [FlowService] { lock.withLock { services.values.sorted { $0.name < $1.name } } }

    public func flow(named name: String) -> FlowService? { lock.withLock { services[name] } }

    /// Flow files named directly, or the `.yaml`/`.yml` files of a directory.
    public static func expand(_ arguments: [String]) -> [String] {
        arguments.flatMap { path -> [String] in
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                return [path]
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            var directory = path
            while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
            let base = directory == "/" ? "/" : directory + "/"
            return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { base + $0 }
        }
    }

    /// Loads (or reloads) the flow files. A file that fails `check` is reported in `problems`; on reload
    /// the version already running stays. Returns the diagnostics text per failing file.
    @discardableResult
    public func load(_ arguments: [String]) -> [String: String] {
        lock.withLock { paths = arguments }
        var failures: [String: String] = [:]
        var loaded: [FlowService] = []
        for file in Self.expand(arguments) {
            let existing = lock.withLock { services.values.first { $0.file == file } }
            let digest = FlowService.digest(file)
            if let existing, existing.fileDigest == digest {
                lock.withLock { problems[file] = nil }  // back to the running version
                continue
            }
            // A broken file is reported once per version, not on every --watch poll.
            if lock.withLock({ failedDigests[file] == digest }) { continue }
            let report: FlowChecker.Report
            do throws(FlowFiles.ReadError) { report = try FlowFiles.check(file) } catch {
                failures[file] = error.description
                continue
            }
            guard let flow = report.flow else {
                failures[file] = Diagnostic.renderAll(report.diagnostics)
                continue
            }
            var runtimeOptions = FlowRuntime.Options()
            runtimeOptions.logger = options.logger
            runtimeOptions.clock = options.clock
            runtimeOptions.vars = options.vars
            runtimeOptions.leaseTiming = options.leaseTiming
            runtimeOptions.node = options.node
            runtimeOptions.recordSpool = recordSpool
            do throws(NodeError) {
                let runtime = try FlowRuntime(flow: flow, factories: .standard, store: store, options: runtimeOptions)
                loaded.append(FlowService(file: file, runtime: runtime))
            } catch {
                failures[file] = error.description
            }
        }
        for (file, text) in failures {
            options.logger.log(.error, "\(file) was not loaded:\n\(text)", flow: "serve", node: nil, run: nil)
        }
        // In the registry before the first flow starts: replicas starting later see this one (emitOnStart).
        if !loaded.isEmpty { publish(now: options.clock()) }
        for service in loaded { install(service) }
        lock.withLock {
            for (file, text) in failures {
                problems[file] = text
                failedDigests[file] = FlowService.digest(file)
            }
            for s in loaded {
                problems[s.file] = nil
                failedDigests[s.file] = nil
            }
        }
        wake.signal()
        return failures
    }

    /// Starts a loaded flow (its servers and schedule), replacing an older version of the same flow:
    /// the old one's triggers stop, its in-flight runs finish on their own threads.
    func install(_ service: FlowService) {
        let old = lock.withLock { () -> FlowService? in
            let old = services.values.first { $0.file == service.file || $0.name == service.name }
            if let old { services[old.name] = nil }
            return old
        }
        if let old {
            for s in old.servers { s.stopServing() }
            options.logger.log(.info, "reloading \(service.file)", flow: service.name, node: nil, run: nil)
        }
        // Runs this host's dead processes left `running` are closed now, not when the flow next runs.
        service.runtime.markAbandonedRuns()
        let now = options.clock()
        service.prepareSlots(now: now) { [self] node in claimStart(flow: service.name, node: node, now: now) }
        for t in service.runtime.program.triggers {
            let node = service.runtime.program.nodes[t]
            guard let server = node.component as? ServingComponent else { continue }
            let name = node.name
            do throws(NodeError) {
                let settings = try service.runtime.standingSettings(of: name)
                try server.serve(settings: settings) { [weak self, weak service] message in
                    guard let self, let service else { return "the flow was unloaded" }
                    if service.isDisabled {
                        self.options.logger.log(
                            .warning, "\(name): webhook refused, \(service.disabledMessage)", flow: service.name,
                            node: name, run: nil)
                        return service.disabledMessage
                    }
                    service.began()
                    return self.execute(service, .input(message, node: name, port: nil), trigger: .webhook)
                }
                service.servers.append(server)
                options.logger.log(
                    .info,
                    "\(name) listening on \(settings["host"]?.stringValue ?? "127.0.0.1"):\(settings["port"]?.interpolated ?? "?")",
                    flow: service.name, node: name, run: nil)
            } catch {
                options.logger.log(.error, "\(name): \(error.description)", flow: service.name, node: name, run: nil)
            }
        }
        lock.withLock { services[service.name] = service }
    }

    /// Runs one start of a flow on the calling thread, with metrics and health bookkeeping; the
    /// service's `running` count was raised by the caller. Returns why the run was not started (another
    /// run holds the flow), or nil.
    @discardableResult
    func execute(
        _ service: FlowService, _ start: FlowRuntime.Start, trigger: RunRecord.Trigger, dryRun: Bool? = nil,
        parent: String? = nil, slot: Int? = nil, waits: Bool = false, started: ((RunRecord) -> Void)? = nil
    ) -> String? {
        runs.enter()
        defer {
            runs.leave()
            wake.signal()  // a queued slot may fire now, or the loop may be done
        }
        let records: [RunRecord]
        let catchUp = trigger == .rescue || waits
        do throws(RunLock.Busy) {
            records = try service.runtime.run(
                start, trigger: trigger, parent: parent, dryRun: dryRun, slot: slot, waits: waits, started: started)
        } catch {
            service.finished([], catchUp: catchUp)
            if trigger == .scheduled, let slot, case .trigger(let node) = start {
                deferSlot(service, DeferredSlots.Entry(node: node, slot: slot, holder: error.holder))
                return error.description
            }
            options.logger.log(.info, "\(error.description); not started", flow: service.name, node: nil, run: nil)
            return error.description
        }
        metrics.runStarted()
        for (i, r) in records.enumerated() {
            if i > 0 { metrics.runStarted() }
            metrics.runFinished(r)
            onFinished?(r)
        }
        service.finished(records, catchUp: catchUp)
        return nil
    }

    /// Starts a manual run (admin API) and returns its id once it has started; nil when the flow is
    /// unknown, disabled or has nothing to trigger.
    public func trigger(flow name: String, input: Value?) -> String? {
        guard let service = flow(named: name), !service.isDisabled,
            let start = service.runtime.manualStart(input: input)
        else { return nil }
        if case .started(let id) = launch(service, start, trigger: .manual, dryRun: false) { return id }
        return nil
    }

    /// What starting a run from the admin API did.
    public enum Launch: Equatable, Sendable {
        case started(String)
        /// Another run holds the flow (or its concurrency key): the reason names it.
        case busy(String)
    }

    /// Starts a run on its own thread and returns once it started (its id) or was refused (busy).
    public func launch(
        _ service: FlowService, _ start: FlowRuntime.Start, trigger: RunRecord.Trigger, dryRun: Bool,
        parent: String? = nil
    ) -> Launch {
        service.began()
        let started = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Launch?
        Thread.detachNewThread {
            let refused = self.execute(service, start, trigger: trigger, dryRun: dryRun, parent: parent) { record in
                if outcome == nil {
                    outcome = .started(record.id)
                    started.signal()
                }
            }
            if let refused {
                outcome = .busy(refused)
                started.signal()
            }
        }
        started.wait()
        return outcome ?? .busy("not started")
    }

    /// The records of the runs in progress in every flow, as last saved (at least every second).
    public func liveRecords() -> [RunRecord] {
        flows.flatMap { f in f.runtime.activeRunIDs.compactMap { try? f.runtime.store.run(id: $0) } }
            .filter { $0.status == .running }
    }

    /// Cancels a run in progress in any flow.
    public func cancel(runID: String) -> Bool { flows.contains { $0.runtime.cancel(runID: runID) } }

    /// Adds a flow whose runtime the caller built (`flowrun FLOW` with a schedule).
    public func add(_ runtime: FlowRuntime, file: String) { install(FlowService(file: file, runtime: runtime)) }

    /// Ends `runLoop` without waiting for runs (SIGTERM: `stop(grace:)` follows).
    public func requestStop() {
        lock.withLock { stopping = true }
        wake.signal()
    }

    /// The scheduler loop: fires due slots on their own threads until `stop()`, or with `untilIdle`
    /// also when no flow has anything left to fire or to finish.
    public func runLoop(untilIdle: Bool = false) {
        while !lock.withLock({ stopping }) {
            let now = options.clock()
            housekeepIfDue(now: now)
            clusterDutiesIfDue(now: now)
            if untilIdle, flows.allSatisfy(\.isIdle) { return }
            var soonest = now + 1_000_000_000
            for service in flows {
                for due in service.takeDueSlots(now: now) {
                    Thread.detachNewThread {
                        self.execute(service, .trigger(due.node), trigger: .scheduled, slot: due.slot)
                    }
                }
                if let next = service.nextRun { soonest = min(soonest, next) }
            }
            let wait = max(1_000_000, min(soonest - options.clock(), 1_000_000_000))
            _ = wake.wait(timeout: .now() + .nanoseconds(wait))
        }
    }

    /// Retention: prunes the store the first time it is called (start-up) and then once a day. Returns
    /// the report when it pruned; a store error is logged and retried on the next day's pass.
    @discardableResult
    func housekeepIfDue(now: Int) -> Housekeeping.Report? {
        guard let retention = options.retention else { return nil }
        let due = lock.withLock { () -> Bool in
            guard now >= nextHousekeeping ?? now else { return false }
            nextHousekeeping = now + Self.housekeepingInterval
            return true
        }
        guard due else { return nil }
        do {
            let report = try Housekeeping.prune(store, before: now - retention)
            options.logger.log(.info, report.summary, flow: "serve", node: nil, run: nil)
            return report
        } catch {
            options.logger.log(.error, "pruning the state store failed: \(error)", flow: "serve", node: nil, run: nil)
            return nil
        }
    }

    /// Graceful shutdown: stop triggers and servers, let runs finish within `grace` seconds, then
    /// cancel them (they are recorded `cancelled`) and wait for them to end.
    public func stop(grace: Double) {
        requestStop()
        for service in flows { for s in service.servers { s.stopServing() } }
        if runs.wait(timeout: .now() + grace) == .timedOut {
            options.logger.log(
                .warning, "cancelling runs still going after \(grace)s", flow: "serve", node: nil, run: nil)
            for service in flows { service.runtime.cancellation.cancel() }
            runs.wait()
        }
        unpublish()
    }

    /// Reloads the flow files given at start (SIGHUP).
    public func reload() { load(lock.withLock { paths }) }

    /// Whether the flows are loaded and the state store answers.
    public var isReady: Bool {
        guard !flows.isEmpty else { return false }
        return (try? store.runs(flow: nil, limit: 1)) != nil
    }
}
