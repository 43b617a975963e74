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
        let ends: [(Int, Int)?] = flow.edges.map { e in
            guard let a = index[e.from.node], let b = index[e.to.node] else { return nil }
            return (a, b)
        }
        let back = Self.backEdges(nodeCount: flow.nodes.count, ends: ends)
        var column = [Int](repeating: 0, count: flow.nodes.count)
        // Longest path over the edges that remain once the back edges are set aside (acyclic).
        for _ in 0..<flow.nodes.count {
            var changed = false
            for (i, end) in ends.enumerated() where !back.contains(i) {
                guard let (a, b) = end, a != b, column[b] < column[a] + 1 else { continue }
                column[b] = column[a] + 1
                changed = true
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
                from: a, to: b, label: "\(e.from.port) → \(e.to.port)", isError: e.isErrorEdge,
                isLoop: loops.contains(i))
        }
    }

    /// The edges a depth-first walk (from the nodes in declaration order, with an explicit stack) finds
    /// going back to a node on its path: without them the graph has no cycle.
    static func backEdges(nodeCount: Int, ends: [(Int, Int)?]) -> Set<Int> {
        var outgoing = [[(edge: Int, to: Int)]](repeating: [], count: nodeCount)
        for (i, end) in ends.enumerated() {
            if let (a, b) = end { outgoing[a].append((i, b)) }
        }
        var state = [UInt8](repeating: 0, count: nodeCount)  // 0 unseen, 1 on the path, 2 done
        var back: Set<Int> = []
        for root in 0..<nodeCount where state[root] == 0 {
            var stack: [(node: Int, next: Int)] = [(root, 0)]
            state[root] = 1
            while let top = stack.last {
                if top.next == outgoing[top.node].count {
                    state[top.node] = 2
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let (edge, to) = outgoing[top.node][top.next]
                if state[to] == 1 {
                    back.insert(edge)
                } else if state[to] == 0 {
                    state[to] = 1
                    stack.append((to, 0))
                }
            }
        }
        return back
    }
}
