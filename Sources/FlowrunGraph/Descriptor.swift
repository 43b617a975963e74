import FlowrunExpression
import FlowrunValue

/// The one declaration of a component: its settings and typed ports. Validation, the type checker,
/// `flowrun components` and the generated reference pages all read it.
public struct ComponentDescriptor: Sendable {
    public let name: String
    public let aliases: [String]
    public let summary: String
    public let doc: String
    /// Does the component talk to the outside world? An I/O node with no `error` edge is a warning.
    public let isIO: Bool
    /// Does the component start runs on its own (ticker, http-server)?
    public let isTrigger: Bool
    /// Can the component choose not to forward a message (router)? A cycle through one has an exit.
    public let isConditional: Bool
    public let settings: [SettingDescriptor]
    public let ports: [PortDescriptor]
    /// Input ports that never cause a message on an output (besides `error`), such as a state
    /// node's `checkpoint`. Edges into them do not close a loop.
    public let terminalInputs: [String]
    /// A short YAML example of a node using the component.
    public let example: String
    /// What the component does in a dry run (`flowrun run --dry-run`), for its reference page.
    public let dryRun: String
    /// Does the component count the records it writes (`attempted`)? Then a run's status and circuit
    /// breaker count records by their outcome, not by what a source handed over.
    public let countsRecords: Bool
    /// Does the component fire in a run's last phase (`run-end`), not start runs? It is a source of
    /// messages for reachability, but a flow with only such triggers is entered like one without.
    public let firesAtRunEnd: Bool
    /// The kind of named connection (`connections:`) the component's nodes may use, and which of its
    /// settings such a connection holds.
    public let connection: ConnectionKind?
    /// A setting naming an input (`node.port`) that the component feeds from outside the graph's edges
    /// (dead-letter replays): the named node is an entry point, reachable without a trigger.
    public let entrySetting: String?
    /// Output ports that depend on the settings (router rules), in addition to `ports`.
    let dynamicOutputs: @Sendable (Settings) -> [PortDescriptor]
    /// Shapes of the messages on each output port, given what arrives on the inputs.
    let transfer: @Sendable (Transfer) -> [String: Shape]
    /// Checks across settings that a schema cannot express: `(setting, problem)` pairs, reported as E210.
    let validate: @Sendable (Settings) -> [(setting: String, message: String)]

    public init(
        name: String, aliases: [String] = [], summary: String, doc: String, isIO: Bool = false,
        isTrigger: Bool = false, isConditional: Bool = false, settings: [SettingDescriptor], ports: [PortDescriptor],
        terminalInputs: [String] = [], example: String, dryRun: String = "", countsRecords: Bool = false,
        firesAtRunEnd: Bool = false, connection: ConnectionKind? = nil, entrySetting: String? = nil,
        dynamicOutputs: @escaping @Sendable (Settings) -> [PortDescriptor] = { _ in [] },
        validate: @escaping @Sendable (Settings) -> [(setting: String, message: String)] = { _ in [] },
        transfer: @escaping @Sendable (Transfer) -> [String: Shape]
    ) {
        self.validate = validate
        self.name = name
        self.aliases = aliases
        self.summary = summary
        self.doc = doc
        self.isIO = isIO
        self.isTrigger = isTrigger
        self.isConditional = isConditional
        self.settings = settings
        self.ports = ports
        self.terminalInputs = terminalInputs
        self.example = example
        self.dryRun = dryRun
        self.countsRecords = countsRecords
        self.firesAtRunEnd = firesAtRunEnd
        self.connection = connection
        self.entrySetting = entrySetting
        self.dynamicOutputs = dynamicOutputs
        self.transfer = transfer
    }

    public func setting(_ name: String) -> SettingDescriptor? { settings.first { $0.name == name } }

    /// Every port of a node with these settings, including the `error` output every node has.
    public func ports(for settings: Settings) -> [PortDescriptor] {
        var all = ports
        for p in dynamicOutputs(settings) where !all.contains(where: { $0.name == p.name }) { all.append(p) }
        all.append(.errorPort)
        return all
    }

    public func outputShapes(_ transfer: Transfer) -> [String: Shape] { self.transfer(transfer) }

    public func problems(_ settings: Settings) -> [(setting: String, message: String)] { validate(settings) }

    /// The literal values of a node's settings (nil for a setting written as a template), with defaults applied.
    public struct Settings: Sendable {
        public let values: [String: Value]
        /// Settings written as templates: set, but their values are known only at run time.
        public let templated: Set<String>
        public init(_ values: [String: Value], templated: Set<String> = []) {
            self.values = values
            self.templated = templated
        }
        public subscript(name: String) -> Value? { values[name] }
        /// Whether the setting is set at all (literally or by a template).
        public func has(_ name: String) -> Bool { values[name] != nil || templated.contains(name) }
    }

