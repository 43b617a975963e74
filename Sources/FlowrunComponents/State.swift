import FlowrunValue
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph

/// Durable per-flow key/value state, including run-committed checkpoints for incremental cursors.
public enum State {
    static let request = Shape.object([
        Field("key", .string, required: false, doc: "defaults to the `key` setting"),
        Field("value", .any, required: false, doc: "for set and checkpoint"),
        .contextField,
    ])

    public static let descriptor = ComponentDescriptor(
        name: "state",
        summary: "Durable per-flow key/value state; `checkpoint` values commit only when the run succeeds.",
        doc: """
            `get` emits `{key, value, context}` on `value` (null when unset, or `default`). `set` stores a value
            at once. `checkpoint` offers a cursor value: the run keeps the greatest (`reduce: max`) or least
            one and commits it only when the run ends `completed`, so an incremental cursor never moves past
            records that were not processed; it never moves backwards. Under `run.cursorPolicy: hold` a run
            that ends `completed_with_errors` commits the greatest value before its oldest unresolved failure
            (the dead letter's `version`); under `park`, the whole value when every failure was parked.
            """,
        isIO: true,
        settings: [
            SettingDescriptor(
                "key", .string, doc: "The state key used when a message has no `key`.", example: "users-cursor"),
            SettingDescriptor(
                "default", .any, doc: "The value `get` returns when the key is unset.",
                example: "'2024-01-01T00:00:00Z'"),
            SettingDescriptor(
                "reduce", .enumeration(["max", "min", "last"]), default: "max",
                doc: "How checkpoint values of one run combine.", example: "max"),
        ],
        ports: [
            .input("get", request, doc: "Read a key."),
            .input("set", request, doc: "Write a key now."),
            .input("checkpoint", request, doc: "Offer a cursor value, committed when the run completes."),
            .output(
                "value", .object([Field("key", .string), Field("value", .any), Field("context", .any)]),
                doc: "The value read by `get` (and the stored value after `set`)."),
        ],
        terminalInputs: ["checkpoint"],
        example: """
            cursor:
              component: state
              settings: {key: users-cursor, default: '1970-01-01T00:00:00Z'}
            """,
        dryRun:
            "`get` reads the stored value; `set` emits the value without storing it; checkpoints are offered but never committed (a dry run never moves a cursor).",
        transfer: { t in
            let inputs = ["get", "set", "checkpoint"].map { t.input($0) }
            if inputs.allSatisfy(\.isNever) { return ["value": .never] }
            let context = ["get", "set"].reduce(Shape.never) { Shape.join($0, t.context(of: $1)) }
            return ["value": .object([Field("key", .string), Field("value", .any), Field("context", context)])]
        }
    )
}

extension State {
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            let key = message["key"].stringValue ?? context.setting("key").stringValue ?? ""
            guard !key.isEmpty else {
                throw NodeError("state needs a key (the `key` setting or a `key` field)", code: "bad_input")
            }
            switch port {
            case "get":
                let stored: Value?
                do { stored = try context.state.get(flow: context.flowName, key: key) } catch {
                    throw NodeError("state store: \(error)", retryable: true)
                }
                context.emit(
                    "value",
                    ["key": .string(key), "value": stored ?? context.setting("default"), "context": message["context"]])
            case "set":
                if !context.isDryRun {
                    do { try context.state.set(flow: context.flowName, key: key, value: message["value"]) } catch {
                        throw NodeError("state store: \(error)", retryable: true)
                    }
                }
                context.emit("value", ["key": .string(key), "value": message["value"], "context": message["context"]])
            default:
                let value = message["value"]
                if value.isNull { return }
                let reduce = CheckpointReduce(rawValue: context.setting("reduce").stringValue ?? "max") ?? .max
                context.checkpoint(key, value, reduce: reduce)
            }
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
