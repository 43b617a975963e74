import Foundation
import FlowrunGraph

/// Draws a checked flow as Mermaid or Graphviz DOT: nodes with their components, edges labelled
/// with their ports, error edges dashed, loop edges bold.
public enum GraphRenderer {
    public static func mermaid(_ flow: CheckedFlow) -> String {
        let loops = GraphAlgorithms.loopEdges(flow)
        func id(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }
        var out = "flowchart LR\n"
        for n in flow.nodes {
            let shape = n.descriptor.isTrigger ? ("([", "])") : n.descriptor.isConditional ? ("{", "}") : ("[", "]")
            out += "  \(id(n.name))\(shape.0)\"\(n.name)<br/><i>\(n.descriptor.name)</i>\"\(shape.1)\n"
        }
        for (i, e) in flow.edges.enumerated() {
            let label = "\"\(e.from.port) → \(e.to.port)\""
            let arrow = e.isErrorEdge ? "-. \(label) .->" : loops.contains(i) ? "== \(label) ==>" : "-- \(label) -->"
            out += "  \(id(e.from.node)) \(arrow) \(id(e.to.node))\n"
        }
        let errorLinks = flow.edges.indices.filter { flow.edges[$0].isErrorEdge }
        if !errorLinks.isEmpty {
            out += "  linkStyle \(errorLinks.map(String.init).joined(separator: ",")) stroke:#d33\n"
        }
        return out
    }

    public static func dot(_ flow: CheckedFlow) -> String {
        let loops = GraphAlgorithms.loopEdges(flow)
        var out = "digraph \"\(flow.name)\" {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=Helvetica];\n"
        out += "  edge [fontname=Helvetica, fontsize=10];\n"
        for n in flow.nodes {
            let shape = n.descriptor.isTrigger ? ", shape=oval" : n.descriptor.isConditional ? ", shape=diamond" : ""
            out += "  \"\(n.name)\" [label=\"\(n.name)\\n\(n.descriptor.name)\"\(shape)];\n"
        }
        for (i, e) in flow.edges.enumerated() {
            var attrs = ["label=\"\(e.from.port) → \(e.to.port)\""]
            if e.isErrorEdge { attrs += ["style=dashed", "color=red", "fontcolor=red"] }
            if loops.contains(i) { attrs += ["penwidth=2", "color=blue"] }
            out += "  \"\(e.from.node)\" -> \"\(e.to.node)\" [\(attrs.joined(separator: ", "))];\n"
        }
        return out + "}\n"
    }
}
