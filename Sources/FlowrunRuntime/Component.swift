import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// A node's behaviour. One instance per node per loaded flow; `receive` is called for every message
/// that arrives on one of the node's input ports and emits through the context. Pure components do
/// their work synchronously, without a task hop per message.
public protocol Component: AnyObject {
    func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError)
}

/// A component that starts runs on its own (ticker, http-server). `fire` emits the trigger's message.
public protocol TriggerComponent: Component {
    func fire(_ context: inout NodeContext) throws(NodeError)
    /// Whether scheduled firings happen (a ticker with `autoStart: false` waits for `control`).
    var isActive: Bool { get }
}

/// A trigger that listens (http-server): while the flow is loaded it calls `startRun` with each
/// incoming message; each call starts a run and returns when that run has ended, with nil, or at
/// once with the reason the run was not started (another run holds the flow: answer 409).
public protocol ServingComponent: TriggerComponent {
    func serve(settings: [String: Value], startRun: @escaping @Sendable (Value) -> String?) throws(NodeError)
    func stopServing()
}

extension ServingComponent {
    public func fire(_ context: inout NodeContext) throws(NodeError) {}
    public var isActive: Bool { true }
}

/// A failure of a node, delivered on its `error` port (or recorded on the run when nothing handles it).
public struct NodeError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let code: String
    public let retryable: Bool
    /// Where in the flow file the failure comes from (an expression), as `file:line:col`.
    public let location: String?
    /// The failure this error continues (the `error.id` of the message the node was handling, e.g. a
    /// dead letter that could not be written): counted once with it, not as a second failure.
    public var failureID: Int?

    public init(
        _ message: String, code: String = "component", retryable: Bool = false, location: String? = nil,
        failureID: Int? = nil
    ) {
        self.message = message
        self.code = code
        self.retryable = retryable
        self.location = location
        self.failureID = failureID
    }

    public init(_ error: EvalError) {
        self.init(error.message, code: error.code.rawValue, location: error.span?.description)
    }

    public var description: String { (location.map { "\($0): " } ?? "") + message }
}

/// Counters a component reports on the run record.
public enum Counter: String, Sendable, CaseIterable {
    case processed, created, updated, unchanged, skipped, failed
    /// HTTP requests sent (retries included).
    case requests
    /// Pages of a paginated source, counted by the node that handles each page (`modify` with `count: pages`).
    case pages
    /// Failed items parked in the dead-letter queue (`run.cursorPolicy: park` lets the cursor pass them).
    case deadLettered = "dead_lettered"
    /// Records a writer handled (the database connector counts the rows of each request it completed):
    /// with `failed`, what status rules and the circuit breaker count in flows without an iterator.
    case attempted
    /// Records deleted (in a dry run: would be deleted, e.g. an http-client DELETE not sent).
    case deleted
    /// Node failures an edge from the node's `error` port handled (each is also in the error log).
    case handled
    /// Outbound writes whose destination record is gone (an update answered 404, or a dry run's lookup found
    /// nothing); seed 002's "Missing Destination".
    case missingDestination = "missing_destination"
    /// Records not sent because a required field was null; seed 002's "Missing Source".
    case missingSource = "missing_source"
    /// Records changed on both sides since the last sync (bidirectional sync), whatever the strategy did.
    case conflicts
}

/// What a component sees while handling one message: its settings (evaluated once per run), the
/// run's globals, and the ways to emit, count and log.
public struct NodeContext {
    /// Unretained: a context exists only while its run delivers (components get it `inout` and never
    /// keep it), and the checked `unowned` cost a reference-count operation per access on every delivery.
    unowned(unsafe) let run: RunExecution
    let node: Int

    init(run: RunExecution, node: Int) {
        self.run = run
        self.node = node
    }

    public var nodeName: String { run.program.nodes[node].name }
    public var runID: String { run.record.id }
    public var globals: Globals { run.globals }
    public var isDryRun: Bool { run.record.dryRun }
    /// Current time in Unix nanoseconds (the run's injected clock).
    public var now: Int { run.globals.clock() }

    /// A setting's value for this run (templates evaluated once, with the run's globals).
    public func setting(_ name: String) -> Value {
        // A node has a handful of settings (defaults included): comparing names, which are mostly
        // small strings compared by their bits, is cheaper than hashing one per message.
        let values = run.settings[node]
        if values.count <= 8 {
            for (key, value) in values where key == name { return value }
            return .null
        }
        return values[name] ?? .null
    }

