import Flowrun

/// Inline SVG drawings: the record breakdown of a run and the graph of its flow. Every text is escaped.
enum Charts {
    /// Horizontal bars, one per (label, count), scaled to the largest; `role="img"` with a text summary.
    static func bars(_ items: [(String, Int)], title: String) -> HTML {
        let maxValue = max(1, items.map(\.1).max() ?? 1)
        let rowHeight = 24
        let labelWidth = 130
        let barWidth = 360
        let height = items.count * rowHeight + 8
        let summary = items.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        var out: HTML =
            "<svg role=\"img\" aria-label=\"\(title): \(summary)\" viewBox=\"0 0 \(labelWidth + barWidth + 90) \(height)\" width=\"100%\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\"><title>\(title)</title>"
        for (i, (label, value)) in items.enumerated() {
            let y = i * rowHeight + 4
            let w = value == 0 ? 0 : max(2, value * barWidth / maxValue)
            out += """
                <text x="0" y="\(y + 15)">\(label)</text>\
                <rect x="\(labelWidth)" y="\(y + 3)" width="\(w)" height="16" fill="\(color(label))"></rect>\
                <text x="\(labelWidth + w + 6)" y="\(y + 15)">\(RunProgress.grouped(value))</text>
                """
        }
        return out + "</svg>"
    }

    static func color(_ label: String) -> String {
        switch label {
        case "failed": "#cf222e"
        case "skipped", "dead_lettered": "#9a6700"
        case "unchanged": "#8c959f"
        case "created": "#1a7f37"
        case "updated": "#0969da"
        default: "#0b5cad"
        }
    }

    /// The flow graph from `GraphLayout` (the layout and edge classes `flowrun graph` uses): error edges
    /// dashed red, loop edges bold, each node labelled with the messages it got in this run.
    static func graph(_ layout: GraphLayout, counts: [String: Int]) -> HTML {
        let boxW = 150
        let boxH = 46
        let gapX = 70
        let gapY = 26
        let width = max(1, layout.columns) * (boxW + gapX)
        let height = max(1, layout.rows) * (boxH + gapY) + 10
        func x(_ n: GraphLayout.Node) -> Int { n.column * (boxW + gapX) + 10 }
        func y(_ n: GraphLayout.Node) -> Int { n.row * (boxH + gapY) + 10 }
        var out: HTML =
            "<svg role=\"img\" aria-label=\"flow graph\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" xmlns=\"http://www.w3.org/2000/svg\"><title>Flow graph with messages per node</title>"
        out +=
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#57606a\"></path></marker></defs>"
        for e in layout.edges {
            let a = layout.nodes[e.from]
            let b = layout.nodes[e.to]
            let (x1, y1) = (x(a) + boxW, y(a) + boxH / 2)
            let (x2, y2) = (x(b), y(b) + boxH / 2)
            let path: String
            if b.column > a.column {
                let mid = (x1 + x2) / 2
                path = "M\(x1),\(y1) C\(mid),\(y1) \(mid),\(y2) \(x2),\(y2)"
            } else {  // a loop or an edge within a column: around the top
                let top = min(y(a), y(b)) - 8
                path =
                    "M\(x(a) + boxW / 2),\(y(a)) C\(x(a) + boxW / 2),\(top - 20) \(x(b) + boxW / 2),\(top - 20) \(x(b) + boxW / 2),\(y(b))"
            }
            let stroke = e.isError ? "#cf222e" : e.isLoop ? "#0b5cad" : "#57606a"
            let dash: HTML = e.isError ? " stroke-dasharray=\"6 4\"" : ""
            let classes = (e.isError ? "edge error" : "edge") + (e.isLoop ? " loop" : "")
            out +=
                "<path class=\"\(classes)\" d=\"\(path)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(e.isLoop ? 3 : 1.5)\"\(dash) marker-end=\"url(#arrow)\"><title>\(a.name) \(e.label) \(b.name)</title></path>"
        }
        for n in layout.nodes {
            let count = counts[n.name] ?? 0
            out += """
                <g class="node" data-node="\(n.name)" data-messages="\(count)"><rect x="\(x(n))" y="\(y(n))" width="\(boxW)" height="\(boxH)" rx="\(n.isTrigger ? 20 : 6)" fill="#f6f8fa" stroke="#0d2538"></rect>\
                <text x="\(x(n) + 8)" y="\(y(n) + 18)" font-weight="600">\(String(n.name.prefix(20)))</text>\
                <text x="\(x(n) + 8)" y="\(y(n) + 36)" fill="#57606a">\(String(n.component.prefix(14))) · \(RunProgress.grouped(count))</text></g>
                """
        }
        return out + "</svg>"
    }
}
