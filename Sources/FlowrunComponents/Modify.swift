import FlowrunValue
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph

/// Emits the message its incoming edge's `data:` built: the pure transform of a flow.
public enum Modify {
    public static let descriptor = ComponentDescriptor(
        name: "modify",
        summary: "Emits the message built by its incoming edge's `data:` (a pure transform).",
        doc: """
            All the work happens on the incoming edge: its `data:` mapping (or single template) builds the
            message, and `modify` emits it unchanged on `out`. Use it to shape state, compute fields, or
            start a loop iteration. `count` adds each message to a counter of the run record, e.g. `failed`
            for an error edge that collects errors without stopping the run, `pages` on the node that
            handles each page of a paginated API (the run summary then shows the pages), `created` or
            `updated` for writes no connector counts, or `conflicts` for records changed on both sides of a
            bidirectional sync. A failure counted
            by two nodes (`count: failed` and a dead letter) counts once. `failRun: true` ends the run as
            `failed` with the error the message carries as its reason (retryable when the error is): for
            failures no record-by-record handling can fix, such as a database that stays unreachable.
            """,
        settings: [
            SettingDescriptor(
                "count", .enumeration(["processed", "created", "updated", "skipped", "failed", "pages", "conflicts"]),
                doc: "Counts each message on the run record.", example: "failed"),
            SettingDescriptor(
                "failRun", .bool, default: false,
                doc:
                    "Ends the run as failed, with the message's `error.message` as reason (retryable if `error.retryable`).",
                example: "true"),
        ],
        ports: [
            .input("in", .any, doc: "Any message."),
            .output("out", .any, doc: "The message, unchanged."),
        ],
        example: """
            init:
              component: modify
            # edges:
            #   - from: scheduler.out
            #     to: init.in
            #     data: {page: 1, errors: []}
            """,
        dryRun: "As in a normal run (no side effects); `failRun` and `count` count as usual.",
        transfer: { t in ["out": t.input("in")] }
    )
}

extension Modify {
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            if case .string(let name) = context.setting("count"), let counter = Counter(rawValue: name) {
                if counter == .failed { context.countFailure(of: message) } else { context.count(counter) }
            }
            if context.setting("failRun") == true {
                let error = message["error"]
                let text = error["message"].stringValue ?? JSON.serialize(message)
                context.failRun(
                    (error["node"].stringValue.map { "\($0): " } ?? "") + text, retryable: error["retryable"] == true)
                return
            }
            context.emit("out", message)
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
