import FlowrunExpression
import FlowrunValue

/// A flow file as written: names, nodes, edges and policies with their positions, before checking.
public struct FlowDocument: Sendable {
    public let source: SourceFile
    public var name: String = ""
    public var nameSpan: Span?
    public var description: String?
    public var vars = Value.Object()
    public var secrets: [SecretDecl] = []
    /// The `run:` policy as written (validated against `RunPolicy.schema` by the checker).
    public var run: YNode?
    /// The `connections:` section: named databases and HTTP APIs that nodes refer to.
    public var connections: [ConnectionDecl] = []
    public var nodes: [NodeDecl] = []
    public var edges: [EdgeDecl] = []

    public func node(_ name: String) -> NodeDecl? { nodes.first { $0.name == name } }
    public func connection(_ name: String) -> ConnectionDecl? { connections.first { $0.name == name } }
}

/// A named connection as written: `crm: {kind: http, baseUrl: ..., rateLimit: ...}`.
public struct ConnectionDecl: Sendable {
    public let name: String
    public let nameSpan: Span
    public var kind: String = ""
    public var kindSpan: Span
    /// Every entry but `kind`, checked against the settings the kind declares.
    public var settings: [(key: YNode, value: YNode)] = []
}

public struct SecretDecl: Sendable {
    public let name: String
    public let span: Span
    public var env: String?
    public var file: String?
    public var defaultValue: String?
}

public struct NodeDecl: Sendable {
    public let name: String
    public let nameSpan: Span
    public var component: String = ""
    public var componentSpan: Span
    public var description: String?
    public var settings: [(key: YNode, value: YNode)] = []
    /// Messages processed at once (default 1, order kept).
    public var concurrency: Int = 1
    /// `connection: crm`: the named connection whose settings the node uses.
    public var connection: String?
    public var connectionSpan: Span?
}

public struct Endpoint: Sendable, CustomStringConvertible {
    public let node: String
    public let port: String
    public let span: Span
    public var description: String { "\(node).\(port)" }
}

public struct EdgeDecl: Sendable {
    public let from: Endpoint?
    public let to: Endpoint?
    /// The `data:` mapping or template that builds the target port's message; nil forwards the message.
    public let data: YNode?
    public let span: Span
}

/// Reads a `FlowDocument` out of positioned YAML, reporting every structural problem it meets.
enum FlowDecoder {
    static let topLevelKeys = ["flow", "description", "vars", "secrets", "run", "connections", "nodes", "edges"]
    static let nodeKeys = ["component", "connection", "settings", "description", "concurrency"]
    static let edgeKeys = ["from", "to", "data", "description"]

