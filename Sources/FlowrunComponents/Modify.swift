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
            for an error edge that collects errors without stopping the run, or `pages` on the node that
            handles each page of a paginated API (the run summary then shows the pages).
            """,
        settings: [
            SettingDescriptor(
                "count", .enumeration(["processed", "skipped", "failed", "pages"]),
                doc: "Counts each message on the run record.", example: "failed")
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
        transfer: { t in ["out": t.input("in")] }
    )
}

extension Modify {
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            if case .string(let name) = context.setting("count"), let counter = Counter(rawValue: name) {
                context.count(counter)
            }
            context.emit("out", message)
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
