import Foundation
import FlowrunRuntime
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
        dryRun: "As in a normal run (no side effects).",
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

extension Router {
    struct Rule {
        let field: String
        let op: String
        let value: Value
        let port: String
        let regex: Regex<AnyRegexOutput>?
    }

    final class Instance: Component {
        let rules: [Rule]
        let when: ValueTemplate?
        let matchPort: String
        let defaultPort: String
        let all: Bool

        init(_ node: CheckedNode) throws(NodeError) {
            let settings = node.settings
            var rules: [Rule] = []
            if case .array(let items) = settings["rules"]?.constantValue ?? .null {
                for r in items {
                    let op = r["operator"].stringValue ?? "equals"
                    var regex: Regex<AnyRegexOutput>?
                    if op == "matches" {
                        do { regex = try Regex(r["value"].interpolated) } catch {
                            throw NodeError("invalid regular expression '\(r["value"].interpolated)': \(error)")
                        }
                    }
                    rules.append(
                        Rule(
                            field: r["field"].stringValue ?? "", op: op, value: r["value"],
                            port: r["outputPort"].stringValue ?? "default", regex: regex))
                }
            }
            self.rules = rules
            self.when = node.settings["when"]
            self.matchPort = node.settings["outputPort"]?.constantValue?.stringValue ?? "matched"
            self.defaultPort = node.settings["defaultPort"]?.constantValue?.stringValue ?? "default"
            self.all = node.settings["mode"]?.constantValue?.stringValue == "all"
        }

        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            if let when {
                let result: Value
                do { result = try when.evaluate(message, context.globals) } catch { throw NodeError(error) }
                context.emit(result.isTruthy ? matchPort : defaultPort, message)
                return
            }
            var matched = false
            for rule in rules where Router.matches(rule, message.value(atPath: rule.field)) {
                matched = true
                context.emit(rule.port, message)
                if !all { return }
            }
            if !matched { context.emit(defaultPort, message) }
        }
    }

    /// One rule against the field's value. A string rule value also matches a bool or number field
    /// by its text (`value: "true"` matches `true`), as the seed flow writes it.
    static func matches(_ rule: Rule, _ field: Value) -> Bool {
        let value = rule.value
        func equal() -> Bool {
            if field == value { return true }
            if case .string(let s) = value {
                switch field {
                case .bool, .int, .double: return field.interpolated == s
                default: return false
                }
            }
            return false
        }
        func order() -> Int? {
            if let o = Builtins.compare(field, value) { return o }
            if case .string(let s) = value, let d = Double(s), let f = field.doubleValue {
                return f < d ? -1 : f > d ? 1 : 0
            }
            return nil
        }
        switch rule.op {
        case "equals": return equal()
        case "not_equals": return !equal()
        case "gt": return order().map { $0 > 0 } ?? false
        case "gte": return order().map { $0 >= 0 } ?? false
        case "lt": return order().map { $0 < 0 } ?? false
        case "lte": return order().map { $0 <= 0 } ?? false
        case "contains":
            switch field {
            case .string(let s): return value.stringValue.map { s.contains($0) } ?? false
            case .array(let a): return a.contains(value)
            case .object(let o): return value.stringValue.map { o[$0] != nil } ?? false
            default: return false
            }
        case "starts_with":
            return field.stringValue.map { s in value.stringValue.map { s.hasPrefix($0) } ?? false } ?? false
        case "ends_with":
            return field.stringValue.map { s in value.stringValue.map { s.hasSuffix($0) } ?? false } ?? false
        case "matches":
            guard let s = field.stringValue ?? (field.isNull ? nil : field.interpolated), let regex = rule.regex else {
                return false
            }
            return (try? regex.firstMatch(in: s)) != nil
        case "in":
            switch value {
            case .array(let a):
                return a.contains(field) || a.contains { $0.stringValue == field.interpolated && !field.isNull }
            case .string(let s):
                return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(
                    field.interpolated)
            default: return false
            }
        case "exists": return !field.isNull
        case "not_exists": return field.isNull
        case "empty", "not_empty":
            let empty: Bool
            switch field {
            case .null: empty = true
            case .string(let s): empty = s.isEmpty
            case .array(let a): empty = a.isEmpty
            case .object(let o): empty = o.isEmpty
            default: empty = false
            }
            return rule.op == "empty" ? empty : !empty
        default: return false
        }
    }

    public static let factory: ComponentFactory = { node throws(NodeError) in try Instance(node) }
}