    /// Emits a message on an output port; it travels along every edge leaving that port.
    public mutating func emit(_ port: String, _ message: Value) {
        run.emit(node: node, port: port, message)
    }

    /// Emits `count` messages on `port` one at a time: each is handled downstream before the next is
    /// made, so memory stays flat. `completion` runs after the last one (unless stopped by a failure).
    public mutating func emitSequence(
        _ port: String, count: Int, stopOnFailure: Bool = false, make: @escaping (Int) -> Value,
        completion: ((inout NodeContext) -> Void)? = nil
    ) {
        run.push(
            SequenceEmission(
                node: node, port: port, count: count, stopOnFailure: stopOnFailure, make: make,
                completion: completion))
    }

    /// The flow's durable key/value state.
    public var state: any StateStore { run.componentStore }
    public var flowName: String { run.program.name }
    /// The flow file the run came from, as an absolute path.
    public var flowFile: String { run.record.flowFile ?? run.program.flow.document.source.path }

    /// Offers a checkpoint value: reduced over the run, committed only if the run completes.
    public mutating func checkpoint(_ key: String, _ value: Value, reduce: CheckpointReduce) {
        if run.keepsOfferedCheckpoints, reduce == .max, run.offeredCheckpoints[key]?.last != value {
            run.offeredCheckpoints[key, default: []].append(value)
        }
        if let current = run.checkpoints[key] {
            run.checkpoints[key] = (reduce.combine(current.value, value), reduce)
        } else {
            run.checkpoints[key] = (value, reduce)
        }
    }

    /// The node as checked (settings templates, shapes).
    public var checkedNode: CheckedNode { run.program.nodes[node].checked }

    /// Adds to a counter of the run record (nothing in the run's end phase, whose record is settled).
    public mutating func count(_ counter: Counter, _ n: Int = 1) {
        if counter == .failed { return run.countFailed(n) }
        guard !run.inEndPhase else { return }
        run.record.counters[counter, default: 0] += n
    }

    /// Counts the failure an error message carries as `failed`, once per failure however many nodes
    /// count it (a `count: failed` node and a dead letter on the same path).
    public mutating func countFailure(of message: Value) { run.countFailure(of: message) }

    /// Notes that the failure a message carries is parked in the dead-letter queue, so that
    /// `run.cursorPolicy: park` may move the cursor past it.
    public mutating func markParked(_ message: Value) { run.markParked(message) }

    /// Notes the checkpoint value (`version`) of the record whose failure a message carries, once per
    /// failure: under `run.cursorPolicy: hold` the cursor may advance to just before the oldest one.
    public mutating func markFailedVersion(_ message: Value, version: Value) {
        run.markFailedVersion(message, version: version)
    }

    /// Ends the run as failed with `reason`; `retryable` says whether `run.retries` may try it again.
    public mutating func failRun(_ reason: String, retryable: Bool) { run.fail(reason, retryable: retryable) }

    /// The run's `run.cursorPolicy` is `park`: failed records are parked at once.
    public var parksFailures: Bool { run.program.policy.parkFailures }

    /// Sets the number of records the run's source announced (progress: `processed 34,100 of 100,000`).
    public mutating func announceTotal(_ total: Int) {
        guard !run.inEndPhase else { return }
        run.record.total = total
    }

    /// Writes a log line attributed to this node and run; the message is not built when the level is off.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard run.logger.enabled(level) else { return }
        run.logger.log(level, message(), flow: run.program.name, node: nodeName, run: runID)
    }

    /// This node's object for the current run, made by `make` on first use and dropped when the run ends:
    /// per-run memory of a component whose instance is shared by every run of the flow.
    public func runLocal<T: AnyObject>(_ make: () -> T) -> T {
        if let existing = run.runLocals[node] as? T { return existing }
        let made = make()
        run.runLocals[node] = made
        return made
    }

    /// The run's redactor, for components that must keep secrets out of what they write.
    public var redactor: Redactor { run.redactor }

    /// Whether lines of `level` go anywhere (a component skips preparing what would be dropped).
    public func logs(_ level: LogLevel) -> Bool { run.logger.enabled(level) }

    /// `text` with every declared secret (in its common encodings) replaced by `***`.
    public func redacted(_ text: String) -> String { run.redactor.redact(text) }
}
