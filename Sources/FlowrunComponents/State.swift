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
            With `lag`, `get` answers the stored cursor minus a trailing window (a duration for RFC 3339 times,
            a number for numeric cursors), so each run reads that window again: records updated late, or while
            an earlier run paged, are picked up (dlt's `lag`, Airbyte's lookback). The default is not lagged.
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
            SettingDescriptor(
                "lag", .any,
                doc: "Re-read window: `get` answers the stored value minus this (a duration for times, a number).",
                example: "10m"),
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
                var value = stored ?? context.setting("default")
                let lag = context.setting("lag")
                if let stored, !lag.isNull {
                    guard let lagged = State.lagged(stored, by: lag) else {
                        throw NodeError(
                            "state: cannot take the lag \(lag.interpolated) from the stored \(stored.typeName) "
                                + "(a duration applies to an RFC 3339 time, a number to a number)", code: "bad_settings"
                        )
                    }
                    value = lagged
                }
                context.emit("value", ["key": .string(key), "value": value, "context": message["context"]])
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

    /// `value` moved back by `lag`: an RFC 3339 time by a duration (`10m`), a number by a number; nil when
    /// they do not fit.
    static func lagged(_ value: Value, by lag: Value) -> Value? {
        switch (value, lag) {
        case (.int(let v), .int(let l)):
            let (r, overflow) = v.subtractingReportingOverflow(l)
            return overflow ? nil : .int(r)
        case (.int, .double), (.double, .int), (.double, .double):
            guard let v = value.doubleValue, let l = lag.doubleValue else { return nil }
            return .double(v - l)
        case (.string(let text), .string(let duration)):
            guard let instant = Time.instant(text), let nanos = Durations.parse(duration) else { return nil }
            let back = Time.Instant(unixNanos: nanos)
            var seconds = instant.seconds - back.seconds
            var fraction = instant.nanos - back.nanos
            if fraction < 0 {
                fraction += 1_000_000_000
                seconds -= 1
            }
            return .string(Time.rfc3339(Time.Instant(seconds: seconds, nanos: fraction)))
        default: return nil
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
