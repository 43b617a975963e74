import FlowrunExpression
import FlowrunValue

/// The durable record of one run (seed 000's SyncExecution).
public struct RunRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case running, completed
        case completedWithErrors = "completed_with_errors"
        case failed
        case timedOut = "timed_out"
        case cancelled, abandoned
    }

    public enum Trigger: String, Sendable, CaseIterable {
        case manual, scheduled, webhook, retry, replay
        /// Started by a replica's sweep for a run whose lease expired (`run.onAbandoned: retry`).
        case rescue
        case state
    }

    public struct ErrorEntry: Sendable, Equatable {
        public var node: String
        public var port: String
        public var location: String?
        public var message: String
        /// A truncated JSON copy of the failed input (secrets redacted).
        public var input: String
        /// The error's code (`http_404`, `E120`, `database`, ...).
        public var code = "component"
        /// Whether trying again later may succeed (transport, timeout, 408/425/429/5xx, connection loss).
        public var retryable = false
        /// Whether an edge from the node's `error` port handled it (the flow decides what it means).
        public var handled = false
        /// Failed in the run's last phase (run-end nodes): shown apart, never changes the status.
        public var afterEnd = false

        public init(
            node: String, port: String, location: String?, message: String, input: String, code: String = "component",
            retryable: Bool = false, handled: Bool = false
        ) {
            self.node = node
            self.port = port
            self.location = location
            self.message = message
            self.input = input
            self.code = code
            self.retryable = retryable
            self.handled = handled
        }

        var value: Value {
            [
                "node": .string(node), "port": .string(port), "code": .string(code),
                "location": location.map { .string($0) } ?? .null, "message": .string(message),
                "retryable": .bool(retryable), "handled": .bool(handled), "afterEnd": .bool(afterEnd),
                "input": .string(input),
            ]
        }

        init(_ e: Value) {
            self.init(
                node: e["node"].stringValue ?? "", port: e["port"].stringValue ?? "",
                location: e["location"].stringValue, message: e["message"].stringValue ?? "",
                input: e["input"].stringValue ?? "", code: e["code"].stringValue ?? "component",
                retryable: e["retryable"] == true, handled: e["handled"] == true)
            afterEnd = e["afterEnd"] == true
        }
    }

    public var id: String
    public var flow: String
    public var trigger: Trigger
    public var status: Status = .running
    /// Why the run failed when it is not just the counters (circuit breaker, message budget, ...).
    public var reason: String?
    public var startedAt: Int
    public var completedAt: Int?
    public var counters: [Counter: Int] = [:]
    public var messages = 0
    public var errors: [ErrorEntry] = []
    public var dryRun = false
    /// Dry-run diagnostics: how many rows would have each column updated.
    public var changedColumns: [String: Int] = [:]
    public var parentID: String?
    public var attempt = 1
    /// Messages delivered to each node in this run (metrics, and the console's flow graph).
    public var nodeMessages: [String: Int] = [:]
    /// `pid@host` of the process running it: a `running` record whose process is gone was abandoned.
    public var owner: String?
    /// The cluster node (`FLOWRUN_NODE_ID`) that ran it, and its fencing token.
    public var node: String?
    public var fence: Int?
    /// The schedule slot (Unix nanoseconds) a scheduled run fired, kept for its retries and rescue runs.
    public var slot: Int?
    /// Whether `run.retries` may run it again, and why (or why not): set when the run ends.
    public var retryable = false
    public var retryNote: String?
    /// The message the run started with (`flowrun runs retry` starts a new run with it), and where it went.
    public var input: Value = nil
    public var entry: String?
    /// Runs started from this one (retries), newest last.
    public var retriedBy: [String] = []
    /// The flow file the run came from (`flowrun runs retry` loads it).
    public var flowFile: String?
    /// The total of records a source announced (`processed 34,100 of 100,000`), when known.
    public var total: Int?

    public static let maxErrors = 100

    public init(id: String, flow: String, trigger: Trigger, startedAt: Int) {
        self.id = id
        self.flow = flow
        self.trigger = trigger
        self.startedAt = startedAt
    }

    public subscript(counter: Counter) -> Int { counters[counter] ?? 0 }

    public var durationNanos: Int? { completedAt.map { $0 - startedAt } }

    /// Whether the run should be retried under `run.retries`: it failed or timed out for a reason that
    /// may pass on its own (see `RunStatusRules.classify`).
    public var isRetryable: Bool { (status == .failed || status == .timedOut) && retryable }

    /// Shows the rows a writer handled as processed when no iterator counted them (a replay into a
    /// writer, a flow without an iterator).
    mutating func countWrittenAsProcessed() { counters[.processed] = Swift.max(self[.processed], self[.attempted]) }

    /// Records handled so far: what the sources handed over (`processed`) or, where a writer counts what
    /// it attempted, the rows written plus the failures, whichever is greater.
    public var recordsAttempted: Int { Swift.max(self[.processed], self[.attempted] + self[.failed]) }
}

