import Flowrun
import FlowrunHTTP

/// One run: status and progress, every counter and a breakdown chart, the dry-run report, the error
/// log, links to the runs it retried or was retried by, the node that ran it, and the flow's graph
/// with the messages each node got. Cancel while running, Retry when finished.
struct RunPage {
    let console: Console
    let context: PageContext
    let id: String

    func render() -> ServerResponse {
        guard let stored = try? console.service.store.run(id: id) else {
            return Console.page(
                404, title: "Run not found", body: "<p>No run \(id). <a href=\"/runs\">Runs</a></p>", context: context)
        }
        let r = console.service.redacted(stored)
        let path = "/runs/\(HTML.urlComponent(r.id))"
        var actions: HTML = ""
        if r.status == .running {
            actions += Layout.button("Cancel", action: path + "/cancel", context: context, style: "danger")
        } else if r.trigger != .state {
            actions += Layout.button("Retry", action: path + "/retry", context: context)
        }
        var body: HTML = """
            <p class="actions">\(Layout.status(r.status.rawValue)) <span>flow <a href="/runs?flow=\(HTML.urlComponent(r.flow))">\(r.flow)</a></span>
            <span>trigger \(r.trigger.rawValue)</span><span>attempt \(r.attempt)</span>\(r.dryRun ? HTML("<span class=\"badge s-running\">dry run</span>") : "")
            \(actions)</p>
            \(Layout.progress(r, now: console.clock()))
            <dl class="cards">\(facts(r))</dl>
            """
        if let reason = r.reason { body += "<p><strong>Reason:</strong> \(reason)</p>" }
        if let note = r.retryNote { body += "<p class=\"muted\">\(note)</p>" }
        body += "<h2>Counters</h2><div class=\"cards\" id=\"counters\">"
        for c in Counter.allCases {
            body +=
                "<div class=\"card\" data-counter=\"\(c.rawValue)\"><div class=\"n\">\(RunProgress.grouped(r[c]))</div><div class=\"k\">\(c.rawValue)</div></div>"
        }
        body +=
            "<div class=\"card\" data-counter=\"messages\"><div class=\"n\">\(RunProgress.grouped(r.messages))</div><div class=\"k\">messages</div></div></div>"
        body += "<h2>Record breakdown</h2>"
        body += Charts.bars(
            [Counter.created, .updated, .unchanged, .skipped, .failed, .deadLettered].map { ($0.rawValue, r[$0]) },
            title: "Record breakdown")
        if r.dryRun { body += dryRun(r) }
        body += errors(r)
        if let flow = console.service.flow(named: r.flow) {
            body +=
                "<h2>Flow graph</h2><p class=\"muted\">Messages each node got in this run; error edges dashed, loops bold.</p>"
            body +=
                "<div class=\"graph\">\(Charts.graph(GraphLayout(flow.runtime.program.flow), counts: r.nodeMessages))</div>"
        }
        return Console.html(200, Layout.page(title: "Run \(r.id)", section: .runs, context: context, body: body))
    }

    func facts(_ r: RunRecord) -> HTML {
        var items: [(String, HTML)] = [
            ("started", Layout.time(r.startedAt)), ("completed", Layout.time(r.completedAt)),
            ("duration", "\(Running.duration(r.durationNanos))"),
            ("requests", "\(RunProgress.grouped(r[.requests]))"), ("pages", "\(RunProgress.grouped(r[.pages]))"),
            ("node", "\(r.node ?? "-")"), ("owner", "\(r.owner ?? "-")"),
        ]
        if let parent = r.parentID {
            items.append((r.trigger == .replay ? "replay of a dead letter from" : "retry of", Layout.runLink(parent)))
        }
        if !r.retriedBy.isEmpty {
            items.append(("retried by", HTML.join(r.retriedBy.map { Layout.runLink($0) + " " })))
        }
        if let file = r.flowFile { items.append(("flow file", "<code>\(file)</code>")) }
        return HTML.join(
            items.map { "<div class=\"card\"><dt class=\"k\">\($0.0)</dt><dd class=\"n-small\">\($0.1)</dd></div>" })
    }

    /// The dry-run report: the same text `flowrun runs ID` prints, and the columns a live run would update.
    func dryRun(_ r: RunRecord) -> HTML {
        var out: HTML = "<h2>Dry-run report</h2><pre id=\"dry-run-report\">\(Running.dryRunReport(r))</pre>"
        if !r.changedColumns.isEmpty {
            out +=
                "<div class=\"table-wrap\"><table><caption>Would update, by column</caption><thead><tr><th scope=\"col\">Column</th><th scope=\"col\" class=\"num\">Rows</th></tr></thead><tbody>"
            for (column, n) in r.changedColumns.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                out += "<tr><td>\(column)</td><td class=\"num\">\(RunProgress.grouped(n))</td></tr>"
            }
            out += "</tbody></table></div>"
        }
        return out
    }

    /// The error log: node and port, code, retry class, where in the flow file, the message and input.
    func errors(_ r: RunRecord) -> HTML {
        guard !r.errors.isEmpty else { return "<h2>Errors</h2><p class=\"muted\">No errors.</p>" }
        var out: HTML = """
            <h2>Errors (\(r.errors.count))</h2><div class="table-wrap"><table id="errors"><thead><tr>
            <th scope="col">Node</th><th scope="col">Code</th><th scope="col">Class</th><th scope="col">Location</th>
            <th scope="col">Message</th><th scope="col">Input</th></tr></thead><tbody>
            """
        for e in r.errors {
            let kind =
                (e.retryable ? "retryable" : "permanent") + (e.handled ? ", handled" : "")
                + (e.afterEnd ? ", run-end" : "")
            out += """
                <tr><td>\(e.node).\(e.port)</td><td><code>\(e.code)</code></td><td>\(kind)</td>
                <td>\(e.location.map { HTML("<code>\($0)</code>") } ?? "-")</td><td>\(e.message)</td>
                <td><details><summary>input</summary><pre>\(e.input)</pre></details></td></tr>
                """
        }
        return out + "</tbody></table></div>"
    }
}