    static func decode(_ root: YNode, source: SourceFile) -> (FlowDocument, [Diagnostic]) {
        var doc = FlowDocument(source: source)
        var diagnostics: [Diagnostic] = []
        func error(_ code: DiagnosticCode, _ message: String, _ span: Span, help: String? = nil) {
            diagnostics.append(.error(code, message, at: span, help: help))
        }
        guard let entries = root.entries else {
            error(
                .structure, "a flow file is a mapping with `flow:`, `nodes:` and `edges:`, not \(root.kindName)",
                root.span)
            return (doc, diagnostics)
        }
        for (key, _) in entries where !topLevelKeys.contains(key.string ?? "") {
            error(
                .unknownKey, "unknown top-level key '\(key.string ?? "")'", key.span,
                help: didYouMean(key.string ?? "", topLevelKeys)
                    ?? "top-level keys are \(topLevelKeys.joined(separator: ", "))")
        }

        if let name = root["flow"] {
            if let s = name.string, isFlowName(s) {
                doc.name = s
            } else {
                error(.invalidName, "a flow name is lower-case letters, digits and dashes, like user-sync", name.span)
            }
            doc.nameSpan = name.span
        } else {
            error(
                .missingKey, "the flow has no `flow:` name", Span(source: source, start: 0, end: 1),
                help: "add `flow: my-flow` at the top")
        }
        if let d = root["description"] {
            if let s = d.string {
                doc.description = s
            } else {
                error(.structure, "description must be a string", d.span)
            }
        }

        if let vars = root["vars"] {
            if let m = vars.entries {
                for (k, v) in m {
                    guard let name = k.string, isIdentifier(name) else {
                        error(.invalidName, "var names are identifiers (letters, digits, _)", k.span)
                        continue
                    }
                    guard let value = v.constant else {
                        error(.invalidValue, "vars are constants: templates are not allowed in vars", v.span)
                        continue
                    }
                    doc.vars[name] = value
                }
            } else if !isNull(vars) {
                error(.structure, "vars must be a mapping of names to values", vars.span)
            }
        }

        if let secrets = root["secrets"] {
            if let m = secrets.entries {
                for (k, v) in m {
                    guard let name = k.string, isIdentifier(name) else {
                        error(.invalidName, "secret names are identifiers (letters, digits, _)", k.span)
                        continue
                    }
                    var decl = SecretDecl(name: name, span: k.span)
                    if let sources = v.entries {
                        for (sk, sv) in sources {
                            let which = sk.string ?? ""
                            guard ["env", "file", "default"].contains(which) else {
                                error(
                                    .unknownKey, "unknown secret source '\(which)'", sk.span,
                                    help: didYouMean(which, ["env", "file", "default"])
                                        ?? "sources are env, file and default")
                                continue
                            }
                            guard let text = sv.string ?? sv.constant.map({ $0.interpolated }), !sv.hasTemplates else {
                                error(.invalidValue, "a secret source is a plain string", sv.span)
                                continue
                            }
                            switch which {
                            case "env": decl.env = text
                            case "file": decl.file = text
                            default: decl.defaultValue = text
                            }
                        }
                        if decl.env == nil, decl.file == nil, decl.defaultValue == nil {
                            error(
                                .missingKey, "secret '\(name)' has no source", v.span,
                                help: "write {env: NAME}, {file: path} or {default: value}")
                        }
                    } else {
                        error(
                            .structure, "a secret is {env: NAME}, {file: path} or {default: value}", v.span,
                            help: "secrets are never written inline in a flow file")
                    }
                    doc.secrets.append(decl)
                }
            } else if !isNull(secrets) {
                error(.structure, "secrets must be a mapping", secrets.span)
            }
        }

        if let run = root["run"], !isNull(run) { doc.run = run }

        if let connections = root["connections"] {
            if let m = connections.entries {
                for (k, v) in m { decodeConnection(k, v, &doc, error) }
            } else if !isNull(connections) {
                error(.structure, "connections must be a mapping of names to connections", connections.span)
            }
        }

        if let nodes = root["nodes"] {
            if let m = nodes.entries {
                for (k, v) in m { decodeNode(k, v, &doc, error) }
            } else {
                error(.structure, "nodes must be a mapping of node names to nodes, not \(nodes.kindName)", nodes.span)
            }
        } else {
            error(.missingKey, "the flow has no `nodes:`", doc.nameSpan ?? Span(source: source, start: 0, end: 1))
        }

        if let edges = root["edges"] {
            if let items = edges.items {
                for item in items { decodeEdge(item, &doc, error) }
            } else if !isNull(edges) {
                error(.structure, "edges must be a list of {from, to, data}, not \(edges.kindName)", edges.span)
            }
        }
        return (doc, diagnostics)
    }

