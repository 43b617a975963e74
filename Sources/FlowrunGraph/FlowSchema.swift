import FlowrunExpression
import FlowrunValue

/// A JSON Schema (draft-07, what the YAML language server supports best) of flow files, derived from
/// the same declarations the checker reads: the flow format's keys, every component's settings (with
/// types, enums, defaults, docs and examples) keyed by component through `if`/`then`, and `run:` from
/// `RunPolicy`. `flowrun schema` prints it; it is committed as components/flow.schema.json.
///
/// A value written as a `<<...>>` template is accepted wherever a setting may be one: its type is known
/// only when it runs (`flowrun check` still checks it).
public enum FlowSchema {
    public static func json(registry: ComponentRegistry) -> Value {
        var definitions = Value.Object()
        definitions["template"] = [
            "type": "string", "pattern": "<<[\\s\\S]*>>",
            "description": "A `<<...>>` template, evaluated when the flow runs.",
        ]
        var conditions: [Value] = []
        for c in registry.components {
            definitions["settings:\(c.name)"] = settings(c)
            conditions.append([
                "if": ["properties": ["component": ["enum": .array(([c.name] + c.aliases).map { .string($0) })]]],
                "then": ["properties": ["settings": ["$ref": .string("#/definitions/settings:\(c.name)")]]],
            ])
        }
        let componentNames = registry.components.flatMap { [$0.name] + $0.aliases }
        definitions["node"] = [
            "type": "object", "required": ["component"], "additionalProperties": false,
            "properties": [
                "component": [
                    "enum": .array(componentNames.map { .string($0) }),
                    "description": "The component this node runs (components/README.md).",
                ],
                "settings": ["type": "object", "description": "The component's settings."],
                "description": ["type": "string"],
                "concurrency": [
                    "type": "integer", "minimum": 1, "maximum": 1024,
                    "description": "Messages an I/O node handles at once (results keep their order).",
                ],
                "connection": [
                    "type": "string",
                    "description": "A connection named under `connections:`, whose settings the node gets.",
                ],
            ],
            "allOf": .array(conditions),
        ]
        // A connection holds the settings its kind's component declares for connections (`ConnectionKind`).
        var kindConditions: [Value] = []
        for (kind, component) in registry.connectionKinds {
            var properties = Value.Object()
            properties["kind"] = ["const": .string(kind.name)]
            if case .object(let all) = settings(component)["properties"] {
                for name in kind.settings { properties[name] = all[name] }
            }
            kindConditions.append([
                "if": ["properties": ["kind": ["const": .string(kind.name)]]],
                "then": ["properties": .object(properties), "additionalProperties": false],
            ])
        }
        definitions["connection"] = [
            "type": "object", "required": ["kind"],
            "properties": [
                "kind": [
                    "enum": .array(registry.connectionKinds.map { .string($0.kind.name) }),
                    "description": "What the connection reaches; its settings are those of that kind's component.",
                ]
            ],
            "allOf": .array(kindConditions),
        ]
        definitions["endpoint"] = [
            "type": "string", "pattern": "^[a-z][a-z0-9-]*\\.[^.]+$", "description": "node.port",
        ]
        definitions["edge"] = [
            "type": "object", "required": ["from", "to"], "additionalProperties": false,
            "properties": [
                "from": ["$ref": "#/definitions/endpoint", "description": "The output port: node.port."],
                "to": ["$ref": "#/definitions/endpoint", "description": "The input port: node.port."],
                "data": ["description": "The message sent, built from the output's message `$` with templates."],
                "description": ["type": "string"],
            ],
        ]
        definitions["secret"] = [
            "type": "object", "additionalProperties": false, "minProperties": 1,
            "properties": [
                "env": ["type": "string", "description": "An environment variable holding the secret."],
                "file": ["type": "string", "description": "A file holding the secret."],
                "default": ["type": "string", "description": "The value when neither is set (development only)."],
            ],
        ]
        var properties = Value.Object()
        for key in FlowDecoder.topLevelKeys {
            switch key {
            case "flow":
                properties[key] = [
                    "type": "string", "pattern": "^[a-z0-9-]+$", "description": "The flow's name: [a-z0-9-]+.",
                ]
            case "description": properties[key] = ["type": "string"]
            case "vars":
                properties[key] = [
                    "type": "object", "propertyNames": ["pattern": "^[A-Za-z_][A-Za-z0-9_]*$"],
                    "description": "Constants the flow's templates read as `vars.NAME` (`--set vars.NAME=...`).",
                ]
            case "secrets":
                properties[key] = [
                    "type": "object", "propertyNames": ["pattern": "^[A-Za-z_][A-Za-z0-9_]*$"],
                    "additionalProperties": ["$ref": "#/definitions/secret"],
                    "description": "Secrets the templates read as `secrets.NAME`; never written inline.",
                ]
            case "run":
                // Literal values (`flowrun check` reads them before any run); `concurrencyKey` is a string.
                properties[key] = schema(RunPolicy.schema, literal: true)
            case "nodes":
                properties[key] = [
                    "type": "object", "propertyNames": ["pattern": "^[a-z][a-z0-9-]*$"],
                    "additionalProperties": ["$ref": "#/definitions/node"],
                    "description": "The nodes, by name.",
                ]
            case "connections":
                properties[key] = [
                    "type": "object", "propertyNames": ["pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"],
                    "additionalProperties": ["$ref": "#/definitions/connection"],
                    "description": "Databases and APIs named once and used by nodes with `connection: NAME`.",
                ]
            case "edges":
                properties[key] = [
                    "type": "array", "items": ["$ref": "#/definitions/edge"],
                    "description": "Connections from output ports to input ports.",
                ]
            default:
                properties[key] = ["description": .string("`\(key):` (see README.md)")]
            }
        }
        return [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "flowrun flow file",
            "description": "Generated by `flowrun schema` from the component declarations. Do not edit.",
            "type": "object", "required": ["flow", "nodes"], "additionalProperties": false,
            "properties": .object(properties),
            "definitions": .object(definitions),
        ]
    }