extension RunRecord {
    /// The record's values in the column order both state stores use: id, flow, trigger, status, reason,
    /// started_at, completed_at, processed, created, updated, unchanged, skipped, failed, messages, dry_run,
    /// parent_id, attempt, errors (JSON), requests, diagnostics (JSON: changedColumns, dead_lettered, pages),
    /// owner.
    /// `dryRun` is a bool; SQLite binds it as 1/0.
    public var storageValues: [Value] {
        let errorList = Value.array(errors.map(\.value))
        return [
            .string(id), .string(flow), .string(trigger.rawValue), .string(status.rawValue),
            reason.map { .string($0) } ?? .null,
            .int(startedAt), completedAt.map { .int($0) } ?? .null, .int(self[.processed]), .int(self[.created]),
            .int(self[.updated]), .int(self[.unchanged]), .int(self[.skipped]), .int(self[.failed]), .int(messages),
            .bool(dryRun), parentID.map { .string($0) } ?? .null, .int(attempt), .string(JSON.serialize(errorList)),
            .int(self[.requests]), .string(JSON.serialize(diagnostics)), owner.map { .string($0) } ?? .null,
        ]
    }

    /// The counters with columns of their own; the others live in the diagnostics JSON.
    public static let columnCounters: [Counter] = [.processed, .created, .updated, .unchanged, .skipped, .failed]

    /// Everything without a column of its own: changed columns, the other counters, retry and progress facts.
    var diagnostics: Value {
        var d: Value.Object = [
            "changedColumns": .object(
                .init(uniqueKeysWithValues: changedColumns.sorted { $0.key < $1.key }.map { ($0, .int($1)) }))
        ]
        for c in Counter.allCases where !Self.columnCounters.contains(c) && c != .requests {
            d[c.rawValue] = .int(self[c])
        }
        d["retryable"] = .bool(retryable)
        if let retryNote { d["retryNote"] = .string(retryNote) }
        if !input.isNull { d["input"] = input }
        if let entry { d["entry"] = .string(entry) }
        if !retriedBy.isEmpty { d["retriedBy"] = .array(retriedBy.map { .string($0) }) }
        if let total { d["total"] = .int(total) }
        if let flowFile { d["flowFile"] = .string(flowFile) }
        if let node { d["node"] = .string(node) }
        if let fence { d["fence"] = .int(fence) }
        if !nodeMessages.isEmpty {
            d["nodeMessages"] = .object(
                .init(uniqueKeysWithValues: nodeMessages.sorted { $0.key < $1.key }.map { ($0, .int($1)) }))
        }
        if let slot { d["slot"] = .int(slot) }
        return .object(d)
    }

    /// Reads a record from the columns in `storageValues` order (older schemas: fewer columns).
    public static func stored(_ row: [Value]) -> RunRecord {
        var r = RunRecord(
            id: row[0].stringValue ?? "", flow: row[1].stringValue ?? "",
            trigger: RunRecord.Trigger(rawValue: row[2].stringValue ?? "") ?? .manual,
            startedAt: row[5].intValue ?? 0)
        r.status = RunRecord.Status(rawValue: row[3].stringValue ?? "") ?? .failed
        r.reason = row[4].stringValue
        r.completedAt = row[6].intValue
        for (i, c) in columnCounters.enumerated() {
            r.counters[c] = row[7 + i].intValue ?? 0
        }
        r.messages = row[13].intValue ?? 0
        r.dryRun = row[14].intValue == 1 || row[14] == .bool(true)
        r.parentID = row[15].stringValue
        r.attempt = row[16].intValue ?? 1
        if let text = row[17].stringValue, case .array(let items) = (try? JSON.parse(text)) ?? .null {
            r.errors = items.map(ErrorEntry.init)
        }
        if row.count > 18 { r.counters[.requests] = row[18].intValue ?? 0 }
        if row.count > 19, let text = row[19].stringValue, let d = try? JSON.parse(text) {
            for c in Counter.allCases where !columnCounters.contains(c) && c != .requests {
                if let n = d[c.rawValue].intValue { r.counters[c] = n }
            }
            r.retryable = d["retryable"] == true
            r.retryNote = d["retryNote"].stringValue
            r.input = d["input"]
            r.entry = d["entry"].stringValue
            if case .array(let ids) = d["retriedBy"] { r.retriedBy = ids.compactMap(\.stringValue) }
            r.total = d["total"].intValue
            r.flowFile = d["flowFile"].stringValue
            r.node = d["node"].stringValue
            r.fence = d["fence"].intValue
            r.slot = d["slot"].intValue
            if case .object(let o) = d["changedColumns"] {
                for (k, v) in o { r.changedColumns[k] = v.intValue ?? 0 }
            }
            if case .object(let o) = d["nodeMessages"] {
                for (k, v) in o { r.nodeMessages[k] = v.intValue ?? 0 }
            }
        }
        if row.count > 20 { r.owner = row[20].stringValue }
        return r
    }
}