    private static func decodeNode(
        _ k: YNode, _ v: YNode, _ doc: inout FlowDocument, _ error: (DiagnosticCode, String, Span, String?) -> Void
    ) {
        guard let name = k.string, isNodeName(name) else {
            error(.invalidName, "node names are lower-case: a letter, then letters, digits and dashes", k.span, nil)
            return
        }
        guard let m = v.entries else {
            error(.structure, "node '\(name)' must be a mapping with `component:`", v.span, nil)
            return
        }
        var node = NodeDecl(name: name, nameSpan: k.span, componentSpan: k.span)
        for (key, _) in m where !nodeKeys.contains(key.string ?? "") {
            error(
                .unknownKey, "unknown key '\(key.string ?? "")' in node '\(name)'", key.span,
                didYouMean(key.string ?? "", nodeKeys)
                    ?? "node keys are \(nodeKeys.joined(separator: ", ")); settings go under `settings:`")
        }
        if let c = v["component"] {
            if let s = c.string {
                node.component = s
            } else {
                error(.structure, "component must be a name", c.span, nil)
            }
            node.componentSpan = c.span
        } else {
            error(.missingKey, "node '\(name)' has no `component:`", k.span, nil)
        }
        if let d = v["description"] { node.description = d.string }
        if let s = v["settings"] {
            if let entries = s.entries {
                node.settings = entries
            } else if !isNull(s) {
                error(.structure, "settings of '\(name)' must be a mapping, not \(s.kindName)", s.span, nil)
            }
        }
        if let c = v["connection"] {
            if let s = c.string, isNodeName(s) {
                node.connection = s
            } else {
                error(.invalidValue, "connection is the name of an entry of `connections:`", c.span, nil)
            }
            node.connectionSpan = c.span
        }
        if let c = v["concurrency"] {
            if case .scalar(.int(let n)) = c.kind, (1...1024).contains(n) {
                node.concurrency = n
            } else {
                error(.invalidValue, "concurrency is an int from 1 to 1024", c.span, nil)
            }
        }
        doc.nodes.append(node)
    }

    private static func decodeConnection(
        _ k: YNode, _ v: YNode, _ doc: inout FlowDocument, _ error: (DiagnosticCode, String, Span, String?) -> Void
    ) {
        guard let name = k.string, isNodeName(name) else {
            error(
                .invalidName, "connection names are lower-case: a letter, then letters, digits and dashes", k.span, nil)
            return
        }
        guard let m = v.entries else {
            error(
                .structure, "connection '\(name)' must be a mapping with `kind:`", v.span,
                "for example {kind: http, baseUrl: ...}")
            return
        }
        var decl = ConnectionDecl(name: name, nameSpan: k.span, kindSpan: k.span)
        for (key, value) in m {
            if key.string == "kind" {
                if let s = value.string { decl.kind = s } else { error(.structure, "kind is a name", value.span, nil) }
                decl.kindSpan = value.span
            } else {
                decl.settings.append((key, value))
            }
        }
        if v["kind"] == nil {
            error(.missingKey, "connection '\(name)' has no `kind:`", k.span, "write `kind: database` or `kind: http`")
        }
        doc.connections.append(decl)
    }

    private static func decodeEdge(
        _ item: YNode, _ doc: inout FlowDocument, _ error: (DiagnosticCode, String, Span, String?) -> Void
    ) {
        guard let m = item.entries else {
            error(.structure, "an edge is a mapping with `from:` and `to:`, not \(item.kindName)", item.span, nil)
            return
        }
        for (key, _) in m where !edgeKeys.contains(key.string ?? "") {
            error(
                .unknownKey, "unknown key '\(key.string ?? "")' in an edge", key.span,
                didYouMean(key.string ?? "", edgeKeys + ["target"]).map {
                    $0 == "did you mean 'target'?" ? "edges use `to: node.port`" : $0
                }
                    ?? "edge keys are \(edgeKeys.joined(separator: ", "))")
        }
        func endpoint(_ key: String) -> Endpoint? {
            guard let n = item[key] else {
                error(.missingKey, "the edge has no `\(key):`", item.span, "write `\(key): node.port`")
                return nil
            }
            guard let text = n.string else {
                error(.endpoint, "`\(key):` is written node.port", n.span, nil)
                return nil
            }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                error(.endpoint, "'\(text)' is not node.port", n.span, "write `\(key): \(parts.first ?? "node").port`")
                return nil
            }
            return Endpoint(node: String(parts[0]), port: String(parts[1]), span: n.span)
        }
        let from = endpoint("from")
        let to = endpoint("to")
        doc.edges.append(EdgeDecl(from: from, to: to, data: item["data"], span: item.span))
    }

    static func isNull(_ n: YNode) -> Bool {
        if case .scalar(.null) = n.kind { return true }
        return false
    }

    static func isFlowName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    static func isNodeName(_ s: String) -> Bool {
        guard let f = s.utf8.first, f >= 97, f <= 122 else { return false }
        return isFlowName(s)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, !(f >= 48 && f <= 57) else { return false }
        return s.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95
        }
    }
}
