import Flowrun
import FlowrunHTTP
import FlowrunService

/// Every loaded flow with its health, schedule, last run and buttons (Run now, Dry run, Run single,
/// Disable/Enable), then the flow files that did not load, with their diagnostics.
struct FlowsPage {
    let console: Console
    let context: PageContext

    func render() -> ServerResponse {
        var rows: HTML = ""
        for f in console.service.flows {
            let health = f.healthState.rawValue
            let schedule = f.schedules.map { "\($0.node): \(Self.schedule($0.schedule))" }.joined(separator: ", ")
            let last: HTML =
                f.lastRun.map {
                    "\(Layout.runLink($0.id)) \(Layout.status($0.status.rawValue)) \(Layout.time($0.startedAt))"
                }
                ?? lastStored(f.name)
            let path = "/flows/\(HTML.urlComponent(f.name))"
            let toggle =
                f.isDisabled
                ? Layout.button("Enable", action: path + "/enable", context: context, style: "secondary")
                : Layout.button("Disable", action: path + "/disable", context: context, style: "secondary")
            let key = Self.entityKey(f)
            rows += """
                <tr><th scope="row"><a href="/runs?flow=\(HTML.urlComponent(f.name))">\(f.name)</a>\
                <div class="muted">\(f.file)</div></th>
                <td><span class="badge h-\(health)">\(health)</span>\(f.isRunning ? HTML(" <span class=\"badge s-running\">running</span>") : "")</td>
                <td>\(schedule.isEmpty ? "-" : schedule)<div class="muted">next \(Layout.time(f.nextRun))</div></td>
                <td>\(last)</td>
                <td><div class="actions">
                \(Layout.button("Run now", action: path + "/run", context: context, fields: [("mode", "live")]))
                \(Layout.button("Dry run", action: path + "/run", context: context, fields: [("mode", "dry")], style: "secondary"))
                \(toggle)</div>
                <details><summary>Run single</summary>
                <form method="post" action="\(path)/run">\(context.csrfField)
                <label for="key-\(f.name)">Entity key field</label>
                <input id="key-\(f.name)" name="field" value="\(key)" size="10">
                <label for="value-\(f.name)">Value</label>
                <input id="value-\(f.name)" name="value" required size="14">
                <label><input type="checkbox" name="mode" value="dry"> dry run</label>
                <button type="submit">Run single</button></form></details></td></tr>
                """
        }
        var body: HTML = """
            <div class="table-wrap"><table><caption class="muted">\(console.service.flows.count) flows loaded</caption>
            <thead><tr><th scope="col">Flow</th><th scope="col">Health</th><th scope="col">Schedule</th>
            <th scope="col">Last run</th><th scope="col">Actions</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
        let problems = console.service.problems.sorted { $0.key < $1.key }
        if !problems.isEmpty {
            body += "<h2>Flows that did not load</h2>"
            for (file, text) in problems {
                body += "<section><h3><code>\(file)</code></h3><pre>\(text)</pre></section>"
            }
        }
        return Console.html(200, Layout.page(title: "Flows", section: .flows, context: context, body: body))
    }

    static func schedule(_ s: TickerSchedule) -> String {
        switch s.kind {
        case .interval(let n): "every \(Durations.format(n))"
        case .cron(_, let zone): "cron (\(zone.identifier))"
        }
    }

    /// The last run in the store (after a restart the service has not seen one yet).
    func lastStored(_ flow: String) -> HTML {
        guard let r = try? console.service.store.runs(matching: RunQuery(flow: flow, limit: 1)).first else {
            return "-"
        }
        return "\(Layout.runLink(r.id)) \(Layout.status(r.status.rawValue)) \(Layout.time(r.startedAt))"
    }

    /// The input field a single-record run sets: the first `$.name` the flow's `run.concurrencyKey` reads
    /// (user-sync keys single runs by `$.userId`), else `id`.
    static func entityKey(_ f: FlowService) -> String {
        guard let span = f.runtime.program.flow.policy.concurrencyKeyNode?.span else { return "id" }
        let text = String(
            decoding: span.source.bytes[max(0, span.start)..<min(span.end, span.source.bytes.count)], as: UTF8.self)
        guard let range = text.range(of: "$.") else { return "id" }
        let name = text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return name.isEmpty ? "id" : String(name)
    }
}
