import Flowrun
import FlowrunHTTP

/// The run history as a table, filtered by flow, status and trigger, one page at a time (keyset paging
/// in SQL: `StateStore.runs(matching:)`); running runs show a live progress bar.
struct RunsPage {
    let console: Console
    let context: PageContext
    let query: [String: String]
    static let pageSize = 50

    var runQuery: RunQuery {
        RunQuery(
            flow: query["flow"].flatMap { $0.isEmpty ? nil : $0 },
            status: query["status"].flatMap(RunRecord.Status.init(rawValue:)),
            trigger: query["trigger"].flatMap(RunRecord.Trigger.init(rawValue:)),
            before: query["before"].flatMap(RunQuery.Position.init(token:)), limit: Self.pageSize + 1)
    }

    /// The table's counter columns: the counters the run record stores in columns of their own.
    static var counterColumns: [Counter] { RunRecord.columnCounters }

    /// Filter values that name nothing (a clear message rather than a silently wider list).
    var invalid: [String] {
        var out: [String] = []
        if let s = query["status"], !s.isEmpty, RunRecord.Status(rawValue: s) == nil { out.append("status \(s)") }
        if let t = query["trigger"], !t.isEmpty, RunRecord.Trigger(rawValue: t) == nil { out.append("trigger \(t)") }
        if let b = query["before"], !b.isEmpty, RunQuery.Position(token: b) == nil { out.append("page position \(b)") }
        return out
    }

    func render() -> ServerResponse {
        guard invalid.isEmpty else {
            return Console.page(
                400, title: "Runs",
                body:
                    "<p class=\"error\" role=\"alert\">Unknown \(invalid.joined(separator: ", ")).</p>\(filters(RunQuery()))",
                context: context)
        }
        let q = runQuery
        let records: [RunRecord]
        do { records = try console.service.store.runs(matching: q) } catch {
            return Console.page(
                503, title: "Runs", body: "<p class=\"error\">The state store did not answer.</p>", context: context)
        }
        let now = console.clock()
        let page = records.prefix(Self.pageSize)
        var rows: HTML = ""
        for r in page {
            let counters = HTML.join(Self.counterColumns.map { "<td class=\"num\">\(RunProgress.grouped(r[$0]))</td>" })
            rows += """
                <tr><td>\(Layout.runLink(r.id))</td><td>\(r.flow)</td><td>\(r.trigger.rawValue)</td>
                <td>\(Layout.status(r.status.rawValue))</td><td>\(Layout.progress(r, now: now))</td>
                <td>\(Layout.time(r.startedAt))</td><td class="num">\(Running.duration(r.durationNanos))</td>
                \(counters)<td>\(r.dryRun ? "yes" : "")</td></tr>
                """
        }
        let headers = HTML.join(Self.counterColumns.map { "<th scope=\"col\" class=\"num\">\($0.rawValue)</th>" })
        var pager: HTML = ""
        if q.before != nil { pager += "<a class=\"button secondary\" href=\"\(link(before: nil))\">Newest</a> " }
        if records.count > Self.pageSize, let last = page.last {
            pager +=
                "<a class=\"button secondary\" rel=\"next\" href=\"\(link(before: RunQuery.Position(startedAt: last.startedAt, id: last.id)))\">Older</a>"
        }
        let body: HTML = """
            \(filters(q))
            <div class="table-wrap"><table><thead><tr><th scope="col">Run</th><th scope="col">Flow</th>
            <th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Progress</th>
            <th scope="col">Started</th><th scope="col" class="num">Duration</th>\(headers)<th scope="col">Dry run</th>
            </tr></thead><tbody>\(rows.text.isEmpty ? "<tr><td colspan=\"20\">No runs match.</td></tr>" : rows)</tbody></table></div>
            <nav class="actions" aria-label="Pages">\(pager)</nav>
            """
        return Console.html(200, Layout.page(title: "Runs", section: .runs, context: context, body: body))
    }

    func link(before: RunQuery.Position?) -> String {
        var items: [String] = []
        for name in ["flow", "status", "trigger"] {
            if let v = query[name], !v.isEmpty { items.append("\(name)=\(HTML.urlComponent(v))") }
        }
        if let before { items.append("before=\(HTML.urlComponent(before.token))") }
        return "/runs" + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
    }

    func filters(_ q: RunQuery) -> HTML {
        func select(_ name: String, _ label: String, _ options: [String], _ current: String?) -> HTML {
            let opts = HTML.join(
                ([""] + options).map { o in
                    "<option value=\"\(o)\"\(o == (current ?? "") ? HTML(" selected") : "")>\(o.isEmpty ? "any" : o)</option>"
                })
            return
                "<div><label for=\"f-\(name)\">\(label)</label><select id=\"f-\(name)\" name=\"\(name)\">\(opts)</select></div>"
        }
        let flows = console.service.flows.map(\.name)
        return """
            <form class="filters" method="get" action="/runs">
            \(select("flow", "Flow", flows, q.flow))
            \(select("status", "Status", RunRecord.Status.allCases.map(\.rawValue), q.status?.rawValue))
            \(select("trigger", "Trigger", RunRecord.Trigger.allCases.map(\.rawValue), q.trigger?.rawValue))
            <div><button type="submit">Filter</button></div></form>
            """
    }
}
