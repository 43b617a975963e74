import ArgumentParser
import Dispatch
import Flowrun
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
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
        var message: Value?
        if var text = input {
            if text.hasPrefix("@") {
                do throws(FlowFiles.ReadError) {
                    text = String(decoding: try FlowFiles.read(String(text.dropFirst())), as: UTF8.self)
                } catch {
                    throw UsageError(error.description)
                }
            }
            do throws(JSON.ParseError) { message = try JSON.parse(text) } catch {
                throw UsageError("--input: \(error.description)")
            }
        }
        var worst: Int32 = 0
        for file in files {
            let report: FlowChecker.Report
            do throws(FlowFiles.ReadError) { report = try FlowFiles.check(file) } catch {
                throw UsageError(error.description)
            }
            for d in report.diagnostics { FileHandleOutput.stderr(d.render() + "\n") }
            guard let flow = report.flow else { throw ExitCode(2) }
            let store: any StateStore
            do { store = try Running.openStore(Running.statePath(explicit: state, flowFile: file)) } catch {
                FileHandleOutput.stderr("\(error)")
                throw ExitCode(1)
            }
            var options = FlowRuntime.Options()
            options.vars = vars
            options.dryRun = dryRun
            options.logger = ConsoleLogger(format: format)
            if isatty(2) != 0, format == .text, flow.document.run?["overlap"]?.string != "allow" {
                options.progress = ProgressLine.shared.update
            }
            let runtime: FlowRuntime
            do throws(NodeError) {
                runtime = try FlowRuntime(flow: flow, factories: .standard, store: store, options: options)
            } catch {
                FileHandleOutput.stderr("\(file): \(error.description)")
                throw ExitCode(1)
            }
            let signals = SignalHandling(runtime: runtime, grace: grace)
            defer { signals.stop() }
            let code =
                once || message != nil || !hasSchedule(runtime)
                ? runOnce(runtime, message: message)
                : runScheduled(runtime, signals: signals)
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
        if let message {
            let target = entry ?? runtime.defaultEntry ?? ""
            let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
            records += runtime.run(
                .input(message, node: parts[0], port: parts.count > 1 ? parts[1] : nil), trigger: .manual)
        } else if runtime.program.triggers.isEmpty {
            FileHandleOutput.stderr("\(runtime.program.name): nothing to fire: the flow has no trigger (use --input)")
            return 1
        } else {
            for t in runtime.program.triggers where !(runtime.program.nodes[t].component is ServingComponent) {
                records += runtime.run(.trigger(runtime.program.nodes[t].name), trigger: .manual)
            }
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

    /// Fires tickers on their interval or cron schedule until SIGINT/SIGTERM. Runs of the flow never
    /// overlap: slots that pass while a run is going on are skipped.
    func runScheduled(_ runtime: FlowRuntime, signals: SignalHandling) -> Int32 {
        struct Slot {
            let node: String
            let schedule: TickerSchedule
            var next: Int?
            var remaining: Int?
        }
        var slots: [Slot] = []
        let now = Globals.systemClock()
        var servers: [any ServingComponent] = []
        defer { for s in servers { s.stopServing() } }
        for t in runtime.program.triggers {
            let node = runtime.program.nodes[t]
            if let server = node.component as? ServingComponent {
                let name = node.name
                var settings: [String: Value] = [:]
                do throws(NodeError) {
                    settings = try runtime.standingSettings(of: name)
                    try server.serve(settings: settings) { message in
                        _ = runtime.run(.input(message, node: name, port: nil), trigger: .webhook)
                    }
                } catch {
                    FileHandleOutput.stderr("\(name): \(error.description)")
                    return 1
                }
                servers.append(server)
                let host = settings["host"]?.stringValue ?? "127.0.0.1"
                FileHandleOutput.stderr(
                    "\(runtime.program.name): \(name) listening on \(host):\(settings["port"]?.interpolated ?? "?")")
                continue
            }
            guard let schedule = TickerSchedule(node.checked) else {
                FileHandleOutput.stderr("\(node.name): this trigger has no schedule; use --once")
                return 1
            }
            slots.append(
                Slot(
                    node: node.name, schedule: schedule, next: schedule.first(now: now),
                    remaining: schedule.maxEmissions))
        }
        var code: Int32 = 0
        let overlap = runtime.program.flow.document.run?["overlap"]?.string ?? "skip"
        let concurrent = DispatchGroup()
        let printLock = NSLock()
        // In-flight overlapping runs finish (within the grace period) before flowrun exits.
        defer { concurrent.wait() }
        while !signals.stopRequested {
            let due = slots.indices.filter { slots[$0].next != nil && slots[$0].remaining != 0 }
            guard let i = due.min(by: { slots[$0].next! < slots[$1].next! }) else {
                if servers.isEmpty { break }
                signals.sleep(nanos: 1_000_000_000)  // servers run until SIGINT/SIGTERM
                continue
            }
            let wait = slots[i].next! - Globals.systemClock()
            if wait > 0 {
                signals.sleep(nanos: wait)
                continue
            }
            let trigger =
                runtime.program.nodes[runtime.program.nodeIndex(slots[i].node)!].component as? TriggerComponent
            if trigger?.isActive ?? true, overlap == "allow" {
                // Runs may overlap: each runs on its own thread; the scheduler goes on.
                let node = slots[i].node
                concurrent.enter()
                Thread.detachNewThread {
                    let records = runtime.run(.trigger(node), trigger: .scheduled)
                    printLock.withLock { for r in records { print(Running.summary(r)) } }
                    concurrent.leave()
                }
                if let r = slots[i].remaining { slots[i].remaining = r - 1 }
            } else if trigger?.isActive ?? true {
                let records = runtime.run(.trigger(slots[i].node), trigger: .scheduled)
                ProgressLine.shared.clear()
                for r in records { print(Running.summary(r)) }
                code = Running.exitCode(records.last?.status ?? .failed)
                if let r = slots[i].remaining { slots[i].remaining = r - 1 }
            }
            // Slots that passed while the run was going on are skipped, or with `run.overlap: queue`
            // fire once right away.
            var next = slots[i].schedule.next(after: slots[i].next!)
            let current = Globals.systemClock()
            var missed = false
            while let n = next, n <= current {
                missed = true
                next = slots[i].schedule.next(after: n)
            }
            slots[i].next = missed && overlap == "queue" ? current : next
        }
        return signals.stopRequested ? 0 : code
    }
}

/// The live one-line progress display on a terminal: run id, elapsed, processed, failed, rate.
final class ProgressLine: @unchecked Sendable {
    static let shared = ProgressLine()
    private var last = 0
    private var shown = false

    func update(_ r: RunRecord) {
        let now = Globals.systemClock()
        guard now - last > 100_000_000 else { return }
        last = now
        let elapsed = Double(now - r.startedAt) / 1e9
        let rate = elapsed > 0 ? Double(r.messages) / elapsed : 0
        let line =
            "\r\u{1B}[2K\(r.id)  "
            + String(
                format: "%.1fs  processed %d  failed %d  %.0f msg/s", elapsed,
                r[.processed], r[.failed], rate)
        FileHandle.standardError.write(Data(line.utf8))
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

    init(runtime: FlowRuntime, grace: Double) {
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
