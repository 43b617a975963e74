import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Splits an array into items or batches, then reports when it is done.
public enum Iterator {
    public static let descriptor = ComponentDescriptor(
        name: "iterator",
        summary: "Splits an array into items (`item`) or batches (`batch`), then emits `done`.",
        doc: """
            With `batchSize: 1` each element goes out on `item`; with a larger `batchSize` groups go out on
            `batch` with `batchNum` (1-based), `totalBatches`, `progress` (percent) and `isLastBatch`.
            `done` follows the last item or batch with the count. Every output carries the input's `context`.
            With `continueOnError`, a failing item does not stop the rest. A paginating source can pass
            `sourceTotal` (the records the whole source holds, e.g. an API's `total`): the run record shows it as
            its `total` (`processed 34,100 of 100,000`) for live progress.
            """,
        settings: [
            SettingDescriptor(
                "batchSize", .int, default: 1, doc: "Items per message; 1 emits on `item`.", example: "10"),
            SettingDescriptor(
                "emitIndex", .bool, default: true, doc: "Include `index` and `total` on items.", example: "true"),
            SettingDescriptor(
                "emitProgress", .bool, default: true, doc: "Include progress fields on batches.", example: "true"),
            SettingDescriptor(
                "continueOnError", .bool, default: true, doc: "Keep going after a failed item.", example: "false"),
            SettingDescriptor(
                "countProcessed", .bool, default: true,
                doc: "Count the items as processed on the run record (false for a second pass over counted items).",
                example: "false"),
        ],
        ports: [
            .input(
                "in",
                .object([
                    Field("array", .array(.any), doc: "the items"),
                    Field(
                        "sourceTotal", .int, required: false,
                        doc: "records the whole source holds (all pages): the run's announced total, for progress"),
                    .contextField,
                ]),
                doc: "The array to split."),
            .output(
                "item",
                .object([Field("item", .any), Field("index", .int), Field("total", .int), Field("context", .any)]),
                doc: "One element (when `batchSize` is 1)."),
            .output(
                "batch",
                .object([
                    Field("items", .array(.any)), Field("batchNum", .int), Field("totalBatches", .int),
                    Field("progress", .number), Field("isLastBatch", .bool), Field("context", .any),
                ]), doc: "A group of elements (when `batchSize` > 1)."),
            .output(
                "done", .object([Field("count", .int), Field("context", .any)]), doc: "After the last item or batch."),
        ],
        example: """
            process-items:
              component: iterator
              settings: {batchSize: 10, emitProgress: true, continueOnError: true}
            """,
        dryRun: "As in a normal run (no side effects).",
        transfer: { t in
            let input = t.input("in")
            if input.isNever { return ["item": .never, "batch": .never, "done": .never] }
            let array = input.field("array") ?? .array(.any)
            let context = t.context(of: "in")
            return [
                "item": .object([
                    Field("item", array.element), Field("index", .int), Field("total", .int), Field("context", context),
                ]),
                "batch": .object([
                    Field("items", .array(array.element)), Field("batchNum", .int), Field("totalBatches", .int),
                    Field("progress", .number), Field("isLastBatch", .bool), Field("context", context),
                ]),
                "done": .object([Field("count", .int), Field("context", context)]),
            ]
        }
    )
}

extension Iterator {
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            guard case .array(let items) = message["array"] else {
                throw NodeError(
                    "iterator needs `array` to be an array, got \(message["array"].typeName)", code: "bad_input")
            }
            let ctx = message["context"]
            let batchSize = max(1, context.setting("batchSize").intValue ?? 1)
            let emitIndex = context.setting("emitIndex").isTruthy
            let emitProgress = context.setting("emitProgress").isTruthy
            let stop = !context.setting("continueOnError").isTruthy
            let total = items.count
            if context.setting("countProcessed") != false { context.count(.processed, total) }
            if let sourceTotal = message["sourceTotal"].intValue { context.announceTotal(sourceTotal) }
            let done: (inout NodeContext) -> Void = { c in c.emit("done", ["count": .int(total), "context": ctx]) }
            if batchSize == 1 {
                context.emitSequence(
                    "item", count: total, stopOnFailure: stop,
                    make: { i in
                        var o: Value.Object = ["item": items[i]]
                        if emitIndex {
                            o["index"] = .int(i)
                            o["total"] = .int(total)
                        }
                        o["context"] = ctx
                        return .object(o)
                    }, completion: done)
                return
            }
            let batches = (total + batchSize - 1) / batchSize
            context.emitSequence(
                "batch", count: batches, stopOnFailure: stop,
                make: { b in
                    let slice = Array(items[b * batchSize..<min(total, (b + 1) * batchSize)])
                    var o: Value.Object = [
                        "items": .array(slice), "batchNum": .int(b + 1), "totalBatches": .int(batches),
                    ]
                    if emitProgress {
                        o["progress"] = .double((Double(b + 1) / Double(batches) * 10000).rounded() / 100)
                        o["isLastBatch"] = .bool(b + 1 == batches)
                    }
                    o["context"] = ctx
                    return .object(o)
                }, completion: done)
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
