import FlowrunValue
import Foundation
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph

/// Parks failed items for replay or skipping.
public enum DeadLetter {
    public static let descriptor = ComponentDescriptor(
        name: "dead-letter",
        summary:
            "Parks a failed item (payload, key, error); after `maxAttempts` failing runs it is listed by `flowrun dlq`.",
        doc: """
            Each message records one failure of the item identified by `key`. When the same key has failed in
            `maxAttempts` runs it is parked: `flowrun dlq list` shows it, `flowrun dlq replay ID` re-injects
            it as a new linked run, `flowrun dlq skip ID` closes it. Error messages (`{error, input, context}`)
            can be connected directly.
            """,
        isIO: true,
        settings: [
            SettingDescriptor(
                "maxAttempts", .int, default: 3, doc: "Failing runs before an item is parked.", example: "5"),
            SettingDescriptor(
                "entry", .string, doc: "Node.port a replayed item is delivered to.", example: "transform.in"),
        ],
        ports: [
            .input(
                "in",
                .openObject([
                    Field("key", .any, required: false, doc: "identifies the item across runs"),
                    Field("payload", .any, required: false), Field("error", .any, required: false), .contextField,
                ]), doc: "A failed item.")
        ],
        example: """
            dlq:
              component: dead-letter
              settings: {maxAttempts: 3, entry: transform.in}
            """,
        transfer: { _ in [:] }
    )
}

extension DeadLetter {
    /// Records each failed item in the flow's dead-letter queue (`DeadLetterQueue`) with its attempt count.
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            let key = message["key"].isNull ? JSON.serialize(message["payload"]) : message["key"].interpolated
            context.count(.failed)
            context.count(.deadLettered)
            guard !context.isDryRun else { return }
            let file = context.flowFile
            do {
                let item = try DeadLetterQueue(store: context.state).record(
                    flow: context.flowName, key: key, payload: message["payload"], error: message["error"],
                    runID: context.runID, entry: context.setting("entry").stringValue,
                    flowFile: file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file,
                    maxAttempts: context.setting("maxAttempts").intValue ?? 3, now: context.now)
                if item.status == .parked {
                    context.log(.warning, "parked \(item.id) (key \(key)) after \(item.attempts) failing runs")
                }
            } catch {
                throw NodeError("state store: \(error)", retryable: true)
            }
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
