import Flowrun
import FlowrunService
import Foundation
import Testing

@testable import FlowrunConsole
@testable import FlowrunHTTP

/// A real `Service` over a SQLite store in a temp directory, with the console in front of it; requests
/// go to the console's `admit` and `respond` as the admin listener sends them.
final class ConsoleFixture: @unchecked Sendable {
    let directory: URL
    let store: SQLiteStore
    let service: Service
    let console: Console

    init(token: String? = "s3cret") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flowrun-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let flow = directory.appendingPathComponent("demo.yaml").path
        try """
        flow: demo
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          out: {component: modify}
        edges:
          - {from: start.out, to: out.in}
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        store = try SQLiteStore(path: directory.appendingPathComponent("state.db").path)
        service = Service(store: store, options: Service.Options())
        service.load([flow])
        console = Console(service: service, token: token)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Sends one request through `admit` then `respond`, as `AdminServer` does.
    func send(_ method: String, _ target: String, cookie: String? = nil, bearer: String? = nil, form: String = "")
        -> ServerResponse
    {
        var headers: [(name: String, value: String)] = []
        if let cookie { headers.append(("Cookie", "\(Sessions.cookieName)=\(cookie)")) }
        if let bearer { headers.append(("Authorization", "Bearer \(bearer)")) }
        let head = RequestHead(method: method, target: target, minorVersion: 1, headers: headers)
        #expect(console.owns(head))
        if let refused = console.admit(head) { return refused }
        return console.respond(ServerRequest(head: head, body: Array(form.utf8)))
    }

    /// Logs in through the form; returns the authenticated session's cookie and CSRF token.
    func login() throws -> (cookie: String, csrf: String) {
        let page = send("GET", "/login")
        let anonymous = try #require(Self.cookie(page))
        let csrf = try #require(Self.csrf(page))
        let done = send("POST", "/login", cookie: anonymous, form: "csrf=\(csrf)&token=s3cret&next=%2F")
        #expect(done.status == 303)
        let cookie = try #require(Self.cookie(done))
        let home = send("GET", "/", cookie: cookie)
        return (cookie, try #require(Self.csrf(home)))
    }

    static func cookie(_ r: ServerResponse) -> String? {
        guard let header = r.headers.first(where: { $0.0 == "Set-Cookie" })?.1 else { return nil }
        return header.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last.map(String.init)
    }

    static func csrf(_ r: ServerResponse) -> String? {
        let text = body(r)
        guard let range = text.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    static func body(_ r: ServerResponse) -> String { String(decoding: r.body, as: UTF8.self) }
}

@Suite struct ConsoleTests {
    @Test func interpolatedTextIsEscapedAndHTMLIsKept() {
        let evil = "<script>alert('x')</script> & \"q\""
        let page: HTML = "<p title=\"\(evil)\">\(evil)</p>\(HTML("<br>"))"
        #expect(
            page.text
                == "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p><br>"
        )
        #expect(HTML.urlComponent("a b/ü?") == "a%20b%2F%C3%BC%3F")
    }

    @Test func aPageNeedsALoginWhenATokenIsSetAndTheSessionCookieIsStrict() throws {
        let f = try ConsoleFixture()
        let home = f.send("GET", "/runs?flow=demo")
        #expect(home.status == 303)
        #expect(home.headers.contains { $0.0 == "Location" && $0.1 == "/login?next=%2Fruns%3Fflow%3Ddemo" })
        let login = f.send("GET", "/login")
        #expect(login.status == 200)
        let setCookie = try #require(login.headers.first { $0.0 == "Set-Cookie" }?.1)
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
        // An anonymous session is not a login.
        #expect(f.send("GET", "/", cookie: ConsoleFixture.cookie(login)).status == 303)
        let csrf = try #require(ConsoleFixture.csrf(login))
        let wrong = f.send("POST", "/login", cookie: ConsoleFixture.cookie(login), form: "csrf=\(csrf)&token=nope")
        #expect(wrong.status == 401)
        #expect(!ConsoleFixture.body(wrong).contains("s3cret"))
        let (cookie, _) = try f.login()
        let page = f.send("GET", "/", cookie: cookie)
        #expect(page.status == 200)
        #expect(ConsoleFixture.body(page).contains("demo"))
        // The bearer header still works; a wrong one does not.
        #expect(f.send("GET", "/", bearer: "s3cret").status == 200)
        #expect(f.send("GET", "/", bearer: "wrong").status == 303)
        // The API's paths stay the API's.
        #expect(!f.console.owns(RequestHead(method: "GET", target: "/api/runs", minorVersion: 1, headers: [])))
    }

    @Test func aPostWithoutTheSessionsCSRFTokenIsRefused() throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try f.login()
        #expect(f.send("POST", "/flows/demo/disable", cookie: cookie).status == 403)
        #expect(f.send("POST", "/flows/demo/disable", cookie: cookie, form: "csrf=0000").status == 403)
        #expect(f.service.flow(named: "demo")?.isDisabled == false)
        let (_, otherCSRF) = try f.login()  // another session's token is not this one's
        #expect(f.send("POST", "/flows/demo/disable", cookie: cookie, form: "csrf=\(otherCSRF)").status == 403)
        #expect(f.send("POST", "/flows/demo/disable", cookie: cookie, form: "csrf=\(csrf)").status == 303)
        #expect(f.service.flow(named: "demo")?.isDisabled == true)
    }

    @Test func aRecordHoldingMarkupIsShownAsText() throws {
        let f = try ConsoleFixture(token: nil)
        var r = RunRecord(id: "r-evil", flow: "demo", trigger: .manual, startedAt: 1_700_000_000_000_000_000)
        r.status = .failed
        r.completedAt = r.startedAt + 5_000_000
        r.errors = [
            .init(
                node: "out", port: "in", location: "demo.yaml:5:3", message: "<script>alert(1)</script>",
                input: "{\"name\":\"<img src=x onerror=alert(2)>\"}", code: "E120")
        ]
        try f.store.save(r)
        let page = f.send("GET", "/runs/r-evil")
        #expect(page.status == 200)
        let text = ConsoleFixture.body(page)
        #expect(!text.contains("<script>alert") && !text.contains("<img src=x"))
        #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(text.contains("demo.yaml:5:3") && text.contains("E120"))
        let list = ConsoleFixture.body(f.send("GET", "/runs"))
        #expect(list.contains("r-evil"))
    }

    @Test func aGuardedStateEditIsRecordedAndRefusedWhenTheValueMoved() throws {
        let f = try ConsoleFixture(token: nil)
        try f.store.set(flow: "demo", key: "cursor", value: "2024-01-01")
        let page = f.send("GET", "/state/demo")
        let cookie = try #require(ConsoleFixture.cookie(page))
        let csrf = try #require(ConsoleFixture.csrf(page))
        let seen = Actions.fingerprint("2024-01-01")
        try f.store.set(flow: "demo", key: "cursor", value: "2024-02-01")  // a run moved it meanwhile
        let stale = f.send(
            "POST", "/state/demo", cookie: cookie,
            form: "csrf=\(csrf)&key=cursor&expected=\(seen)&op=set&value=%222023%22")
        #expect(stale.status == 409)
        #expect(try f.store.get(flow: "demo", key: "cursor") == "2024-02-01")
        let fresh = Actions.fingerprint("2024-02-01")
        let saved = f.send(
            "POST", "/state/demo", cookie: cookie,
            form: "csrf=\(csrf)&key=cursor&expected=\(fresh)&op=set&value=%222023%22")
        #expect(saved.status == 303)
        #expect(try f.store.get(flow: "demo", key: "cursor") == "2023")
        let edits = try f.store.runs(matching: RunQuery(flow: "demo", trigger: .state))
        #expect(edits.count == 1)
        #expect(edits.first?.reason == "state cursor set: \"2024-02-01\" -> \"2023\"")
        let internalKey = f.send(
            "POST", "/state/demo", cookie: cookie, form: "csrf=\(csrf)&key=lock%2Fx&expected=&op=set&value=1")
        #expect(internalKey.status == 400)
    }

    @Test func progressIsAFunctionOfTheRecordAndTheTime() {
        var r = RunRecord(id: "r1", flow: "f", trigger: .manual, startedAt: 0)
        r.counters[.processed] = 250
        r.total = 1000
        let p = Progress(r, now: 10_000_000_000)
        #expect(p.percent == 25)
        #expect(p.text == "processed 250 of 1,000  25/s  10.0s")
        r.status = .completed
        r.completedAt = 20_000_000_000
        #expect(Progress(r, now: 99_000_000_000).percent == 100)
    }
}

@Suite struct ConsoleInputTests {
    @Test func anUnknownFilterIsAClearErrorNotAWiderList() throws {
        let f = try ConsoleFixture(token: nil)
        let bad = f.send("GET", "/runs?status=%3Cb%3Enope&trigger=manual")
        #expect(bad.status == 400)
        let text = ConsoleFixture.body(bad)
        #expect(text.contains("Unknown status &lt;b&gt;nope"))
        #expect(f.send("GET", "/runs?before=garbage").status == 400)
        #expect(f.send("GET", "/runs?status=failed&trigger=manual").status == 200)
    }

    @Test func loginOnlyFollowsLocalPaths() {
        #expect(Console.safeNext("/runs?flow=a") == "/runs?flow=a")
        #expect(Console.safeNext("//evil.example/") == "/")
        #expect(Console.safeNext("https://evil.example/") == "/")
        #expect(Console.safeNext("/\\evil.example") == "/")
        #expect(Console.safeNext(nil) == "/")
    }
}
