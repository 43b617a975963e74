import FlowrunGraph

/// Positions for drawing a checked flow left to right, with the edge classes `flowrun graph` draws:
/// error edges (dashed) and loop edges (bold). A pure function of the flow: each node's column is the
/// longest path to it over edges that do not close a loop, its row its order within the column.
public struct GraphLayout: Sendable {
    public struct Node: Sendable {
        public var name: String
        public var component: String
        public var column: Int
        public var row: Int
        public var isTrigger: Bool
    }

    public struct Edge: Sendable {
        public var from: Int
        public var to: Int
        public var label: String
        public var isError: Bool
        public var isLoop: Bool
    }

    public var nodes: [Node]
    public var edges: [Edge]
    public var columns: Int { (nodes.map(\.column).max() ?? -1) + 1 }
    public var rows: Int { (nodes.map(\.row).max() ?? -1) + 1 }

    public init(_ flow: CheckedFlow) {
        let loops = GraphAlgorithms.loopEdges(flow)
        let index = Dictionary(flow.nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var column = [Int](repeating: 0, count: flow.nodes.count)
        // Longest path over the acyclic part: relax at most once per node (Bellman-Ford style, bounded).
        for _ in 0..<flow.nodes.count {
            var changed = false
            for (i, e) in flow.edges.enumerated() where !loops.contains(i) {
                guard let a = index[e.from.node], let b = index[e.to.node], a != b else { continue }
                if column[b] < column[a] + 1 {
                    column[b] = column[a] + 1
                    changed = true
                }
            }
            if !changed { break }
        }
        var rowsUsed: [Int: Int] = [:]
        nodes = flow.nodes.enumerated().map { i, n in
            let row = rowsUsed[column[i], default: 0]
            rowsUsed[column[i]] = row + 1
            return Node(
                name: n.name, component: n.descriptor.name, column: column[i], row: row,
                isTrigger: n.descriptor.isTrigger)
        }
        edges = flow.edges.enumerated().compactMap { i, e in
            guard let a = index[e.from.node], let b = index[e.to.node] else { return nil }
            return Edge(
                from: a, to: b, label: "\(e.from.port) → \(e.to.port)", isError: e.isErrorEdge, isLoop: loops.contains(i))
        }
    }
}
