import FlowrunDatabase
import FlowrunHTTP
import Foundation

/// Runs the cases of a test file against the real runtime and components, with three things put in
/// place of the outside world: http-client nodes answer from the case's fixtures (`CannedTransport`),
/// database nodes talk to a fresh SQLite file (seeded with the case's SQL), and http-server nodes take
/// the case's `input` as their request and keep the response for assertions. The clock stands still
/// at the case's `clock` (sleeps of the runtime advance it), the state store is a fresh memory store,
/// and the flow sees only the case's `env`.
public enum FlowTestRunner {
    /// A failed assertion (or a problem that stopped the case), with where in the test file it was written.
    public struct Failure: Sendable {
        public let span: Span?
        public let message: String
        public let diff: String?

        public var location: String {
            guard let span else { return "" }
            return "\(span.source.path):\(span.location.line)"
        }
    }

    public struct CaseResult: Sendable {
        public let name: String
        public let failures: [Failure]
        public let durationNanos: Int
        public var passed: Bool { failures.isEmpty }
    }

    /// The flow under test cannot be read or does not pass `flowrun check`: no case can run.
    public struct FlowProblem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The results of every case of `file`.
    public static func run(_ file: FlowTestFile, registry: ComponentRegistry = .standard) throws(FlowProblem)
        -> [CaseResult]
    {
        let report: FlowChecker.Report
        do { report = try FlowFiles.check(file.flowPath, registry: registry) } catch {
            throw FlowProblem(description: "\(file.source.path): the flow under test: \(error.description)")
        }
        guard let flow = report.flow else {
            throw FlowProblem(
                description: "\(file.source.path): the flow under test does not pass `flowrun check`:\n"
                    + Diagnostic.renderAll(report.diagnostics))
        }
        return file.cases.map { run($0, flow: flow) }
    }

