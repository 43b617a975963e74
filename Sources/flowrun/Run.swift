import ArgumentParser
import Dispatch
import Flowrun
import Foundation
import FlowrunService

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Check a flow, then run it (the default command: `flowrun FILE` is `flowrun run FILE`).",
        discussion: """
            With --once (or when the flow has no ticker) each trigger fires once; flowrun waits for the runs,
            prints their summaries and exits 0 (completed), 3 (completed_with_errors), 1 (failed, timed_out,
            cancelled) or 2 (the flow did not pass `check`). Otherwise tickers fire on their interval until
            SIGINT/SIGTERM.
            """)

    @Argument(help: "Flow files.") var files: [String]
    @Flag(help: "Fire each trigger once, wait for the runs, print the summary, exit.") var once = false
    @Option(help: "Start a manual run whose first message is this JSON (or @file).") var input: String?
    @Option(help: "The node (or node.port) --input is delivered to; default: the flow's trigger.") var entry: String?
    @Option(name: .customLong("set"), help: "Override a var: --set vars.pageSize=50 (JSON or text).") var sets:
        [String] = []
    @Flag(help: "Reads happen, writes do not.") var dryRun = false
    @Option(help: "State store path (default .flowrun/state.db beside the flow, or FLOWRUN_STATE_URL).") var state:
        String?
    @Option(help: "Log format: text or json.") var logFormat: String = "text"
    @Option(help: "Seconds in-flight runs may finish after SIGINT/SIGTERM before they are cancelled.") var grace:
        Double = 30

    func parseVars() throws -> [String: Value] {
        var vars: [String: Value] = [:]
        for s in sets {
            guard let eq = s.firstIndex(of: "="), s.hasPrefix("vars.") else {
                throw UsageError("--set takes vars.NAME=VALUE, got '\(s)'")
            }
            let name = String(s[s.index(s.startIndex, offsetBy: 5)..<eq])
            let text = String(s[s.index(after: eq)...])
            vars[name] = (try? JSON.parse(text)) ?? .string(text)
        }
        return vars
    }

    func run() throws {
        guard let format = ConsoleLogger.Format(rawValue: logFormat) else {
            throw UsageError("--log-format is text or json")
        }
        let vars = try parseVars()
        let message = try input.map { try InputArgument.parse($0) }
        var worst: Int32 = 0
        for file in files {
            let flow = try FlowLoading.checked(file)
            let store: any StateStore
            do { store = try Running.openStore(Running.statePath(explicit: state, flowFile: file)) } catch {
                FileHandleOutput.stderr("\(error)")
                throw ExitCode(1)
            }
            var options = FlowRuntime.Options()
            options.vars = vars
            options.dryRun = dryRun
            options.logger = ConsoleLogger(format: format)
            options.recordSpool = FileSpool.beside(flowFile: file)
            if isatty(2) != 0, format == .text, flow.policy.overlap != .allow {
                options.progress = ProgressLine.shared.update
            }
            let runtime = try FlowLoading.runtime(flow, file: file, store: store, options: options)
            let signals = SignalHandling(runtime: runtime, grace: grace)
            defer { signals.stop() }
            let code =
                once || message != nil || !hasSchedule(runtime)
                ? runOnce(runtime, message: message)
                : runScheduled(runtime, file: file, signals: signals)
            worst = max(worst, code == 3 && worst == 1 ? 1 : code)
        }
        if worst != 0 { throw ExitCode(worst) }
    }

    func hasSchedule(_ runtime: FlowRuntime) -> Bool {
        runtime.program.triggers.contains {
            runtime.program.nodes[$0].checked.descriptor.name == "ticker"
                || runtime.program.nodes[$0].component is ServingComponent
        }
    }

    func runOnce(_ runtime: FlowRuntime, message: Value?) -> Int32 {
        var records: [RunRecord] = []
        do throws(RunLock.Busy) {
            if let message {
                records += try runtime.run(
                    .input(message, entry: entry ?? runtime.defaultEntry ?? ""), trigger: .manual)
            } else if runtime.program.triggers.isEmpty {
                FileHandleOutput.stderr(
                    "\(runtime.program.name): nothing to fire: the flow has no trigger (use --input)")
                return 1
            } else {
                for t in runtime.program.triggers where !(runtime.program.nodes[t].component is ServingComponent) {
                    records += try runtime.run(.trigger(runtime.program.nodes[t].name), trigger: .manual)
                }
            }
        } catch {
            // Another run holds the flow (run.overlap: skip): nothing ran.
            for r in records { print(Running.summary(r)) }
            FileHandleOutput.stderr("\(error.description); not started")
            return Running.busyExitCode
        }
        var code: Int32 = 0
        ProgressLine.shared.clear()
        for r in records { print(Running.summary(r)) }
        // The outcome is the last attempt of each trigger's runs.
        for r in records where r.parentID == nil || r.id == records.last?.id {
            let c = Running.exitCode((records.last { $0.id == r.id || $0.parentID == r.id } ?? r).status)
            code = code == 1 || c == 1 ? 1 : max(code, c)
        }
        return Running.exitCode(records.last?.status ?? .failed) == 1 ? 1 : code
    }

    /// Scheduled mode for one flow: the same scheduler as `flowrun serve` (overlap, catch-up, next-run
    /// times in the state store, health backoff, webhooks), without the admin API. Returns when no
    /// trigger will fire again, or after SIGINT/SIGTERM (0); otherwise the last run's exit status.
    func runScheduled(_ runtime: FlowRuntime, file: String, signals: SignalHandling) -> Int32 {
        var options = Service.Options()
        options.logger = runtime.options.logger
        let service = Service(store: runtime.store, options: options)
        let printLock = NSLock()
        nonisolated(unsafe) var code: Int32 = 0
        service.onFinished = { r in
            // Webhook runs answer their callers and stay in the run history; only scheduled runs are
            // summarised here, as with --once.
            guard r.trigger != .webhook else { return }
            printLock.withLock {
                ProgressLine.shared.clear()
                print(Running.summary(r))
                code = Running.exitCode(r.status)
            }
        }
        service.add(runtime, file: file)
        for t in runtime.program.triggers {
            let node = runtime.program.nodes[t]
            if node.component is ServingComponent {
                if service.flows.first?.servers.isEmpty ?? true { return 1 }  // could not listen (logged)
                continue
            }
            if !(node.component is ServingComponent), TickerSchedule(node.checked) == nil {
                FileHandleOutput.stderr("\(node.name): this trigger has no schedule; use --once")
                return 1
            }
        }
        signals.onStop = { service.requestStop() }
        service.runLoop(untilIdle: true)
        service.stop(grace: signals.grace)
        return signals.stopRequested ? 0 : printLock.withLock { code }
    }
}

