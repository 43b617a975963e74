import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Forwards each message unchanged to the output port of the first (or every) rule that matches.
public enum Router {
    public static let operators = [
        "equals", "not_equals", "gt", "gte", "lt", "lte", "contains", "starts_with", "ends_with", "matches", "in",
        "exists", "not_exists", "empty", "not_empty",
    ]

    static let rule = Shape.object([
        Field("name", .string, required: false, doc: "for logs"),
        Field("field", .string, doc: "dotted path into the message, e.g. context.hasMore"),
        Field("operator", .enumeration(operators)),
        Field(
            "value", .any, required: false, doc: "compared value; a string also matches a bool or number by its text"),
        Field("outputPort", .string),
    ])

    public static let descriptor = ComponentDescriptor(
        name: "router",
        summary: "Routes each message, unchanged, to the port of the first (or every) matching rule.",
        doc: """
            Either `rules` (each `{name, field, operator, value, outputPort}`) or `when: <<expr>>` (the
            message goes to `outputPort`, default `matched`, when the expression is truthy). Messages no
            rule matches go to `defaultPort` (default `default`). `mode: all` sends a message to every
            matching rule's port. Operators: \(operators.joined(separator: ", ")).
            """,
        isConditional: true,
        settings: [
            SettingDescriptor(
                "rules", .array(rule), doc: "Rules tried in order.",
                example: "[{field: hasMore, operator: equals, value: 'true', outputPort: next}]"),
            SettingDescriptor(
                "when", .any, doc: "A condition on the message, instead of `rules`.",
                example: "<<$.page < $.totalPages>>",
                evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "outputPort", .string, default: "matched", doc: "The port for `when` matches.", example: "next"),
            SettingDescriptor(
                "defaultPort", .string, default: "default", doc: "The port for messages no rule matches.",
                example: "done"),
            SettingDescriptor(
                "mode", .enumeration(["first", "all"]), default: "first",
                doc: "`first` matching rule, or `all` matching rules.", example: "all"),
        ],
        ports: [.input("in", .any, doc: "Any message.")],
        example: """
            has-more:
              component: router
              settings:
                rules: [{name: has_more_pages, field: hasMore, operator: equals, value: "true", outputPort: route_a}]
                defaultPort: default
            """,
        dynamicOutputs: outputs,
        transfer: { t in
            var out: [String: Shape] = [:]
            for p in outputs(t.settings) { out[p.name] = t.input("in") }
            return out
        }
    )

    static func outputs(_ settings: ComponentDescriptor.Settings) -> [PortDescriptor] {
        var names: [String] = []
        if case .array(let rules) = settings["rules"] ?? .null {
            for r in rules { if case .string(let p) = r["outputPort"], !names.contains(p) { names.append(p) } }
        }
        if settings["rules"] == nil || settings["rules"] == .array([]) {
            names.append(settings["outputPort"]?.stringValue ?? "matched")
        }
        let fallback = settings["defaultPort"]?.stringValue ?? "default"
        if !names.contains(fallback) { names.append(fallback) }
        return names.map { .output($0, .any, doc: "Messages routed here, unchanged.") }
    }
}
