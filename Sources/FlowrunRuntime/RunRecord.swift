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

    public enum Trigger: String, Sendable {
        case manual, scheduled, webhook, retry, replay
        case state
    }

    public struct ErrorEntry: Sendable, Equatable {
        public var node: String
        public var port: String
        public var location: String?
        public var message: String
        /// A truncated JSON copy of the failed input (secrets redacted).
        public var input: String
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
    /// Messages delivered to each node in this run (metrics; not stored).
    public var nodeMessages: [String: Int] = [:]
    /// `pid@host` of the process running it: a `running` record whose process is gone was abandoned.
    public var owner: String?

    public static let maxErrors = 100

    public init(id: String, flow: String, trigger: Trigger, startedAt: Int) {
        self.id = id
        self.flow = flow
        self.trigger = trigger
        self.startedAt = startedAt
    }

    public subscript(counter: Counter) -> Int { counters[counter] ?? 0 }

    public var durationNanos: Int? { completedAt.map { $0 - startedAt } }

    /// Whether the run should be retried under `run.retries`.
    public var isRetryable: Bool { status == .failed || status == .timedOut }
}

extension RunRecord {
    /// The record's values in the column order both state stores use: id, flow, trigger, status, reason,
    /// started_at, completed_at, processed, created, updated, unchanged, skipped, failed, messages, dry_run,
    /// parent_id, attempt, errors (JSON), requests, diagnostics (JSON: changedColumns, dead_lettered, pages),
    /// owner.
    /// `dryRun` is a bool; SQLite binds it as 1/0.
    public var storageValues: [Value] {
        let errorList = Value.array(
            errors.map { e in
                [
                    "node": .string(e.node), "port": .string(e.port),
                    "location": e.location.map { .string($0) } ?? .null,
                    "message": .string(e.message), "input": .string(e.input),
                ]
            })
        return [
            .string(id), .string(flow), .string(trigger.rawValue), .string(status.rawValue),
            reason.map { .string($0) } ?? .null,
            .int(startedAt), completedAt.map { .int($0) } ?? .null, .int(self[.processed]), .int(self[.created]),
            .int(self[.updated]), .int(self[.unchanged]), .int(self[.skipped]), .int(self[.failed]), .int(messages),
            .bool(dryRun), parentID.map { .string($0) } ?? .null, .int(attempt), .string(JSON.serialize(errorList)),
            .int(self[.requests]), .string(JSON.serialize(diagnostics)), owner.map { .string($0) } ?? .null,
        ]
    }

    var diagnostics: Value {
        [
            "changedColumns": .object(
                .init(uniqueKeysWithValues: changedColumns.sorted { $0.key < $1.key }.map { ($0, .int($1)) })),
            "dead_lettered": .int(self[.deadLettered]),
            "pages": .int(self[.pages]),
        ]
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
        for (i, c) in [Counter.processed, .created, .updated, .unchanged, .skipped, .failed].enumerated() {
            r.counters[c] = row[7 + i].intValue ?? 0
        }
        r.messages = row[13].intValue ?? 0
        r.dryRun = row[14].intValue == 1 || row[14] == .bool(true)
        r.parentID = row[15].stringValue
        r.attempt = row[16].intValue ?? 1
        if let text = row[17].stringValue, case .array(let items) = (try? JSON.parse(text)) ?? .null {
            r.errors = items.map { e in
                RunRecord.ErrorEntry(
                    node: e["node"].stringValue ?? "", port: e["port"].stringValue ?? "",
                    location: e["location"].stringValue, message: e["message"].stringValue ?? "",
                    input: e["input"].stringValue ?? "")
            }
        }
        if row.count > 18 { r.counters[.requests] = row[18].intValue ?? 0 }
        if row.count > 19, let text = row[19].stringValue, let d = try? JSON.parse(text) {
            r.counters[.deadLettered] = d["dead_lettered"].intValue ?? 0
            r.counters[.pages] = d["pages"].intValue ?? 0
            if case .object(let o) = d["changedColumns"] {
                for (k, v) in o { r.changedColumns[k] = v.intValue ?? 0 }
            }
        }
        if row.count > 20 { r.owner = row[20].stringValue }
        return r
    }
}

/// Status resolution and the circuit breaker, exactly as seed 000 describes them; pure functions.
public enum RunStatusRules {
    /// The circuit breaker trips when more than `ratio` of at least `minRecords` processed records failed.
    public static func breakerTripped(processed: Int, failed: Int, minRecords: Int, ratio: Double) -> Bool {
        let total = max(processed, failed)
        return total >= minRecords && Double(failed) > ratio * Double(total)
    }

    /// The final status of a run that ended normally: no failures -> completed; some -> completed_with_errors;
    /// all (or failures and nothing processed) -> failed.
    public static func resolve(processed: Int, failed: Int) -> RunRecord.Status {
        if failed == 0 { return .completed }
        if failed >= processed { return .failed }
        return .completedWithErrors
    }
}
