import Flowrun
import FlowrunHTTP

/// A flow's state keys (cursors and the keys of `state` nodes; internal keys are listed, not editable),
/// with a guarded edit: the form carries the value the operator saw, and the store refuses the change
/// when a run moved it since (compare-and-set). Edits are recorded in the run history (trigger `state`).
struct StatePage {
    let console: Console
    let context: PageContext
    let flow: String?

    func render() -> ServerResponse {
        guard let flow else {
            let links = HTML.join(
                console.service.flows.map { "<li><a href=\"/state/\(HTML.urlComponent($0.name))\">\($0.name)</a></li>" }
            )
            return Console.html(
                200, Layout.page(title: "State", section: .state, context: context, body: "<ul>\(links)</ul>"))
        }
        guard let service = console.service.flow(named: flow) else {
            return Console.page(404, title: "State", body: "<p>No flow \(flow).</p>", context: context)
        }
        let entries: [(flow: String, key: String, value: Value)]
        do { entries = try console.service.store.entries(flow: flow, prefix: "").sorted { $0.key < $1.key } } catch {
            return Console.page(
                503, title: "State", body: "<p class=\"error\">The state store did not answer.</p>", context: context)
        }
        let action = "/state/\(HTML.urlComponent(flow))"
        var rows: HTML = ""
        var internalCount = 0
        for e in entries {
            if StateEdit.isInternal(e.key) {
                internalCount += 1
                continue
            }
            let text = JSON.serialize(service.runtime.redactor.redact(e.value))
            let raw = JSON.serialize(e.value)
            rows += """
                <tr><th scope="row"><code>\(e.key)</code></th><td><form method="post" action="\(action)" class="actions">\(context.csrfField)
                <input type="hidden" name="key" value="\(e.key)"><input type="hidden" name="expected" value="\(Actions.fingerprint(e.value))">
                <label class="hide-narrow" for="v-\(e.key)">value</label>
                <input id="v-\(e.key)" name="value" value="\(text)" size="40"\(raw == text ? "" : HTML(" readonly title=\"holds a secret\""))>
                <button type="submit" name="op" value="set">Save</button>
                <button type="submit" class="secondary" name="op" value="delete">Delete</button></form></td></tr>
                """
        }
        let body: HTML = """
            <p class="muted">Edits are compare-and-set against the value shown and are recorded in the
            <a href="/runs?flow=\(HTML.urlComponent(flow))&amp;trigger=state">run history</a>. \(internalCount) internal keys
            (dead letters, slots, schedule, locks) are not shown.</p>
            <div class="table-wrap"><table><thead><tr><th scope="col">Key</th><th scope="col">Value (JSON)</th></tr></thead>
            <tbody>\(rows.text.isEmpty ? "<tr><td colspan=\"2\">No state keys.</td></tr>" : rows)</tbody></table></div>
            <h2>Add a key</h2><form method="post" action="\(action)" class="filters">\(context.csrfField)
            <input type="hidden" name="expected" value="">
            <div><label for="new-key">Key</label><input id="new-key" name="key" required></div>
            <div><label for="new-value">Value (JSON)</label><input id="new-value" name="value" required></div>
            <div><button type="submit" name="op" value="set">Add</button></div></form>
            """
        return Console.html(200, Layout.page(title: "State of \(flow)", section: .state, context: context, body: body))
    }
}