extension RunRecord {
    /// The record as the admin API, `flowrun runs --format json` and `run-end` nodes see it.
    public var json: Value {
        var counterValues = Value.Object()
        for c in Counter.allCases { counterValues[c.rawValue] = .int(self[c]) }
        return [
            "id": .string(id), "flow": .string(flow), "trigger": .string(trigger.rawValue),
            "status": .string(status.rawValue), "reason": reason.map { .string($0) } ?? .null,
            "startedAt": .string(Time.rfc3339(nanos: startedAt)),
            "completedAt": completedAt.map { .string(Time.rfc3339(nanos: $0)) } ?? .null,
            "durationMs": durationNanos.map { .double(Double($0 / 1000) / 1000) } ?? .null,
            "counters": .object(counterValues), "pages": .int(self[.pages]), "requests": .int(self[.requests]),
            "total": total.map { .int($0) } ?? .null, "messages": .int(messages), "dryRun": .bool(dryRun),
            "changedColumns": .object(
                .init(uniqueKeysWithValues: changedColumns.sorted { $0.key < $1.key }.map { ($0, .int($1)) })),
            "owner": owner.map { .string($0) } ?? .null, "node": node.map { .string($0) } ?? .null,
            "fence": fence.map { .int($0) } ?? .null,
            "parentId": parentID.map { .string($0) } ?? .null, "attempt": .int(attempt),
            "retryable": .bool(retryable), "retryNote": retryNote.map { .string($0) } ?? .null,
            "retriedBy": .array(retriedBy.map { .string($0) }),
            "errors": .array(errors.filter { !$0.afterEnd }.map(\.value)),
            "endErrors": .array(errors.filter(\.afterEnd).map(\.value)),
        ]
    }
}

/// Status resolution, the circuit breaker and retry classes (seed 000); pure functions, and the only
/// place these rules live. components/run-model.md shows them with examples the tests execute.
public enum RunStatusRules {
    /// The circuit breaker trips when more than `ratio` of at least `minRecords` attempted records failed.
    /// `attempted` counts records whose outcome is known (written, compared or failed), not records a
    /// source merely handed over: a batch of 100 emitted at once is not 100 attempts.
    public static func breakerTripped(attempted: Int, failed: Int, minRecords: Int, ratio: Double) -> Bool {
        let total = max(attempted, failed)
        return total >= minRecords && Double(failed) > ratio * Double(total)
    }

    /// The final status of a run that ended normally: no failures -> completed; some -> completed_with_errors;
    /// all (or failures and nothing attempted) -> failed.
    public static func resolve(attempted: Int, failed: Int) -> RunRecord.Status {
        if failed == 0 { return .completed }
        if failed >= attempted { return .failed }
        return .completedWithErrors
    }

    /// Whether `run.retries` may run a finished run again, and why (not). Only failures that may pass on
    /// their own are retried: a timeout, or a failed run whose every recorded failure is retryable.
    /// Check errors, the circuit breaker, cancellation and bad records are not.
    public static func classify(_ r: RunRecord, fatalRetryable: Bool?) -> (retryable: Bool, note: String) {
        switch r.status {
        case .timedOut: return (true, "timed out: retryable")
        case .failed:
            if let fatalRetryable {
                return fatalRetryable
                    ? (true, "retryable: \(r.reason ?? "transient failure")")
                    : (false, "not retried: \(r.reason ?? "fatal error") is not retryable")
            }
            let failures = r.errors.filter { !$0.afterEnd }
            if failures.isEmpty { return (false, "not retried: no retryable failure recorded") }
            if let bad = failures.first(where: { !$0.retryable }) {
                return (
                    false, "not retried: \(bad.node) failed with \(bad.code) (\(bad.message)), which is not retryable"
                )
            }
            return (true, "retryable: every failure was transient (\(failures[0].code))")
        case .cancelled: return (false, "not retried: cancelled")
        default: return (false, "not retried: \(r.status.rawValue)")
        }
    }
}
