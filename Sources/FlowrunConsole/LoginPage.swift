import FlowrunHTTP

/// The login form: the admin token, posted with the anonymous session's CSRF token.
enum LoginPage {
    static func render(context: PageContext, next: String, failed: Bool) -> ServerResponse {
        let error: HTML = failed ? "<p class=\"error\" role=\"alert\">That is not the admin token.</p>" : ""
        let body: HTML = """
            \(error)<form method="post" action="/login">\(context.csrfField)
            <input type="hidden" name="next" value="\(Console.safeNext(next))">
            <label for="token">Admin token</label>
            <p><input id="token" name="token" type="password" autocomplete="current-password" required autofocus></p>
            <p><button type="submit">Log in</button></p></form>
            """
        return Console.html(200, Layout.page(title: "Log in", section: nil, context: nil, body: body))
    }
}
