import FlowrunExpression
import FlowrunGraph
import FlowrunRuntime
import FlowrunValue

/// Fires once per run, after its status is settled, with the final run record: the place for a
/// `sync_logs` row or a notification that must agree with the run history for every outcome.
public enum RunEnd {
    /// The record as `run-end` emits it (and as `GET /api/runs/{id}` shows it).
    static let record = Shape.object([
        Field("id", .string), Field("flow", .string), Field("trigger", .string),
        Field(
            "status",
            .enumeration(RunRecord.Status.allCases.map(\.rawValue).filter { $0 != "running" && $0 != "abandoned" })),
        Field("reason", .oneOf([.string, .null])), Field("startedAt", .string), Field("completedAt", .string),
        Field("durationMs", .number), Field("counters", .object(Counter.allCases.map { Field($0.rawValue, .int) })),
        Field("pages", .int), Field("requests", .int), Field("total", .oneOf([.int, .null])), Field("messages", .int),
        Field("dryRun", .bool), Field("changedColumns", .anyObject), Field("owner", .oneOf([.string, .null])),
        Field("node", .oneOf([.string, .null])), Field("fence", .oneOf([.int, .null])),
        Field("parentId", .oneOf([.string, .null]), doc: "the run this one retried or replayed from"),
        Field("attempt", .int), Field("retryable", .bool), Field("retryNote", .oneOf([.string, .null])),
        Field("retriedBy", .array(.string)),
        Field(
            "errors",
            .array(
                .object([
                    Field("node", .string), Field("port", .string), Field("code", .string),
                    Field("location", .oneOf([.string, .null])), Field("message", .string), Field("retryable", .bool),
                    Field("handled", .bool), Field("afterEnd", .bool), Field("input", .string),
                ]))),
        Field("endErrors", .array(.anyObject)),
    ])

    public static let descriptor = ComponentDescriptor(
        name: "run-end",
        summary: "Emits the final run record once the run's status is settled (sync logs, notifications).",
        doc: """
            After a run's status is resolved (completed, completed_with_errors, failed, circuit breaker,
            timed_out, cancelled) and its checkpoints are committed, every `run-end` node emits the record on
            `out`, in a last phase of the same run. Nothing in that phase changes the status, the counters or
            the cursor, and it is neither cancelled nor timed out with the run; its own failures are logged and
            kept apart on the record (`endErrors`). The record carries status, reason, trigger, counters,
            pages, requests, errors (first 100, each with node, port, code, retryable, handled), startedAt,
            completedAt, durationMs, dryRun, and the retry links (parentId, attempt, retryable, retryNote).
            """,
        isTrigger: true,
        settings: [],
        ports: [.output("out", record, doc: "The settled run record.")],
        example: """
            finished:
              component: run-end
            # edges:
            #   - {from: finished.out, to: log-sync.request, data: {query: ..., parameters: [<<$.status>>]}}
            """,
        dryRun: "Fires as in a normal run; its message has `dryRun: true`, so a node writing a log row can skip it.",
        firesAtRunEnd: true,
        transfer: { _ in ["out": record] }
    )

    final class Instance: RunEndComponent {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {}
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
