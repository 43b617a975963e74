import Flowrun

/// Runs a flow written as a YAML string in-process, with a manual clock and an in-memory store, and
/// captures every message on every port: the kit component and executor tests are written with.
public final class FlowHarness {
    public let flow: CheckedFlow
    public let store: MemoryStore
    public let clock: ManualClock
    public let runtime: FlowRuntime
    private let capture = Capture()

    final class Capture: @unchecked Sendable {
        var messages: [String: [Value]] = [:]
        var logs: [String] = []
    }

    struct CaptureLogger: RunLogger, @unchecked Sendable {
        let capture: Capture
        func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
            capture.logs.append("\(level.rawValue) \(node ?? "-"): \(message)")
        }
    }

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads and checks `yaml`; check errors throw with the rendered diagnostics.
    public init(
        _ yaml: String, vars: [String: Value] = [:], env: Value = [:], store: MemoryStore = MemoryStore(),
        clock: ManualClock = ManualClock(), dryRun: Bool = false, registry: ComponentRegistry = .standard,
        factories: ComponentFactories = .standard
    ) throws {
        let report = FlowChecker.check(path: "test.yaml", text: yaml, registry: registry)
        guard let flow = report.flow else {
            throw LoadError(description: Diagnostic.renderAll(report.diagnostics))
        }
        self.flow = flow
        self.store = store
        self.clock = clock
        var options = FlowRuntime.Options()
        options.vars = vars
        options.env = env
        options.dryRun = dryRun
        options.clock = { clock.now }
        options.sleep = { clock.advance($0) }
        let capture = self.capture
        options.logger = CaptureLogger(capture: capture)
        options.observer = { node, port, value in capture.messages["\(node).\(port)", default: []].append(value) }
        do { runtime = try FlowRuntime(flow: flow, factories: factories, store: store, options: options) } catch {
            throw LoadError(description: error.description)
        }
    }

    /// Fires the flow's trigger (or delivers `input` to `entry`) and returns the last run's record.
    @discardableResult
    public func run(input: Value? = nil, entry: String? = nil, port: String? = nil) -> RunRecord {
        runAll(input: input, entry: entry, port: port).last!
    }

    /// Every attempt of the run, retries included.
    /// A start that meets a run holding the flow (`run.overlap: skip`) returns no records.
    public func runAll(input: Value? = nil, entry: String? = nil, port: String? = nil) -> [RunRecord] {
        (try? tryRunAll(input: input, entry: entry, port: port)) ?? []
    }

    /// Every attempt of the run; throws when another run holds the flow.
    public func tryRunAll(
        input: Value? = nil, entry: String? = nil, port: String? = nil
    ) throws(RunLock.Busy) -> [RunRecord] {
        let node = entry ?? runtime.defaultEntry ?? ""
        if let input { return try runtime.run(.input(input, node: node, port: port), trigger: .manual) }
        return try runtime.run(.trigger(node), trigger: .manual)
    }

    /// Messages emitted on `node.port` so far.
    public func messages(_ nodePort: String) -> [Value] { capture.messages[nodePort] ?? [] }
    public var logs: [String] { capture.logs }
    public func reset() { capture.messages = [:]; capture.logs = [] }
}

/// A clock that moves only when told to.
public final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var nanos: Int
    private let step: Int

    /// Starts at 2023-11-14T22:13:20Z; with `step`, every reading moves the clock on by that much.
    public init(_ start: Int = 1_700_000_000_000_000_000, step: Int = 0) {
        nanos = start
        self.step = step
    }

    public var now: Int {
        lock.withLock {
            nanos += step
            return nanos
        }
    }
    public func advance(_ by: Int) { lock.withLock { nanos += by } }
}

import Foundation
