import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Makes the component instance of a node.
public typealias ComponentFactory = @Sendable (CheckedNode) throws(NodeError) -> any Component

/// The behaviours of the components, by component name (aliases resolve through the descriptor).
public struct ComponentFactories: Sendable {
    var makers: [String: ComponentFactory]

    public init(_ makers: [String: ComponentFactory]) { self.makers = makers }

    public mutating func add(_ name: String, _ factory: @escaping ComponentFactory) { makers[name] = factory }

    public func make(_ node: CheckedNode) throws(NodeError) -> any Component {
        guard let maker = makers[node.descriptor.name] else {
            throw NodeError(
                "component '\(node.descriptor.name)' has no runtime implementation yet", code: "unimplemented")
        }
        return try maker(node)
    }
}

/// A checked flow made executable: nodes in an array, ports and edges resolved to indexes, edge
/// mappings compiled. Built once per load; each run executes it.
public final class FlowProgram {
    /// A class, so that reaching a node on the hot path costs one reference, not a copy of its parts.
    public final class Node {
        public let name: String
        public let checked: CheckedNode
        public let component: any Component
        /// The same component when it does I/O (resolved once, not per delivery).
        let asyncComponent: (any AsyncComponent)?
        let isAsync: Bool
        /// Output port names, in declaration order; `outEdges[i]` are the edges leaving `outputs[i]`.
        let outputs: [String]
        var outEdges: [[Edge]]
        let errorPort: Int

        init(name: String, checked: CheckedNode, component: any Component, outputs: [String], outEdges: [[Edge]]) {
            self.name = name
            self.checked = checked
            self.component = component
            self.asyncComponent = component as? any AsyncComponent
            self.isAsync = asyncComponent != nil
            self.outputs = outputs
            self.outEdges = outEdges
            self.errorPort = outputs.firstIndex(of: "error") ?? 0
        }
    }

    struct Edge {
        let target: Int
        let port: String
        let data: ValueTemplate?
    }

    public let name: String
    public let flow: CheckedFlow
    public private(set) var nodes: [Node] = []
    public let policy: RunPolicyValues

    public init(_ flow: CheckedFlow, factories: ComponentFactories) throws(NodeError) {
        self.name = flow.name
        self.flow = flow
        self.policy = flow.policy
        var index: [String: Int] = [:]
        for checked in flow.nodes {
            let component = try factories.make(checked)
            let outputs = checked.ports.filter { $0.direction == .output }.map(\.name)
            index[checked.name] = nodes.count
            nodes.append(
                Node(
                    name: checked.name, checked: checked, component: component, outputs: outputs,
                    outEdges: Array(repeating: [], count: outputs.count)))
        }
        for edge in flow.edges {
            guard let from = index[edge.from.node], let to = index[edge.to.node],
                let port = nodes[from].outputs.firstIndex(of: edge.from.port)
            else { continue }
            nodes[from].outEdges[port].append(Edge(target: to, port: edge.to.port, data: edge.data))
        }
    }

    public func nodeIndex(_ name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// Nodes whose component starts runs.
    public var triggers: [Int] { nodes.indices.filter { nodes[$0].component is TriggerComponent } }
}

/// The `run:` policy with defaults applied; declared (settings, defaults, ranges) in `RunPolicy`.
public typealias RunPolicyValues = RunPolicy.Values
