import FlowrunExpression
import FlowrunValue

/// A flow that passed `check`: every node bound to its component, settings and edge `data:`
/// compiled, and the shape of every port known.
public struct CheckedFlow: Sendable {
    public let document: FlowDocument
    public let nodes: [CheckedNode]
    public let edges: [CheckedEdge]
    /// The `run:` policy with defaults applied (declared in `RunPolicy`).
    public let policy: RunPolicy.Values

    public var name: String { document.name }
    public func node(_ name: String) -> CheckedNode? { nodes.first { $0.name == name } }
}

public struct CheckedNode: Sendable {
    public let name: String
    public let descriptor: ComponentDescriptor
    public let settings: [String: ValueTemplate]
    public let ports: [PortDescriptor]
    public let concurrency: Int
    /// The named connection the node uses (`connection: crm`): nodes sharing one share its pool and rate limit.
    public let connection: String?
    /// Shapes of messages arriving on each input port and leaving each output port.
    public let inputShapes: [String: Shape]
    public let outputShapes: [String: Shape]
    public let span: Span
}

public struct CheckedEdge: Sendable {
    public let from: Endpoint
    public let to: Endpoint
    public let data: ValueTemplate?
    public let span: Span
    public var isErrorEdge: Bool { from.port == "error" }
}

/// The static checker: loads a flow file, binds components, validates settings and edges, propagates
/// message shapes through the graph to a fixpoint (loops included) and checks every expression
/// against them. Reports every problem in one pass.
public enum FlowChecker {
    public struct Report: Sendable {
        public let flow: CheckedFlow?
        /// Sorted by position.
        public let diagnostics: [Diagnostic]
        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    public static func check(path: String, text: String, registry: ComponentRegistry) -> Report {
        check(SourceFile(path: path, text: text), registry: registry)
    }

    /// Checks a file's bytes, reporting invalid UTF-8 as a diagnostic.
    public static func check(path: String, bytes: [UInt8], registry: ComponentRegistry) -> Report {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            var offset = 0
            var line = 1
            var column = 1
            // Find the first invalid byte for the message.
            var i = 0
            while i < bytes.count {
                let n = bytes[i] < 0x80 ? 1 : bytes[i] >= 0xF0 ? 4 : bytes[i] >= 0xE0 ? 3 : 2
                if i + n > bytes.count || String(validating: bytes[i..<i + n], as: UTF8.self) == nil {
                    offset = i
                    break
                }
                if bytes[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
                i += n
            }
            // Bytes before the first invalid one decode exactly, so the span is right.
            let source = SourceFile(path: path, text: String(decoding: bytes, as: UTF8.self))
            let d = Diagnostic.error(
                .invalidUTF8, "invalid UTF-8 at byte \(offset) (line \(line), column \(column))",
                at: Span(source: source, start: offset, end: offset + 1))
            return Report(flow: nil, diagnostics: [d])
        }
        return check(SourceFile(path: path, text: text), registry: registry)
    }

    public static func check(_ source: SourceFile, registry: ComponentRegistry) -> Report {
        let root: YNode
        var loadDiagnostics: [Diagnostic] = []
        switch YAMLLoader.load(source) {
        case .success(let node): root = node
        case .failure(let failure):
            guard let partial = failure.partial else { return Report(flow: nil, diagnostics: failure.items) }
            root = partial
            loadDiagnostics = failure.items
        }
        let (document, decodeDiagnostics) = FlowDecoder.decode(root, source: source)
        var checking = Checking(document: document, registry: registry)
        checking.diagnostics = loadDiagnostics + decodeDiagnostics
        let flow = checking.run()
        // An aliased YAML node (`*anchor`) is checked once per use; report each problem once.
        var seen = Set<String>()
        let unique = checking.diagnostics.filter {
            seen.insert("\($0.code.rawValue)|\($0.span?.start ?? -1)|\($0.message)").inserted
        }
        let sorted = unique.enumerated().sorted {
            let a = $0.element.span?.start ?? 0, b = $1.element.span?.start ?? 0
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
        let hasErrors = sorted.contains { $0.severity == .error }
        return Report(flow: hasErrors ? nil : flow, diagnostics: sorted)
    }
}

struct Checking {
    let document: FlowDocument
    let registry: ComponentRegistry
    var diagnostics: [Diagnostic] = []