    /// What the checker knows when it asks a component for its output shapes.
    public struct Transfer: Sendable {
        /// Joined shape of everything that arrives on each input port (`never` when nothing does).
        public let inputs: [String: Shape]
        public let settings: Settings
        /// Shapes of the settings, including those written as templates.
        public let settingShapes: [String: Shape]

        public init(inputs: [String: Shape], settings: Settings, settingShapes: [String: Shape]) {
            self.inputs = inputs
            self.settings = settings
            self.settingShapes = settingShapes
        }

        public func input(_ port: String) -> Shape { inputs[port] ?? .never }

        /// The shape of the `context` field of what arrives on `port`: carried unchanged to the outputs.
        public func context(of port: String) -> Shape {
            let s = input(port)
            if s.isNever { return .never }
            return s.field("context") ?? .null
        }

        /// Join of the `context` of every input port.
        public var anyContext: Shape {
            inputs.keys.reduce(Shape.never) { Shape.join($0, context(of: $1)) }
        }
    }
}

/// A setting: its type (as a shape), default, documentation and example.
public struct SettingDescriptor: Sendable {
    public enum Evaluation: Sendable {
        /// Templates read only globals (`vars secrets env run flow`), once per run.
        case perRun
        /// Templates read the incoming message `$` too, once per message (router `when`).
        case perMessage(port: String)
        /// No templates allowed.
        case literal
    }

    public let name: String
    public let shape: Shape
    public let required: Bool
    public let defaultValue: Value?
    public let doc: String
    public let example: String?
    public let evaluation: Evaluation

    public init(
        _ name: String, _ shape: Shape, required: Bool = false, default defaultValue: Value? = nil, doc: String,
        example: String? = nil, evaluation: Evaluation = .perRun
    ) {
        self.name = name
        self.shape = shape
        self.required = required
        self.defaultValue = defaultValue
        self.doc = doc
        self.example = example
        self.evaluation = evaluation
    }
}

/// A port: its direction and the schema of its messages.
public struct PortDescriptor: Sendable {
    public enum Direction: String, Sendable {
        case input, output
    }

    public let name: String
    public let direction: Direction
    public let schema: Shape
    public let doc: String

    public init(_ name: String, _ direction: Direction, _ schema: Shape, doc: String) {
        self.name = name
        self.direction = direction
        self.schema = schema
        self.doc = doc
    }

    public static func input(_ name: String, _ schema: Shape, doc: String) -> PortDescriptor {
        PortDescriptor(name, .input, schema, doc: doc)
    }

    public static func output(_ name: String, _ schema: Shape, doc: String) -> PortDescriptor {
        PortDescriptor(name, .output, schema, doc: doc)
    }

    /// The shape of an error message, with the failed input and its context.
    public static func errorShape(input: Shape, context: Shape) -> Shape {
        .object([
            Field(
                "error",
                .object([
                    Field("message", .string), Field("code", .string), Field("retryable", .bool),
                    Field("node", .string), Field("port", .string),
                    Field("location", .optional(.string), required: false),
                ]), doc: "what went wrong"),
            Field("input", input, doc: "the message that failed"),
            Field("context", context, doc: "the failed message's context"),
        ])
    }

    /// Every node has this output.
    public static let errorPort = PortDescriptor.output(
        "error", errorShape(input: .any, context: .any),
        doc: "Failures of this node: `{error: {message, code, retryable, node, port, location?}, input, context}`.")
}

/// The registry of components a flow can use, by name and alias.
public struct ComponentRegistry: Sendable {
    public let components: [ComponentDescriptor]
    private let byName: [String: ComponentDescriptor]

    public init(_ components: [ComponentDescriptor]) {
        self.components = components
        var map: [String: ComponentDescriptor] = [:]
        for c in components {
            map[c.name] = c
            for a in c.aliases { map[a] = c }
        }
        byName = map
    }

    public subscript(name: String) -> ComponentDescriptor? { byName[name] }

    /// The kinds of named connection, each with the component whose settings it holds (the first to declare it).
    public var connectionKinds: [(kind: ConnectionKind, component: ComponentDescriptor)] {
        var out: [(kind: ConnectionKind, component: ComponentDescriptor)] = []
        for c in components {
            if let k = c.connection, !out.contains(where: { $0.kind.name == k.name }) { out.append((k, c)) }
        }
        return out
    }
    public var names: [String] { Array(byName.keys).sorted() }
}

/// Helpers for declaring schemas tersely in component files.
extension Shape {
    /// An object that may hold any fields besides these (`open`).
    public static func openObject(_ fields: [Field]) -> Shape { .object(ObjectShape(fields, open: true)) }
}

extension Field {
    /// The optional `context` field every input port accepts.
    public static let contextField = Field("context", .any, required: false, doc: "carried unchanged to every output")
}
