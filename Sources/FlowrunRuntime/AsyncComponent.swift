import Dispatch
import FlowrunExpression
import FlowrunValue

/// A component that does I/O: it starts the work for a message and reports back once, from any
/// thread, through `done`. The run loop never blocks on the cooperative pool: I/O components bring
/// their own threads (a curl loop, a connection thread), and the run keeps delivering other messages
/// while theirs are in flight.
public protocol AsyncComponent: Component {
    func start(
        _ message: Value, on port: String, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void)
}

extension AsyncComponent {
    public func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
        throw NodeError("internal: an async component was called synchronously")
    }
}

/// What an I/O component may read while its work is in flight (a snapshot: safe on any thread).
public struct AsyncContext: Sendable {
    public var flowName = ""
    public let nodeName: String
    public let runID: String
    public let settings: [String: Value]
    public let globals: Globals
    public let isDryRun: Bool
    /// Takes the run's secrets out of texts the component keeps or reports.
    public let redactor: Redactor
    /// The run's logger (secrets redacted), for what the component hears while it works (server notices).
    public var logger: any RunLogger = SilentLogger()

    public func setting(_ name: String) -> Value { settings[name] ?? .null }
}

/// The outcome of one message's I/O: messages to emit (in order), counters, or an error.
public struct AsyncResult: Sendable {
    public var emissions: [(port: String, message: Value)]
    public var counters: [Counter: Int]
    /// Dry-run diagnostics: rows that would change, by column (summed into the run record).
    public var changedColumns: [String: Int]
    public var error: NodeError?

    public init(
        emissions: [(port: String, message: Value)] = [], counters: [Counter: Int] = [:],
        changedColumns: [String: Int] = [:], error: NodeError? = nil
    ) {
        self.emissions = emissions
        self.counters = counters
        self.changedColumns = changedColumns
        self.error = error
    }

    public static func failure(_ error: NodeError) -> AsyncResult { AsyncResult(error: error) }
}

/// Per-node bookkeeping for an I/O node during a run: at most `concurrency` messages in flight, the
/// rest waiting in order; results are emitted in the order the messages arrived.
final class AsyncNodeState {
    let concurrency: Int
    var inFlight = 0
    var waiting: [(seq: Int, port: String, message: Value)] = []
    var nextSeq = 0
    var nextToEmit = 0
    var finished: [Int: (port: String, input: Value, result: AsyncResult)] = [:]
    /// Results whose turn has come, oldest first, and whether a `.ready` work item is on the stack.
    var ready: [(port: String, input: Value, result: AsyncResult)] = []
    var readyScheduled = false
    var inputs: [Int: (port: String, message: Value)] = [:]

    init(concurrency: Int) { self.concurrency = max(1, concurrency) }
}

/// Completions posted from I/O threads to the run loop.
final class CompletionInbox: @unchecked Sendable {
    private let lock = NSLockLite()
    private var items: [(node: Int, seq: Int, result: AsyncResult)] = []
    private let signal = DispatchSemaphore(value: 0)

    func post(_ node: Int, _ seq: Int, _ result: AsyncResult) {
        lock.withLock { items.append((node, seq, result)) }
        signal.signal()
    }

    func take() -> [(node: Int, seq: Int, result: AsyncResult)] {
        lock.withLock {
            defer { items.removeAll() }
            return items
        }
    }

    /// Waits until something is posted or `nanos` pass.
    func wait(nanos: Int) { _ = signal.wait(timeout: .now() + .nanoseconds(nanos)) }
}
