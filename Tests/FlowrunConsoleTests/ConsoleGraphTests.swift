import Flowrun
import FlowrunService
import Foundation
import Testing

@testable import FlowrunConsole

/// The flow graph of the run page: `GraphLayout` over the real user-sync flow, and its SVG.
@Suite struct ConsoleGraphTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func userSync() throws -> CheckedFlow {
        let report = try FlowFiles.check(repo.appendingPathComponent("flows/user-sync.yaml").path)
        return try #require(report.flow)
    }

    /// Regression: the first layout set aside `loopEdges` (every edge on a cycle), so the nodes of the
    /// paging loop all fell into column 0 on top of each other. Only the walk's back edges go leftwards now.
    @Test func edgesRunLeftToRightExceptTheEdgesThatCloseALoop() throws {
        let flow = try Self.userSync()
        let layout = GraphLayout(flow)
        #expect(layout.nodes.count == flow.nodes.count)
        #expect(layout.edges.count == flow.edges.count)
        let backwards = layout.edges.filter { layout.nodes[$0.to].column <= layout.nodes[$0.from].column }
        // Every edge drawn leftwards closes a cycle: its target reaches its source.
        func reaches(_ from: Int, _ to: Int) -> Bool {
            var seen: Set<Int> = [from]
            var stack = [from]
            while let n = stack.popLast() {
                if n == to { return true }
                for e in layout.edges where e.from == n && seen.insert(e.to).inserted { stack.append(e.to) }
            }
            return false
        }
        #expect(backwards.allSatisfy { reaches($0.to, $0.from) })
        #expect(backwards.count < layout.edges.count / 4)
        #expect(layout.columns >= 8)
        let pages = try #require(layout.nodes.first { $0.name == "pages" })
        let fetch = try #require(layout.nodes.first { $0.name == "fetch-page" })
        let items = try #require(layout.nodes.first { $0.name == "process-items" })
        #expect(fetch.column > pages.column && items.column > pages.column)
        #expect(layout.edges.contains { $0.isError })
        #expect(layout.edges.contains { $0.isLoop })
    }

    @Test func theSVGDashesErrorEdgesAndCountsMessagesPerNode() throws {
        let layout = GraphLayout(try Self.userSync())
        let svg = Charts.graph(layout, counts: ["fetch-page": 3]).text
        #expect(svg.contains("data-node=\"fetch-page\" data-messages=\"3\""))
        #expect(svg.contains("class=\"edge error\"") && svg.contains("stroke-dasharray"))
        #expect(svg.contains("class=\"edge loop\"") || svg.contains("class=\"edge error loop\""))
    }
}