/// The live one-line progress display on a terminal (`RunProgress.line`), redrawn at most every 100 ms.
/// `flowrun FLOW` installs it only when standard error is a terminal.
final class ProgressLine: @unchecked Sendable {
    static let shared = ProgressLine()
    private var last = 0
    private var shown = false

    func update(_ r: RunRecord) {
        let now = Globals.systemClock()
        guard now - last > 100_000_000 else { return }
        last = now
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + RunProgress.line(r, now: now)).utf8))
        shown = true
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        shown = false
    }
}

/// SIGINT/SIGTERM: stop firing triggers, let the in-flight run finish within the grace period, then cancel it.
final class SignalHandling: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let lock = NSLock()
    private var stopped = false
    private let wake = DispatchSemaphore(value: 0)

    let grace: Double
    /// Called on the first signal (the scheduler stops firing).
    var onStop: (@Sendable () -> Void)? {
        get { lock.withLock { stopHandler } }
        set { lock.withLock { stopHandler = newValue } }
    }
    private var stopHandler: (@Sendable () -> Void)?

    init(runtime: FlowRuntime, grace: Double) {
        self.grace = grace
        var sources: [DispatchSourceSignal] = []
        let queue = DispatchQueue(label: "flowrun.signals")
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            sources.append(source)
        }
        self.sources = sources
        let cancellation = runtime.cancellation
        for source in sources {
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let first = self.lock.withLock {
                    defer { self.stopped = true }
                    return !self.stopped
                }
                self.wake.signal()
                if first { self.onStop?() }
                if first {
                    queue.asyncAfter(deadline: .now() + grace) { cancellation.cancel() }
                } else {
                    cancellation.cancel()  // a second signal cancels at once
                }
            }
            source.resume()
        }
    }

    var stopRequested: Bool { lock.withLock { stopped } }

    func sleep(nanos: Int) { _ = wake.wait(timeout: .now() + .nanoseconds(nanos)) }

    func stop() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