    struct Bound {
        let decl: NodeDecl
        let descriptor: ComponentDescriptor
        let settings: ComponentDescriptor.Settings
        var settingTemplates: [String: ValueTemplate] = [:]
        var settingShapes: [String: Shape] = [:]
        let ports: [PortDescriptor]
        func port(_ name: String) -> PortDescriptor? { ports.first { $0.name == name } }
    }

    struct Edge {
        let decl: EdgeDecl
        let from: Endpoint
        let to: Endpoint
    }

    var bound: [String: Bound] = [:]
    var order: [String] = []
    var edges: [Edge] = []
    /// Edges with a `data:` that could not be bound (an unknown node, component or port): their
    /// templates are still checked, against `any`, so one mistake does not hide the others.
    var looseEdges: [EdgeDecl] = []
    /// Nodes whose component is unknown: their settings' templates are still checked.
    var unbound: [NodeDecl] = []
    var varsShape: Shape = .anyObject
    var secretsShape: Shape = .anyObject

    init(document: FlowDocument, registry: ComponentRegistry) {
        self.document = document
        self.registry = registry
    }

    mutating func error(_ code: DiagnosticCode, _ message: String, _ span: Span?, help: String? = nil) {
        diagnostics.append(.error(code, message, at: span, help: help))
    }

    func context(input: Shape = .any, hasInput: Bool = true) -> CheckContext {
        CheckContext(input: input, vars: varsShape, secrets: secretsShape, hasInput: hasInput)
    }

    mutating func run() -> CheckedFlow? {
        varsShape = Shape(of: .object(document.vars))
        secretsShape = .object(document.secrets.map { Field($0.name, .string) })
        let policy = checkRunPolicy()
        checkConnections()
        bindNodes()
        bindEdges()
        let (inputs, outputs, converged) = propagate()
        let compiledEdges = finalPass(inputs: inputs, outputs: outputs, converged: converged)
        warnings()
        checkHeaderNames()
        let nodes = order.compactMap { name -> CheckedNode? in
            guard let b = bound[name] else { return nil }
            return CheckedNode(
                name: name, descriptor: b.descriptor, settings: b.settingTemplates, ports: b.ports,
                concurrency: b.decl.concurrency, connection: b.decl.connection,
                inputShapes: (inputs[name] ?? [:]).filter { $0.key != Self.unmappedInputs },
                outputShapes: outputs[name] ?? [:],
                span: b.decl.nameSpan)
        }
        return CheckedFlow(document: document, nodes: nodes, edges: compiledEdges, policy: policy)
    }

    /// Checks `run:` against the declaration in `RunPolicy` (shapes, then ranges) and reads its values;
    /// `run.concurrencyKey` is compiled as a template on the trigger message.
    mutating func checkRunPolicy() -> RunPolicy.Values {
        var policy = RunPolicy.Values(document.run)
        guard let run = document.run else { return policy }
        var compiling = TemplateCompiling()
        if let entries = run.entries {
            for (k, v) in entries {
                let key = k.string ?? ""
                guard let setting = RunPolicy.settings.first(where: { $0.name == key }) else {
                    let names = RunPolicy.settings.map(\.name)
                    error(
                        .settingType, "run has no field '\(key)'", k.span,
                        help: didYouMean(key, names) ?? "fields are \(names.joined(separator: ", "))")
                    continue
                }
                if case .template = setting.kind {
                    policy.concurrencyKey = compiling.validate(
                        v, against: setting.shape, what: "run.\(key)", context: context(input: .any))
                } else {
                    _ = compiling.validate(
                        v, against: setting.shape, what: "run.\(key)", context: context(hasInput: false))
                }
            }
        } else {
            _ = compiling.validate(run, against: RunPolicy.schema, what: "run", context: context(hasInput: false))
        }
        diagnostics += compiling.diagnostics + RunPolicy.rangeDiagnostics(run)
        return policy
    }

    // MARK: Nodes and settings

