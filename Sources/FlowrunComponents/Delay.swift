import Dispatch
import FlowrunExpression
import FlowrunGraph
import FlowrunRuntime
import FlowrunValue

/// Holds each message for a while, then passes it on (rate shaping, demo latency, waiting for a
/// system to settle). The wait happens on a timer, never on a thread of the run.
public enum Delay {
    public static let descriptor = ComponentDescriptor(
        name: "delay",
        summary: "Passes each message on after `duration` (other messages keep flowing meanwhile).",
        doc: """
            Each message is emitted on `out` unchanged after `duration`. Messages are delayed independently
            and leave in the order they arrived; `concurrency` (node setting) limits how many wait at once.
            A zero duration passes messages straight through.
            """,
        settings: [
            SettingDescriptor(
                "duration", .duration, default: "1s", doc: "How long each message waits.", example: "250ms")
        ],
        ports: [
            .input("in", .any, doc: "Any message."),
            .output("out", .any, doc: "The same message, later."),
        ],
        example: """
            slow-down:
              component: delay
              settings: {duration: 200ms}
            """,
        dryRun: "Waits as in a normal run.",
        transfer: { t in ["out": t.input("in")] }
    )
}

extension Delay {
    final class Instance: AsyncComponent {
        let timers = DispatchQueue(label: "flowrun-delay")

        func start(
            _ message: Value, on port: String, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            let text = context.setting("duration").stringValue ?? "1s"
            guard let nanos = Durations.parse(text) else {
                done(.failure(NodeError("delay: invalid duration '\(text)'", code: "bad_request")))
                return
            }
            let result = AsyncResult(emissions: [("out", message)])
            if nanos <= 0 {
                done(result)
                return
            }
            timers.asyncAfter(deadline: .now() + .nanoseconds(nanos)) { done(result) }
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