    /// The settings of one component: known names only, required ones required.
    static func settings(_ c: ComponentDescriptor) -> Value {
        var properties = Value.Object()
        for s in c.settings {
            var p = schema(s.shape, literal: { if case .literal = s.evaluation { true } else { false } }())
            guard case .object(var o) = p else { continue }
            var doc = s.doc
            if case .perMessage = s.evaluation { doc += " Evaluated per message (`$` is the input)." }
            o["description"] = .string(doc)
            if let d = s.defaultValue { o["default"] = d }
            if let e = s.example { o["examples"] = [example(e)] }
            p = .object(o)
            properties[s.name] = p
        }
        return [
            "type": "object", "additionalProperties": false,
            "required": .array(c.settings.filter(\.required).map { .string($0.name) }),
            "properties": .object(properties),
        ]
    }

    /// An example as written in the declaration: its YAML value, or the text when it holds templates.
    static func example(_ text: String) -> Value {
        if case .success(let node) = YAMLLoader.load(SourceFile(path: "example", text: text)),
            let value = node.constant
        {
            return value
        }
        return .string(text)
    }

    /// A shape as JSON Schema; unless `literal`, every value that is not a string may also be a template.
    static func schema(_ shape: Shape, literal: Bool) -> Value {
        let plain: Value
        switch shape {
        case .any, .never: return [:]
        case .null: plain = ["type": "null"]
        case .bool: plain = ["type": "boolean"]
        case .int: plain = ["type": "integer"]
        case .number: plain = ["type": "number"]
        case .string: return ["type": "string"]
        case .duration:
            plain = [
                "type": "string", "pattern": "^\\s*(0|-?([0-9.]+(ns|us|µs|ms|s|m|h|d))+)\\s*$",
                "description": "A duration such as 90s, 5m or 1h30m.",
            ]
        case .enumeration(let values): plain = ["enum": .array(values.map { .string($0) })]
        case .array(let element): plain = ["type": "array", "items": schema(element, literal: literal)]
        case .object(let o):
            var properties = Value.Object()
            for f in o.fields {
                var p = schema(f.shape, literal: literal)
                if !f.doc.isEmpty, case .object(var x) = p {
                    x["description"] = .string(f.doc)
                    p = .object(x)
                }
                properties[f.name] = p
            }
            var out: Value.Object = ["type": "object", "properties": .object(properties)]
            let required = o.fields.filter(\.required).map { Value.string($0.name) }
            if !required.isEmpty { out["required"] = .array(required) }
            if !o.open { out["additionalProperties"] = false }
            plain = .object(out)
        case .oneOf(let shapes):
            return ["anyOf": .array(shapes.map { schema($0, literal: literal) })]
        }
        if literal { return plain }
        return ["anyOf": [plain, ["$ref": "#/definitions/template"]]]
    }
}