    mutating func bindNodes() {
        for written in document.nodes {
            guard !written.component.isEmpty else { continue }
            guard let descriptor = registry[written.component] else {
                error(
                    .unknownComponent, "unknown component '\(written.component)'", written.componentSpan,
                    help: didYouMean(written.component, registry.names) ?? "`flowrun components` lists the components")
                unbound.append(written)
                continue
            }
            let decl = withConnection(written, descriptor)
            var literal: [String: Value] = [:]
            for s in descriptor.settings { if let d = s.defaultValue { literal[s.name] = d } }
            for (k, v) in decl.settings {
                let key = k.string ?? ""
                guard descriptor.setting(key) != nil else {
                    error(
                        .unknownSetting, "\(descriptor.name) has no setting '\(key)'", k.span,
                        help: didYouMean(key, descriptor.settings.map(\.name))
                            ?? "its settings are \(descriptor.settings.map(\.name).joined(separator: ", "))")
                    continue
                }
                if let c = v.constant { literal[key] = c } else { literal[key] = nil }
            }
            for s in descriptor.settings where s.required && !decl.settings.contains(where: { $0.key.string == s.name })
            {
                error(
                    .missingSetting, "node '\(decl.name)' (\(descriptor.name)) needs the setting '\(s.name)'",
                    decl.nameSpan,
                    help: s.example.map { "for example `\(s.name): \($0)`" })
            }
            let templated = Set(decl.settings.compactMap { $0.value.constant == nil ? $0.key.string : nil })
            let settings = ComponentDescriptor.Settings(literal, templated: templated)
            for (setting, message) in descriptor.problems(settings) {
                let span = decl.settings.first { $0.key.string == setting }?.value.span ?? decl.nameSpan
                error(.invalidValue, "node '\(decl.name)': \(message)", span)
            }
            var b = Bound(
                decl: decl, descriptor: descriptor, settings: settings, ports: descriptor.ports(for: settings))
            var compiling = TemplateCompiling()
            for (k, v) in decl.settings {
                guard let key = k.string, let s = descriptor.setting(key) else { continue }
                switch s.evaluation {
                case .perMessage: continue  // checked in the final pass, once the input shape is known
                case .literal:
                    if v.hasTemplates {
                        error(.invalidValue, "the setting '\(key)' of \(descriptor.name) cannot hold templates", v.span)
                        continue
                    }
                case .perRun: break
                }
                let t = compiling.validate(
                    v, against: s.shape, what: "setting '\(key)'", context: context(hasInput: false))
                if let t { b.settingTemplates[key] = t }
                b.settingShapes[key] = compiling.compile(v, context(hasInput: false)).1
            }
            compiling.reporting = true
            diagnostics += compiling.diagnostics
            for s in descriptor.settings where b.settingTemplates[s.name] == nil {
                if let d = s.defaultValue { b.settingTemplates[s.name] = .constant(d) }
            }
            bound[decl.name] = b
            order.append(decl.name)
        }
    }

    // MARK: Edges

    mutating func bindEdges() {
        let nodeNames = document.nodes.map(\.name)
        for decl in document.edges {
            guard let from = decl.from, let to = decl.to else { continue }
            var ok = true
            for (end, direction) in [(from, PortDescriptor.Direction.output), (to, .input)] {
                guard document.node(end.node) != nil else {
                    error(
                        .unknownNode, "no node named '\(end.node)'", end.span,
                        help: didYouMean(end.node, nodeNames) ?? "nodes are \(nodeNames.joined(separator: ", "))")
                    ok = false
                    continue
                }
                guard let b = bound[end.node] else { ok = false; continue }  // its component was already reported
                guard let port = b.port(end.port) else {
                    let names = b.ports.filter { $0.direction == direction }.map(\.name)
                    error(
                        .unknownPort, "\(b.descriptor.name) node '\(end.node)' has no port '\(end.port)'", end.span,
                        help: didYouMean(end.port, names)
                            ?? "its \(direction.rawValue) ports are \(names.joined(separator: ", "))")
                    ok = false
                    continue
                }
                if port.direction != direction {
                    let verb =
                        direction == .output ? "an edge starts at an output port" : "an edge ends at an input port"
                    error(
                        .portDirection, "'\(end)' is an \(port.direction.rawValue) port, but \(verb)", end.span,
                        help: direction == .input ? "swap from and to?" : nil)
                    ok = false
                }
            }
            if ok {
                edges.append(Edge(decl: decl, from: from, to: to))
            } else if decl.data != nil {
                looseEdges.append(decl)
            }
        }
    }

