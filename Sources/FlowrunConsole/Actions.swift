import Flowrun
import FlowrunHTTP
import FlowrunService

/// What the console's buttons do: each calls a `Service` operation (the admin API's) and redirects to
/// the page that shows the outcome, or answers the refusal with its status.
enum Actions {
    static func flow(_ console: Console, name: String, action: String, form: Form) -> ServerResponse {
        let service = console.service
        switch action {
        case "run":
            let dryRun = form.all("mode").contains("dry")
            var input: Value?
            if let value = form["value"], !value.isEmpty {
                let field = (form["field"] ?? "").isEmpty ? "id" : form["field"]!
                input = .object([field: .string(value)])
            }
            switch service.startRun(flow: name, input: input, dryRun: dryRun) {
            case .success(let id): return Console.redirect("/runs/\(HTML.urlComponent(id))")
            case .failure(let refusal): return refused(refusal, console)
            }
        case "disable", "enable":
            switch service.setDisabled(flow: name, action == "disable") {
            case .success: return Console.redirect("/?notice=" + HTML.urlComponent("\(name) \(action)d"))
            case .failure(let refusal): return refused(refusal, console)
            }
        default: return Console.page(404, title: "Not found", body: "<p>No action \(action).</p>")
        }
    }

    static func run(_ console: Console, id: String, action: String) -> ServerResponse {
        switch action {
        case "cancel":
            guard console.service.cancel(runID: id) else {
                return refused(Service.Refusal(status: 404, description: "no run \(id) in progress"), console)
            }
            return Console.redirect("/runs/\(HTML.urlComponent(id))?notice=" + HTML.urlComponent("cancelling \(id)"))
        case "retry":
            switch console.service.retryRun(id: id) {
            case .success(let new): return Console.redirect("/runs/\(HTML.urlComponent(new))")
            case .failure(let refusal): return refused(refusal, console)
            }
        default: return Console.page(404, title: "Not found", body: "<p>No action \(action).</p>")
        }
    }

    /// Replay or skip: one item (`one=replay:ID`) or the selected ones (`action` with `id` fields); a
    /// conflict is resolved with `one=take-local:ID` or `one=take-remote:ID`.
    static func deadLetters(_ console: Console, form: Form) -> ServerResponse {
        var action = form["action"] ?? ""
        var ids = form.all("id")
        if let one = form["one"], let colon = one.firstIndex(of: ":") {
            action = String(one[..<colon])
            ids = [String(one[one.index(after: colon)...])]
        }
        let take: DeadLetterQueue.Take? =
            action.hasPrefix("take-") ? DeadLetterQueue.Take(rawValue: String(action.dropFirst(5))) : nil
        guard action == "replay" || action == "skip" || take != nil, !ids.isEmpty else {
            return Console.redirect("/dlq?notice=" + HTML.urlComponent("select items first"))
        }
        var done: [String] = []
        var problems: [String] = []
        for id in ids.prefix(500) {
            if let take {
                switch console.service.resolve(conflict: id, take: take) {
                case .success(let run): done.append("\(id) (run \(run))")
                case .failure(let refusal): problems.append(refusal.description)
                }
            } else if action == "skip" {
                switch console.service.skip(deadLetter: id) {
                case .success: done.append(id)
                case .failure(let refusal): problems.append(refusal.description)
                }
            } else {
                switch console.service.replay(deadLetter: id) {
                case .success(let run): done.append("\(id) (run \(run))")
                case .failure(let refusal): problems.append(refusal.description)
                }
            }
        }
        let verb = take.map { "resolving (take \($0.rawValue))" } ?? (action == "skip" ? "skipped" : "replaying")
        let text =
            (done.isEmpty ? "" : "\(verb) \(done.joined(separator: ", "))")
            + (problems.isEmpty ? "" : (done.isEmpty ? "" : "; ") + "refused: \(problems.joined(separator: "; "))")
        return Console.redirect("/dlq?notice=" + HTML.urlComponent(text))
    }

    /// A guarded edit: `expected` is the fingerprint of the value the page showed (never the value itself,
    /// which may hold a secret); empty means the key was absent.
    static func state(_ console: Console, flow: String, form: Form) -> ServerResponse {
        let key = form["key"] ?? ""
        let current = try? console.service.store.get(flow: flow, key: key)
        guard (form["expected"] ?? "") == (current.map { fingerprint($0) } ?? "") else {
            return refused(
                Service.Refusal(
                    status: 409, description: "\(key) changed since the page was loaded; nothing was written"),
                console)
        }
        var new: Value?
        if form["op"] != "delete" {
            let text = form["value"] ?? ""
            new = (try? JSON.parse(text)) ?? .string(text)
        }
        switch console.service.editState(flow: flow, key: key, expected: current ?? nil, new: new) {
        case .success(let record):
            return Console.redirect(
                "/state/\(HTML.urlComponent(flow))?notice="
                    + HTML.urlComponent("\(key) \(new == nil ? "deleted" : "saved") (recorded as run \(record))"))
        case .failure(let refusal): return refused(refusal, console)
        }
    }

    static func fingerprint(_ value: Value) -> String {
        Digest.hex(Array(Digest.sha256(Array(JSON.serialize(value).utf8)).prefix(16)))
    }

    static func refused(_ refusal: Service.Refusal, _ console: Console) -> ServerResponse {
        Console.page(
            refusal.status, title: "Not done",
            body: "<p class=\"error\" role=\"alert\">\(refusal.description)</p><p><a href=\"/\">Back to flows</a></p>")
    }
}
