import Flowrun
import FlowrunHTTP
import FlowrunService
import Foundation

/// The operator console of `flowrun serve`: server-rendered pages on the admin listener for flows,
/// runs (with live progress), a run's detail, the dead-letter queue and flow state. It owns every path
/// but the API's (`/api/...`, `/metrics`, the probes). With an admin token, a page needs a session
/// from the login form (or the bearer header); every POST needs the session's CSRF token. Buttons call
/// the same `Service` operations as the admin API.
public final class Console: AdminPages, @unchecked Sendable {
    let service: Service
    let token: String?
    let sessions: Sessions
    let clock: @Sendable () -> Int

    public init(service: Service, token: String?, clock: @escaping @Sendable () -> Int = Globals.systemClock) {
        self.service = service
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.clock = clock
        self.sessions = Sessions(clock: clock)
    }

    // MARK: AdminPages

    public func owns(_ head: RequestHead) -> Bool {
        let path = head.path
        return
            !(path.hasPrefix("/api/") || path == "/api" || path == "/metrics" || path == "/healthz"
            || path == "/readyz")
    }

    /// Before the body is read: assets and the login form are open; the rest needs the bearer token or
    /// an authenticated session when a token is set.
    public func admit(_ head: RequestHead) -> ServerResponse? {
        if Self.isOpen(head.path) || isAuthorized(head) { return nil }
        if head.method.uppercased() == "GET" || head.method.uppercased() == "HEAD" {
            return Self.redirect("/login?next=" + HTML.urlComponent(head.target))
        }
        return Self.page(
            401, title: "Login needed", body: "<p>Your session ended. <a href=\"/login\">Log in</a> again.</p>")
    }

    static func isOpen(_ path: String) -> Bool { path == "/login" || path == "/console.css" || path == "/console.js" }

    func isAuthorized(_ head: RequestHead) -> Bool {
        guard let token else { return true }
        if let given = head.header("Authorization"),
            Digest.constantTimeEqual(Array(given.utf8), Array("Bearer \(token)".utf8))
        {
            return true
        }
        return sessions.session(cookieHeader: head.header("Cookie"))?.authenticated == true
    }

    public func respond(_ request: ServerRequest) -> ServerResponse {
        let head = request.head
        var method = head.method.uppercased()
        if method == "HEAD" { method = "GET" }
        let parts = head.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        switch (method, parts.first ?? "") {
        case ("GET", "console.css"): return Self.asset(Assets.css, type: "text/css; charset=utf-8")
        case ("GET", "console.js"): return Self.asset(Assets.js, type: "text/javascript; charset=utf-8")
        case ("GET", "live"): return live(head)
        default: break
        }
        // Pages get a session (and so a CSRF token) on the first visit.
        var session = sessions.session(cookieHeader: head.header("Cookie"))
        var newCookie: String?
        if method == "GET", session == nil {
            session = sessions.create(authenticated: token == nil)
            newCookie = Sessions.setCookie(session)
        }
        if method == "POST" {
            let form = Form(body: request.body)
            guard Sessions.csrfMatches(session, form["csrf"]) else {
                return Self.page(
                    403, title: "Refused",
                    body: "<p class=\"error\">This form has no valid CSRF token (reload the page and try again).</p>")
            }
            return post(parts, form: form, session: session!, head: head)
        }
        guard method == "GET" else { return Self.page(405, title: "Not allowed", body: "<p>Use GET or POST.</p>") }
        var response = get(parts, head: head, context: PageContext(session: session!, notice: notice(head)))
        if let newCookie { response.headers.append(("Set-Cookie", newCookie)) }
        return response
    }

    func notice(_ head: RequestHead) -> String? { head.query.first { $0.name == "notice" }?.value }