    // MARK: Shape propagation

    typealias PortShapes = [String: [String: Shape]]

    /// A pseudo input port, `any` when an edge into the node has a `data:` mapping: the `input` of the
    /// node's error is then the mapped or the unmapped message.
    static let unmappedInputs = "\u{0}unmapped"

    /// Joins what flows along every edge into input ports, asks each component for its output shapes,
    /// and repeats until nothing changes. Loops converge because shapes only grow and deep or wide
    /// shapes widen to `any`.
    func propagate() -> (PortShapes, PortShapes, Bool) {
        var outputs: PortShapes = [:]
        var inputs: PortShapes = [:]
        var compiling = TemplateCompiling()
        compiling.reporting = false
        for name in order { outputs[name] = transfer(name, inputs: [:]) }
        for _ in 0..<40 {
            var nextInputs: PortShapes = [:]
            for edge in edges {
                let source = outputs[edge.from.node]?[edge.from.port] ?? .never
                var shape = source
                if !source.isNever, let data = edge.decl.data {
                    shape = compiling.compile(data, context(input: source)).1.limited()
                    // When the mapping fails at run time, the node's error carries the unmapped message, so
                    // the error's `input` may be either: it is typed `any` (never a false error).
                    nextInputs[edge.to.node, default: [:]][Self.unmappedInputs] = .any
                }
                let current = nextInputs[edge.to.node]?[edge.to.port] ?? .never
                nextInputs[edge.to.node, default: [:]][edge.to.port] = Shape.join(current, shape)
            }
            var nextOutputs: PortShapes = [:]
            for name in order { nextOutputs[name] = transfer(name, inputs: nextInputs[name] ?? [:]) }
            if nextOutputs == outputs, nextInputs == inputs { return (inputs, outputs, true) }
            outputs = nextOutputs
            inputs = nextInputs
        }
        return (inputs, outputs, false)
    }

    func transfer(_ name: String, inputs: [String: Shape]) -> [String: Shape] {
        guard let b = bound[name] else { return [:] }
        let t = ComponentDescriptor.Transfer(inputs: inputs, settings: b.settings, settingShapes: b.settingShapes)
        var out = b.descriptor.outputShapes(t).mapValues { $0.limited() }
        let allInputs = inputs.values.reduce(Shape.never) { Shape.join($0, $1) }
        out["error"] =
            allInputs.isNever && !b.descriptor.isTrigger
            ? .never : PortDescriptor.errorShape(input: allInputs, context: t.anyContext).limited()
        return out
    }

    // MARK: Final pass

    mutating func finalPass(inputs: PortShapes, outputs: PortShapes, converged: Bool) -> [CheckedEdge] {
        var compiling = TemplateCompiling()
        var result: [CheckedEdge] = []
        for edge in edges {
            var source = converged ? (outputs[edge.from.node]?[edge.from.port] ?? .never) : .any
            // A port no message reaches still gets its expressions checked, against its declared schema.
            if source.isNever, let p = bound[edge.from.node]?.port(edge.from.port) { source = p.schema }
            var data: ValueTemplate?
            var shape = source
            if let d = edge.decl.data {
                let before = compiling.diagnostics.count
                let (t, s) = compiling.compile(d, context(input: source))
                data = t
                shape = s
                if compiling.diagnostics.count > before { continue }
            }
            if let target = bound[edge.to.node]?.port(edge.to.port) {
                checkMessage(shape, against: target.schema, edge: edge)
            }
            result.append(CheckedEdge(from: edge.from, to: edge.to, data: data, span: edge.decl.span))
        }
        // Edges and settings next to a mistake that stopped their binding: their templates against `any`.
        for decl in looseEdges {
            guard let from = decl.from, let data = decl.data else { continue }
            let source = converged ? (outputs[from.node]?[from.port] ?? .any) : .any
            _ = compiling.compile(data, context(input: source.isNever ? .any : source))
        }
        for decl in unbound {
            for (_, v) in decl.settings { _ = compiling.compile(v, context(input: .any)) }
        }
        diagnostics += compiling.diagnostics
        // Settings evaluated per message (router `when:`) see the shape arriving on their port.
        for name in order {
            guard var b = bound[name] else { continue }
            var settingCompiler = TemplateCompiling()
            for (k, v) in b.decl.settings {
                guard let key = k.string, let s = b.descriptor.setting(key), case .perMessage(let port) = s.evaluation
                else {
                    continue
                }
                let input = converged ? (inputs[name]?[port] ?? .any) : .any
                if let t = settingCompiler.validate(
                    v, against: s.shape, what: "setting '\(key)'",
                    context: context(input: input.isNever ? .any : input))
                {
                    b.settingTemplates[key] = t
                }
            }
            diagnostics += settingCompiler.diagnostics
            bound[name] = b
        }
        return result
    }

