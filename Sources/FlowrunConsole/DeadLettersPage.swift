import Flowrun
import FlowrunHTTP

/// The dead-letter queue per flow: each item's key, attempts, first and last run, error and status,
/// with Replay and Skip for one item or a selection, and Resolve (take local / take remote) for a conflict.
struct DeadLettersPage {
    let console: Console
    let context: PageContext
    let query: [String: String]

    func render() -> ServerResponse {
        let flow = query["flow"].flatMap { $0.isEmpty ? nil : $0 }
        let all = query["all"] == "1"
        let items: [DeadLetterQueue.Item]
        do { items = try DeadLetterQueue(store: console.service.store).list(flow: flow, all: all) } catch {
            return Console.page(
                503, title: "Dead letters", body: "<p class=\"error\">The state store did not answer.</p>",
                context: context)
        }
        let flowOptions = HTML.join(
            ([""] + console.service.flows.map(\.name)).map { f in
                "<option value=\"\(f)\"\(f == (flow ?? "") ? HTML(" selected") : "")>\(f.isEmpty ? "every flow" : f)</option>"
            })
        var body: HTML = """
            <form class="filters" method="get" action="/dlq"><div><label for="f-flow">Flow</label>
            <select id="f-flow" name="flow">\(flowOptions)</select></div>
            <div><label><input type="checkbox" name="all" value="1"\(all ? HTML(" checked") : "")> closed items too</label></div>
            <div><button type="submit">Show</button></div></form>
            """
        guard !items.isEmpty else {
            body += "<p class=\"muted\">No \(all ? "" : "unresolved ")dead letters.</p>"
            return Console.html(200, Layout.page(title: "Dead letters", section: .dlq, context: context, body: body))
        }
        let byFlow = Dictionary(grouping: items, by: \.flow).sorted { $0.key < $1.key }
        body += "<form method=\"post\" action=\"/dlq\" id=\"dlq-form\">\(context.csrfField)"
        for (flowName, flowItems) in byFlow {
            let redactor = console.service.flow(named: flowName)?.runtime.redactor
            body += """
                <h2>\(flowName) <span class="muted">(\(flowItems.count))</span></h2>
                <div class="table-wrap"><table class="dlq"><thead><tr><th scope="col"><span class="hide-narrow">Select</span></th>
                <th scope="col">Key</th><th scope="col" class="num">Attempts</th><th scope="col">Status</th>
                <th scope="col">First run</th><th scope="col">Last run</th><th scope="col">First error</th><th scope="col">Last error</th><th scope="col">Actions</th>
                </tr></thead><tbody>
                """
            for item in flowItems {
                let error = redactor.map { $0.redact(item.error) } ?? item.error
                let payload = redactor.map { $0.redact(item.payload) } ?? item.payload
                let message = error["message"].stringValue ?? JSON.serialize(error)
                let first = redactor.map { $0.redact(item.firstError) } ?? item.firstError
                let firstMessage = first["message"].stringValue ?? JSON.serialize(first)
                let key = redactor.map { $0.redact(item.key) } ?? item.key
                let open = item.status.isUnresolved
                let actions: HTML =
                    !open
                    ? ""
                    : item.isConflict
                        ? HTML(
                            "<button type=\"submit\" name=\"one\" value=\"take-local:\(item.id)\">Resolve: take local</button> <button type=\"submit\" name=\"one\" value=\"take-remote:\(item.id)\">Resolve: take remote</button> <button type=\"submit\" class=\"secondary\" name=\"one\" value=\"skip:\(item.id)\">Skip</button>"
                        )
                        : HTML(
                            "<button type=\"submit\" name=\"one\" value=\"replay:\(item.id)\">Replay</button> <button type=\"submit\" class=\"secondary\" name=\"one\" value=\"skip:\(item.id)\">Skip</button>"
                        )
                body += """
                    <tr data-item="\(item.id)"><td>\(open ? HTML("<input type=\"checkbox\" name=\"id\" value=\"\(item.id)\" aria-label=\"select \(key)\">") : "")</td>
                    <td><code>\(key)</code><details><summary>payload</summary><pre>\(JSON.serialize(payload))</pre></details></td>
                    <td class="num">\(item.attempts)</td><td>\(Layout.status(item.status.rawValue))\(item.isConflict ? " (conflict)" : "")</td>
                    <td>\(Layout.runLink(item.firstRun))</td><td>\(Layout.runLink(item.lastRun)) \(Layout.time(item.updatedAt))</td>
                    <td>\(firstMessage)</td><td>\(message)</td>
                    <td>\(actions)</td></tr>
                    """
            }
            body += "</tbody></table></div>"
        }
        body += """
            <p class="actions"><button type="submit" name="action" value="replay">Replay selected</button>
            <button type="submit" class="secondary" name="action" value="skip">Skip selected</button></p></form>
            """
        return Console.html(200, Layout.page(title: "Dead letters", section: .dlq, context: context, body: body))
    }
}
