import Flowrun
import Testing

@Suite struct LoaderTests {
    func check(_ text: String) -> FlowChecker.Report {
        FlowChecker.check(path: "t.yaml", text: text, registry: .standard)
    }

    @Test func templatesKeepExactPositionsInEveryScalarStyle() throws {
        let report = check(
            """
            flow: p
            nodes:
              t: {component: ticker, settings: {interval: 1h, payload: {page: 1}}}
              a: {component: modify}
            edges:
              - from: t.out
                to: a.in
                data:
                  plain: <<$.pag>>
                  quoted: "x <<$.pgae>>"
                  block: |
                    <<[1].map(x => ({
                        y: $.apge
                    }))>>
            """)
        let locations = report.diagnostics.map { d in
            let (l, c) = d.span!.location
            return "\(l):\(c)"
        }
        #expect(locations == ["9:16", "10:20", "13:16"])
    }

    @Test func unquotedTemplatesMayHoldYAMLSpecialCharacters() throws {
        let report = check(
            """
            flow: y
            nodes:
              t: {component: ticker, settings: {interval: 1h, payload: {items: [{id: 1, n: 2}]}}}
              a: {component: modify}
            edges:
              - from: t.out
                to: a.in
                data:
                  rows: <<$.items.map(x => ({id: x.id, tag: '#' + x.n}))>>
                  text: <<'a: ' + 1>>, b # comment
            """)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics.map { $0.render() })")
        let edge = try #require(report.flow?.edges.first)
        let value = try edge.data?.evaluate(["items": [["id": 1, "n": 2]]], Globals())
        #expect(value == ["rows": [["id": 1, "tag": "#2"]], "text": "a: 1, b"])
    }

    @Test func mergeKeysAndAnchorsWork() throws {
        let report = check(
            """
            flow: m
            nodes:
              t: {component: ticker, settings: {interval: 1h}}
              a: {component: modify}
            edges:
              - from: t.out
                to: a.in
                data:
                  base: &b {x: 1, y: 2}
                  merged:
                    <<: *b
                    y: 3
            """)
        #expect(!report.hasErrors)
        let value = try report.flow!.edges[0].data!.evaluate([:], Globals())
        #expect(value["merged"] == ["y": 3, "x": 1])
    }

    @Test func hugeNumbersStayExactOrAreRejected() {
        let report = check(
            """
            flow: n
            nodes:
              t: {component: ticker, settings: {interval: 1h, maxEmissions: 99999999999999999999999}}
            """)
        #expect(report.diagnostics.contains { $0.code == .settingType })
    }

    @Test func allProblemsAreReportedInOnePass() {
        let report = check(
            """
            flow: many
            nodes:
              a: {component: modfy}
              b: {component: log, settings: {levl: info}}
            edges:
              - {from: x.out, to: b.in}
              - {from: b.in, to: b.in}
            """)
        let codes = report.diagnostics.map(\.code.rawValue)
        #expect(codes == ["E300", "E301", "E304", "E306"])
    }

    @Test func checkedFlowExposesNodesEdgesAndShapes() throws {
        let report = FlowChecker.check(
            path: "flows/user-sync.yaml",
            text: try String(contentsOfFile: Self.repoFile("flows/user-sync.yaml"), encoding: .utf8),
            registry: .standard)
        #expect(!report.hasErrors, "\(report.diagnostics.map { $0.render() })")
        let flow = try #require(report.flow)
        #expect(flow.name == "user-sync")
        #expect(flow.nodes.count == 20)
        // paginate's `next` is the http-client request it received, with its bookkeeping.
        let pages = try #require(flow.node("pages"))
        let next = try #require(pages.outputShapes["next"])
        #expect(next.field("url") == .string)
        #expect(next.field("pagination") != nil)
        #expect(pages.outputShapes["records"]?.field("page") == .int)
        #expect(GraphAlgorithms.loopEdges(flow).count == 2)  // pages -> fetch-page -> pages
    }

    static func repoFile(_ path: String) -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(path).path
    }
}

import Foundation
