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
            "Keeps failed records (payload, key, error) for replay or skipping; closes them when a later run syncs them.",
        doc: """
            Each message on `in` records one failure of the record identified by `key` and counts it as failed
            (once, even when another node counts the same error). The item is `open` until it has failed in
            `maxAttempts` runs, then `parked`; with `run.cursorPolicy: park` it is parked at once, so the cursor
            may pass it; with `run.retryParked: true` a parked item with attempts left is delivered to `entry`
            again at the start of the next runs. `flowrun dlq list` shows open and parked items, `flowrun dlq
            replay ID` (or `--flow FLOW` for all of a flow's) re-injects one into `entry` as a new linked run,
            `flowrun dlq skip ID` gives it up: when the same `version` of the record fails again it counts as
            `skipped` and holds nothing (a newer version is a new failure). Under `run.cursorPolicy: hold` the
            `version` is the record's checkpoint value: the cursor advances to just before the oldest
            unresolved one. Messages on `resolve` (`{keys: [...]}` or `{key}`) close the unresolved items of
            records a run synced successfully. Error messages (`{error, input, context}`) can be connected
            directly. An item whose `error.code` is `conflict` (a record changed on both sides of a bidirectional
            sync, its payload holding both versions) is parked at once and is not a failure: it counts as
            `dead_lettered` only, and waits for `flowrun dlq resolve ID --take local|remote`, which replays the
            payload with `take` set into `entry`.
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
                    Field("key", .any, required: false, doc: "identifies the record across runs"),
                    Field("payload", .any, required: false), Field("error", .any, required: false),
                    Field(
                        "version", .any, required: false,
                        doc:
                            "the record's version, its checkpoint value (e.g. updated_at): a skipped item stays skipped for it; `hold` advances the cursor to just before it"
                    ),
                    .contextField,
                ]), doc: "A failed record."),
            .input(
                "resolve",
                .openObject([
                    Field("keys", .array(.any), required: false), Field("key", .any, required: false),
                    .contextField,
                ]), doc: "Records synced successfully: their open or parked items are closed (`resolved`)."),
        ],
        terminalInputs: ["in", "resolve"],
        example: """
            dlq:
              component: dead-letter
              settings: {maxAttempts: 3, entry: transform.in}
            """,
        dryRun:
            "Nothing is stored or resolved: a failed record is counted as a failure of the run, as in a real run, but no item is written to the queue.",
        entrySetting: "entry",
        transfer: { _ in [:] }
    )
}

extension DeadLetter {
    /// Records each failed record in the flow's dead-letter queue (`DeadLetterQueue`) and closes the items
    /// of records synced later. The unresolved keys are read once per run, so `resolve` costs a set lookup
    /// per key on the hot path of a sync.
    final class Instance: Component, @unchecked Sendable {
        private let lock = NSLock()
        /// The unresolved keys of the flow, as read at the first `resolve` of a run.
        private var unresolved: (run: String, keys: Set<String>)?

        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            if port == "resolve" { return try resolve(message, &context) }
            let key = message["key"].isNull ? JSON.serialize(message["payload"]) : message["key"].interpolated
            // A conflict waits for an operator's decision; it is no failure of the run.
            let isConflict = message["error"]["code"] == "conflict"
            guard !context.isDryRun else {
                if isConflict { context.count(.deadLettered) } else { context.countFailure(of: message) }
                return
            }
            let result: (item: DeadLetterQueue.Item, outcome: DeadLetterQueue.Outcome)
            do {
                result = try DeadLetterQueue(store: context.state).record(
                    flow: context.flowName, key: key, payload: message["payload"], error: message["error"],
                    runID: context.runID, entry: context.setting("entry").stringValue,
                    flowFile: context.flowFile,
                    maxAttempts: context.setting("maxAttempts").intValue ?? 3, now: context.now,
                    version: message["version"], parkAtOnce: context.parksFailures || isConflict)
            } catch {
                // Not recorded: the failure is counted where this error is handled (or as unhandled).
                throw NodeError(
                    "state store: \(error)", code: "state_store", retryable: true,
                    failureID: message["error"]["id"].intValue)
            }
            if result.outcome == .skipped {
                context.count(.skipped)
                return
            }
            lock.withLock { unresolved?.keys.insert(key) }
            if isConflict {
                context.count(.deadLettered)
                context.log(.warning, "parked \(result.item.id) (key \(key)): changed on both sides")
                return
            }
            context.countFailure(of: message)
            context.markFailedVersion(message, version: message["version"])
            context.count(.deadLettered)
            if result.item.status == .parked {
                context.markParked(message)
                context.log(
                    .warning, "parked \(result.item.id) (key \(key)) after \(result.item.attempts) failing runs")
            }
        }

        func resolve(_ message: Value, _ context: inout NodeContext) throws(NodeError) {
            guard !context.isDryRun else { return }
            var keys: [String] = []
            if case .array(let items) = message["keys"] { keys = items.map(Self.key) }
            if !message["key"].isNull { keys.append(Self.key(message["key"])) }
            let queue = DeadLetterQueue(store: context.state)
            let flow = context.flowName, run = context.runID
            do {
                let known = try lock.withLock { () throws -> Set<String> in
                    if let u = unresolved, u.run == run { return u.keys }
                    let keys = Set(try queue.list(flow: flow).map(\.key))
                    unresolved = (run, keys)
                    return keys
                }
                let due = keys.filter(known.contains)
                guard !due.isEmpty else { return }
                let closed = try queue.resolve(flow: flow, keys: due, now: context.now)
                lock.withLock { for k in due { unresolved?.keys.remove(k) } }
                for item in closed { context.log(.info, "resolved \(item.id) (key \(item.key)): synced") }
            } catch {
                throw NodeError("state store: \(error)", code: "state_store", retryable: true)
            }
        }

        static func key(_ v: Value) -> String { v.interpolated }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