    /// Checks the message an edge delivers against the target port's schema.
    mutating func checkMessage(_ shape: Shape, against schema: Shape, edge: Edge) {
        guard case .object(let expected) = schema else { return }
        let target = "\(edge.to)"
        let dataEntries = edge.decl.data?.entries
        let where_ = edge.decl.data?.span ?? edge.to.span
        for member in shape.members {
            guard case .object(let actual) = member else {
                if let kind = member.kind, kind != "object" {
                    error(.fieldType, "\(target) takes an object, but this edge sends \(member)", where_)
                }
                continue
            }
            for f in expected.fields where f.required && actual.field(f.name) == nil && !actual.open {
                error(
                    .missingField, "the message for \(target) has no field '\(f.name)', which the port requires",
                    where_,
                    help: edge.decl.data == nil
                        ? "add `data:` to the edge to build the message, e.g. `\(f.name): ...`"
                        : didYouMean(f.name, actual.fields.map(\.name)).map { "misspelt? \($0)" })
            }
            for f in actual.fields {
                let keySpan = dataEntries?.first { $0.key.string == f.name }?.key.span ?? where_
                guard let g = expected.field(f.name) else {
                    if !expected.open {
                        error(
                            .unknownField, "\(target) does not take a field '\(f.name)'", keySpan,
                            help: didYouMean(f.name, expected.fields.map(\.name))
                                ?? "it takes \(expected.fields.map(\.name).joined(separator: ", ")); put state in `context`"
                        )
                    }
                    continue
                }
                if !f.shape.mayConform(to: g.shape) {
                    error(
                        .fieldType, "field '\(f.name)' of \(target) must be \(g.shape), but this edge sends \(f.shape)",
                        keySpan)
                } else if case .enumeration(let allowed) = g.shape,
                    let value = dataEntries?.first(where: { $0.key.string == f.name })?.value,
                    case .string(let text)? = value.constant, !allowed.contains(text)
                {
                    // A literal written in `data:` is checked against the port's enumeration at load time.
                    error(
                        .invalidValue, "'\(text)' is not a valid \(f.name) for \(target)", value.span,
                        help: didYouMean(text, allowed) ?? "it is one of \(allowed.joined(separator: ", "))")
                }
            }
        }
    }

    // MARK: Warnings