    func get(_ parts: [String], head: RequestHead, context: PageContext) -> ServerResponse {
        let query = Dictionary(head.query.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        switch parts.count {
        case 0: return FlowsPage(console: self, context: context).render()
        case 1 where parts[0] == "login":
            return LoginPage.render(context: context, next: query["next"] ?? "/", failed: false)
        case 1 where parts[0] == "runs": return RunsPage(console: self, context: context, query: query).render()
        case 2 where parts[0] == "runs": return RunPage(console: self, context: context, id: parts[1]).render()
        case 1 where parts[0] == "dlq":
            return DeadLettersPage(console: self, context: context, query: query).render()
        case 1 where parts[0] == "state": return StatePage(console: self, context: context, flow: nil).render()
        case 2 where parts[0] == "state": return StatePage(console: self, context: context, flow: parts[1]).render()
        default:
            return Self.page(
                404, title: "Not found", body: "<p>No page here. <a href=\"/\">Flows</a></p>", context: context)
        }
    }

    func post(_ parts: [String], form: Form, session: Sessions.Session, head: RequestHead) -> ServerResponse {
        switch parts.count {
        case 1 where parts[0] == "login": return login(form: form, session: session)
        case 1 where parts[0] == "logout":
            sessions.remove(session.id)
            var r = Self.redirect("/login")
            r.headers.append(("Set-Cookie", Sessions.setCookie(nil)))
            return r
        case 3 where parts[0] == "flows": return Actions.flow(self, name: parts[1], action: parts[2], form: form)
        case 3 where parts[0] == "runs": return Actions.run(self, id: parts[1], action: parts[2])
        case 1 where parts[0] == "dlq": return Actions.deadLetters(self, form: form)
        case 2 where parts[0] == "state": return Actions.state(self, flow: parts[1], form: form)
        default: return Self.page(404, title: "Not found", body: "<p>No action here.</p>")
        }
    }

    /// Checks the admin token (constant time) and replaces the anonymous session with an authenticated one.
    func login(form: Form, session: Sessions.Session) -> ServerResponse {
        let next = Self.safeNext(form["next"])
        guard let token else { return Self.redirect(next) }
        guard Digest.constantTimeEqual(Array((form["token"] ?? "").utf8), Array(token.utf8)) else {
            var r = LoginPage.render(context: PageContext(session: session, notice: nil), next: next, failed: true)
            r.status = 401
            return r
        }
        sessions.remove(session.id)
        var r = Self.redirect(next)
        r.headers.append(("Set-Cookie", Sessions.setCookie(sessions.create(authenticated: true))))
        return r
    }

    /// Only a local path is followed after login (never another site).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    /// The live progress of runs, for the page script: id, status, percent and a line of text each.
    func live(_ head: RequestHead) -> ServerResponse {
        let ids = (head.query.first { $0.name == "ids" }?.value ?? "").split(separator: ",").prefix(100)
        let now = clock()
        let items: [Value] = ids.compactMap { id in
            guard let r = try? service.store.run(id: String(id)) else { return nil }
            let p = Progress(r, now: now)
            return [
                "id": .string(r.id), "status": .string(r.status.rawValue), "percent": .int(p.percent),
                "text": .string(p.text),
            ]
        }
        return ServerResponse(
            status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            body: Array(JSON.serialize(.array(items)).utf8))
    }

    // MARK: Responses

    static func redirect(_ location: String) -> ServerResponse {
        ServerResponse(status: 303, headers: [("Location", location), ("Cache-Control", "no-store")])
    }

    static func asset(_ text: String, type: String) -> ServerResponse {
        ServerResponse(
            status: 200, headers: [("Content-Type", type), ("Cache-Control", "max-age=300")], body: Array(text.utf8))
    }

    static func page(_ status: Int, title: String, body: HTML, context: PageContext? = nil) -> ServerResponse {
        html(status, Layout.page(title: title, section: nil, context: context, body: body))
    }

    static func html(_ status: Int, _ page: HTML) -> ServerResponse {
        ServerResponse(
            status: status,
            headers: [
                ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "same-origin"),
                (
                    "Content-Security-Policy",
                    "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
                ),
            ],
            body: Array(page.text.utf8))
    }
}

/// What every page needs: the session (for forms' CSRF token and the logout button) and a notice.
struct PageContext {
    var session: Sessions.Session
    var notice: String?

    var csrfField: HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrf)\">" }
}