    static func run(_ testCase: FlowTestCase, flow: CheckedFlow) -> CaseResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flowrun-test-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let failures = execute(testCase, flow: flow, directory: directory)
        return CaseResult(
            name: testCase.name, failures: failures,
            durationNanos: Int(DispatchTime.now().uptimeNanoseconds - started))
    }

    static func execute(_ c: FlowTestCase, flow: CheckedFlow, directory: String) -> [Failure] {
        func stop(_ message: String) -> [Failure] { [Failure(span: c.span, message: message, diff: nil)] }
        let database = directory + "/test.db"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let connection = try SQLiteConnection(path: database)
            if let seed = c.seed { try connection.exec(seed) }
        } catch {
            return stop("the database seed failed: \(error)")
        }
        let store = MemoryStore()
        for (key, value) in c.state {
            do { try store.set(flow: flow.document.name, key: key, value: value) } catch {
                return stop("cannot store state \(key): \(error)")
            }
        }
        let transport = CannedTransport(c.http)
        let capture = FlowTestCapture()
        var factories = ComponentFactories.standard
        factories.add("http-client", HTTPClient.factory(transport: transport))
        factories.add("database", Database.factory(substitutingSQLite: database))
        factories.add("http-server", { _ in FlowTestServer() })
        let clock = FlowTestClock(c.clock)
        var options = FlowRuntime.Options()
        options.vars = c.vars
        options.env = .object(c.env)
        options.secrets = c.secrets
        options.clock = { clock.now }
        options.sleep = { clock.advance($0) }
        options.observer = { node, port, value in capture.append("\(node).\(port)", value) }
        options.deliveries = options.observer
        let runtime: FlowRuntime
        do throws(NodeError) {
            runtime = try FlowRuntime(flow: flow, factories: factories, store: store, options: options)
        } catch {
            return stop("the flow cannot start: \(error.description)")
        }
        let start: FlowRuntime.Start
        switch self.start(c, runtime) {
        case .success(let s): start = s
        case .failure(let problem): return stop(problem.description)
        }
        let records: [RunRecord]
        do throws(RunLock.Busy) { records = try runtime.run(start, trigger: .manual) } catch {
            return stop("the run did not start: \(error.description)")
        }
        guard let record = records.last else { return stop("the run left no record") }
        var failures: [Failure] = []
        let known = c.http.isEmpty ? "none" : c.http.map(Self.describe).joined(separator: ", ")
        for request in transport.unmatched {
            failures.append(
                Failure(
                    span: c.span, message: "unmatched request: \(request) (no fixture matches it; fixtures: \(known))",
                    diff: nil))
        }
        let ports = Set(runtime.program.nodes.flatMap { n in n.checked.ports.map { "\(n.name).\($0.name)" } })
        for e in c.expectations {
            guard case .messages(let port, _, _) = e.kind, !ports.contains(port) else { continue }
            failures.append(
                Failure(
                    span: e.span,
                    message: "the flow has no port '\(port)'" + (didYouMean(port, ports).map { "; \($0)" } ?? ""),
                    diff: nil))
        }
        let context = Actuals(
            record: record.json, database: database, capture: capture, store: store, flow: runtime.program.name)
        for e in c.expectations {
            if let failure = check(e, context) { failures.append(failure) }
        }
        // Captured messages are the flow's own, unredacted: the report is not a way for a secret to leave.
        return failures.map {
            Failure(
                span: $0.span, message: runtime.redactor.redact($0.message),
                diff: $0.diff.map { runtime.redactor.redact($0) })
        }
    }

    /// How the case's run begins: `input` to `entry`, the named `trigger`, or the flow's first trigger.
    static func start(_ c: FlowTestCase, _ runtime: FlowRuntime) -> Result<FlowRuntime.Start, FlowProblem> {
        if let input = c.input {
            guard let entry = c.entry ?? runtime.defaultEntry else {
                return .failure(FlowProblem(description: "the flow has no entry for `input`"))
            }
            return .success(.input(input, entry: entry))
        }
        if let trigger = c.trigger {
            guard runtime.program.nodeIndex(trigger) != nil else {
                return .failure(FlowProblem(description: "the flow has no node named '\(trigger)' to trigger"))
            }
            return .success(.trigger(trigger))
        }
        guard let first = runtime.manualStart(input: nil) else {
            return .failure(FlowProblem(description: "the flow has no trigger to fire: give the case an `input`"))
        }
        return .success(first)
    }

    /// `GET /users page=1&limit=2`
    static func describe(_ f: CannedTransport.Fixture) -> String {
        let query = f.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        return "\(f.method) \(f.path)" + (query.isEmpty ? "" : " " + query)
    }

    /// What the assertions of a case read after its run.
    struct Actuals {
        let record: Value
        let database: String
        let capture: FlowTestCapture
        let store: MemoryStore
        let flow: String
    }

    static func check(_ e: FlowTestExpectation, _ actuals: Actuals) -> Failure? {
        let expected: Value
        let actual: Value
        switch e.kind {
        case .run(let field, let value):
            expected = value
            actual = actuals.record[field]
        case .rows(let query, let value):
            expected = value
            do {
                let connection = try SQLiteConnection(path: actuals.database)
                let (columns, rows) = try connection.query(query, [])
                actual = .array(rows.map { .object(.init(uniqueKeysWithValues: zip(columns, $0))) })
            } catch {
                return Failure(span: e.span, message: "\(e.label): the query failed: \(error)", diff: nil)
            }
        case .messages(let port, let value, let countOnly):
            let seen = actuals.capture.messages(port)
            expected = value
            actual = countOnly ? .int(seen.count) : .array(seen)
        case .state(let key, let value):
            expected = value
            actual = ((try? actuals.store.get(flow: actuals.flow, key: key)) ?? nil) ?? .null
        case .deadLetters(let value):
            expected = value
            let items = (try? DeadLetterQueue(store: actuals.store).list(flow: actuals.flow, all: true)) ?? []
            actual = .array(items.map(\.value))
        }
        if FlowTestMatch.matches(expected, actual) { return nil }
        return Failure(
            span: e.span, message: "\(e.label) differs (- expected, + actual)",
            diff: FlowTestMatch.diff(expected: expected, actual: actual))
    }
}

/// The messages of a case's runs (every attempt), by `node.port`: emitted on outputs, arriving on inputs.
final class FlowTestCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var byPort: [String: [Value]] = [:]

    func append(_ port: String, _ value: Value) { lock.withLock { byPort[port, default: []].append(value) } }
    func messages(_ port: String) -> [Value] { lock.withLock { byPort[port] ?? [] } }
}

/// The case's clock: it stands still, except that the runtime's sleeps (retry backoff) move it on.
final class FlowTestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var nanos: Int

    init(_ start: Int) { nanos = start }
    var now: Int { lock.withLock { nanos } }
    func advance(_ by: Int) { lock.withLock { nanos += by } }
}

/// An http-server node in a test: it does not listen; the case's `input` is its request (the trigger's
/// message), and what the flow sends to its `response` port is seen as a message on `node.response`.
final class FlowTestServer: TriggerComponent, @unchecked Sendable {
    func fire(_ context: inout NodeContext) throws(NodeError) {}
    var isActive: Bool { true }
    func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {}
}