    mutating func warnings() {
        var successors: [String: [String]] = [:]
        var hasInput: Set<String> = []
        for e in edges {
            hasInput.insert(e.to.node)
            if bound[e.to.node]?.descriptor.terminalInputs.contains(e.to.port) == true { continue }
            successors[e.from.node, default: []].append(e.to.node)
        }
        // Reachability from triggers, and from nodes that nothing feeds (entry points for --input).
        var reach = successors
        for e in edges where !(reach[e.from.node] ?? []).contains(e.to.node) {
            reach[e.from.node, default: []].append(e.to.node)
        }
        var seen: Set<String> = []
        // Reachability from the triggers; a flow without triggers is entered with --input at any input-less node.
        let triggerNodes = order.filter { bound[$0]!.descriptor.isTrigger && !bound[$0]!.descriptor.firesAtRunEnd }
        let endNodes = order.filter { bound[$0]!.descriptor.firesAtRunEnd }
        // Nodes a component feeds from outside the edges (a dead-letter queue's replay `entry`).
        let entryNodes = order.compactMap { name -> String? in
            let b = bound[name]!
            guard let setting = b.descriptor.entrySetting, case .string(let target)? = b.settings[setting] else {
                return nil
            }
            return target.split(separator: ".").first.map(String.init)
        }.filter { bound[$0] != nil }
        var stack =
            (triggerNodes.isEmpty ? order.filter { !hasInput.contains($0) } : triggerNodes) + endNodes + entryNodes
        while let n = stack.popLast() {
            guard seen.insert(n).inserted else { continue }
            stack += reach[n] ?? []
        }
        for name in order where !seen.contains(name) {
            diagnostics.append(
                .warning(
                    .unreachable, "node '\(name)' is unreachable: no trigger leads to it",
                    at: bound[name]!.decl.nameSpan, help: "connect it, or run it with --entry \(name)"))
        }
        for name in order {
            let b = bound[name]!
            if b.descriptor.isIO, !edges.contains(where: { $0.from.node == name && $0.from.port == "error" }) {
                diagnostics.append(
                    .warning(
                        .unhandledError, "errors of '\(name)' (\(b.descriptor.name)) are not handled",
                        at: b.decl.nameSpan, help: "add an edge from \(name).error"))
            }
        }
        for component in stronglyConnected(successors) {
            let isCycle = component.count > 1 || (successors[component[0]] ?? []).contains(component[0])
            guard isCycle else { continue }
            let hasExit = component.contains { bound[$0]?.descriptor.isConditional ?? false }
            if !hasExit {
                let first = order.first { component.contains($0) }!
                diagnostics.append(
                    .warning(
                        .endlessCycle,
                        "the loop \(component.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }.joined(separator: " -> ")) has no router to end it",
                        at: bound[first]!.decl.nameSpan, help: "only the run's message budget stops it"))
            }
        }
    }

    func stronglyConnected(_ successors: [String: [String]]) -> [[String]] {
        GraphAlgorithms.stronglyConnected(order: order, successors: successors)
    }
}

public enum GraphAlgorithms {
    /// Tarjan's algorithm, iterative.
    public static func stronglyConnected(order: [String], successors: [String: [String]]) -> [[String]] {
        var index = 0
        var indices: [String: Int] = [:]
        var low: [String: Int] = [:]
        var onStack: Set<String> = []
        var stack: [String] = []
        var result: [[String]] = []
        for start in order where indices[start] == nil {
            var work: [(String, Int)] = [(start, 0)]
            while let (v, i) = work.popLast() {
                if i == 0 {
                    indices[v] = index
                    low[v] = index
                    index += 1
                    stack.append(v)
                    onStack.insert(v)
                }
                let next = successors[v] ?? []
                if i < next.count {
                    work.append((v, i + 1))
                    let w = next[i]
                    if indices[w] == nil {
                        work.append((w, 0))
                    } else if onStack.contains(w) {
                        low[v] = min(low[v]!, indices[w]!)
                    }
                    continue
                }
                if low[v] == indices[v] {
                    var component: [String] = []
                    while let w = stack.popLast() {
                        onStack.remove(w)
                        component.append(w)
                        if w == v { break }
                    }
                    result.append(component)
                }
                if let (parent, _) = work.last {
                    low[parent] = min(low[parent]!, low[v]!)
                }
            }
        }
        return result
    }

    /// Edges whose ends lie on a common cycle (the loops of a flow).
    public static func loopEdges(_ flow: CheckedFlow) -> Set<Int> {
        var successors: [String: [String]] = [:]
        for e in flow.edges where flow.node(e.to.node)?.descriptor.terminalInputs.contains(e.to.port) != true {
            successors[e.from.node, default: []].append(e.to.node)
        }
        var component: [String: Int] = [:]
        for (i, c) in stronglyConnected(order: flow.nodes.map(\.name), successors: successors).enumerated() {
            let cyclic = c.count > 1 || (successors[c[0]] ?? []).contains(c[0])
            if cyclic { for n in c { component[n] = i } }
        }
        var result = Set<Int>()
        for (i, e) in flow.edges.enumerated() {
            if let a = component[e.from.node], a == component[e.to.node] { result.insert(i) }
        }
        return result
    }
}
