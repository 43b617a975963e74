import FlowrunExpression
import FlowrunGraph
import FlowrunRuntime
import FlowrunValue

/// Field mapping rules as data (seed 000's FieldMappingRule): builds a record from another, rule by rule.
public enum MapRecords {
    static let rule = Shape.object([
        Field("from", .string, required: false, doc: "path of the source field (`address.city`)"),
        Field("to", .string, doc: "the target field"),
        Field(
            "transform", .any, required: false,
            doc: "the value, usually an expression over `$.record` (then `from` is only documentation)"),
        Field("default", .any, required: false, doc: "used when the value is null"),
    ])

    public static let descriptor = ComponentDescriptor(
        name: "map",
        summary: "Builds a record from `record` by field mapping rules `{from, to, transform, default}`.",
        doc: """
            Each rule sets the field `to` of the output record: from `transform` when the rule has one
            (an expression, evaluated for each message with `$` the incoming message), else from the source
            field at path `from`; a null result takes the rule's `default`. The rules are checked when the
            flow loads, expressions included (file:line:col), so they may also come from `vars`
            (`mapping: <<vars.contactFields>>`) when they need no per-record expression. A rule with neither
            `from` nor `transform` is an error. Emits `{record, source, context}`.
            """,
        settings: [
            SettingDescriptor(
                "mapping", .array(rule), required: true, doc: "The rules, in output field order.",
                example:
                    "[{from: email, to: email, transform: '<<lower($.record.email)>>'}, {from: name, to: name, default: ''}]",
                evaluation: .perMessage(port: "in"))
        ],
        ports: [
            .input(
                "in", .object([Field("record", .any, doc: "the source record"), .contextField]),
                doc: "A record to map."),
            .output(
                "out", .object([Field("record", .anyObject), Field("source", .any), Field("context", .any)]),
                doc: "The mapped record, the source record and the context."),
        ],
        example: """
            to-api:
              component: map
              settings:
                mapping:
                  - {from: email, to: email, transform: <<lower($.record.email ?? '')>>}
                  - {from: name, to: name, default: unknown}
            """,
        transfer: { t in
            if t.input("in").isNever { return ["out": .never] }
            return [
                "out": .object([
                    Field("record", .anyObject), Field("source", t.input("in").field("record") ?? .any),
                    Field("context", t.context(of: "in")),
                ])
            ]
        }
    )
}

extension MapRecords {
    final class Instance: Component {
        let mapping: ValueTemplate?

        init(_ node: CheckedNode) { mapping = node.settings["mapping"] }

        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            let rules: Value
            do { rules = try mapping?.evaluate(message, context.globals) ?? [] } catch { throw NodeError(error) }
            let source = message["record"]
            var out = Value.Object()
            for (i, rule) in (rules.arrayValue ?? []).enumerated() {
                guard case .string(let to) = rule["to"] else {
                    throw NodeError("mapping rule \(i + 1) has no `to`", code: "bad_mapping")
                }
                var value: Value
                if case .object(let fields) = rule, fields["transform"] != nil {
                    value = rule["transform"]
                } else if case .string(let from) = rule["from"] {
                    value = source.value(atPath: from)
                } else {
                    throw NodeError(
                        "mapping rule \(i + 1) (to '\(to)') has neither `from` nor `transform`", code: "bad_mapping")
                }
                if value.isNull { value = rule["default"] }
                out[to] = value
            }
            context.emit("out", ["record": .object(out), "source": source, "context": message["context"]])
        }
    }

    public static let factory: ComponentFactory = { node in Instance(node) }
}
