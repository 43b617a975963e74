import FlowrunExpression
import FlowrunValue

/// A kind of named connection (`kind: database`, `kind: http`), declared by the component whose nodes use
/// it: the names of the component's settings that a connection holds. Validation, the docs and the
/// settings a node gets all derive from the component's own setting declarations.
public struct ConnectionKind: Sendable {
    public let name: String
    /// Settings of the component that a connection may hold; a node using the connection gets them.
    public let settings: [String]
    /// A connection must set at least one of these (the database's `url` or `host`, the API's `baseUrl`).
    public let requiresOneOf: [String]
    /// What is shared by the nodes that use one connection (a pool, a rate limit).
    public let shared: String
    /// Settings that configure what is shared: a node using the connection may not set them itself.
    public let sharedSettings: [String]

    public init(
        _ name: String, settings: [String], requiresOneOf: [String], shared: String, sharedSettings: [String] = []
    ) {
        self.name = name
        self.settings = settings
        self.requiresOneOf = requiresOneOf
        self.shared = shared
        self.sharedSettings = sharedSettings
    }
}

extension Checking {
    /// Checks every entry of `connections:` against its kind's settings, whether or not a node uses it.
    mutating func checkConnections() {
        let kinds = registry.connectionKinds
        for decl in document.connections where !decl.kind.isEmpty {
            guard let (kind, component) = kinds.first(where: { $0.kind.name == decl.kind }) else {
                let names = kinds.map(\.kind.name)
                error(
                    .invalidValue, "unknown connection kind '\(decl.kind)'", decl.kindSpan,
                    help: didYouMean(decl.kind, names) ?? "kinds are \(names.joined(separator: ", "))")
                continue
            }
            var compiling = TemplateCompiling()
            for (k, v) in decl.settings {
                let key = k.string ?? ""
                guard kind.settings.contains(key), let setting = component.setting(key) else {
                    error(
                        .unknownSetting, "a \(kind.name) connection has no setting '\(key)'", k.span,
                        help: didYouMean(key, kind.settings)
                            ?? "its settings are \(kind.settings.joined(separator: ", "))")
                    continue
                }
                _ = compiling.validate(
                    v, against: setting.shape, what: "setting '\(key)'", context: context(hasInput: false))
            }
            diagnostics += compiling.diagnostics
            let written = Set(decl.settings.compactMap { $0.key.string })
            if !kind.requiresOneOf.contains(where: written.contains) {
                let names = kind.requiresOneOf.map { "`\($0)`" }.joined(separator: " or ")
                error(
                    .missingSetting, "connection '\(decl.name)' (\(kind.name)) needs \(names)", decl.nameSpan,
                    help: component.setting(kind.requiresOneOf[0])?.example.map {
                        "for example `\(kind.requiresOneOf[0]): \($0)`"
                    })
            }
        }
    }

    /// The node with the settings of its connection added (settings written on the node win), after
    /// checking that the connection exists and is of the kind the node's component uses.
    mutating func withConnection(_ decl: NodeDecl, _ descriptor: ComponentDescriptor) -> NodeDecl {
        guard let name = decl.connection else { return decl }
        let span = decl.connectionSpan ?? decl.nameSpan
        guard let connection = document.connection(name) else {
            let names = document.connections.map(\.name)
            error(
                .unknownConnection, "no connection named '\(name)'", span,
                help: didYouMean(name, names)
                    ?? (names.isEmpty
                        ? "declare it under `connections:`" : "connections are \(names.joined(separator: ", "))"))
            return decl
        }
        guard let kind = descriptor.connection else {
            error(.connectionKind, "\(descriptor.name) nodes do not use connections", span)
            return decl
        }
        guard kind.name == connection.kind else {
            if !connection.kind.isEmpty {
                error(
                    .connectionKind,
                    "node '\(decl.name)' (\(descriptor.name)) needs a \(kind.name) connection, but '\(name)' is \(connection.kind)",
                    span, help: "declare a \(kind.name) connection (`kind: \(kind.name)`) for it")
            }
            return decl
        }
        for (k, _) in decl.settings where kind.sharedSettings.contains(k.string ?? "") {
            error(
                .invalidValue,
                "node '\(decl.name)' uses connection '\(name)', whose nodes share `\(k.string ?? "")`: set it on the connection",
                k.span)
        }
        var merged = decl
        let own = Set(decl.settings.compactMap { $0.key.string })
        merged.settings =
            connection.settings.filter {
                kind.settings.contains($0.key.string ?? "") && !own.contains($0.key.string ?? "")
            }
            + decl.settings
        return merged
    }
}
