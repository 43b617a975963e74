import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Listens for HTTP requests (webhooks, demo APIs) and answers them from the flow.
public enum HTTPServer {
    static let requestShape = Shape.object([
        Field("method", .string), Field("path", .string), Field("params", .anyObject), Field("query", .anyObject),
        Field("headers", .anyObject), Field("body", .string), Field("bodyJson", .any), Field("requestId", .string),
    ])

    public static let descriptor = ComponentDescriptor(
        name: "http-server",
        summary: "Serves HTTP: emits each request and answers with the response sent back to it.",
        doc: """
            Each request becomes a message on `request` (a new run). The flow answers by sending
            `{requestId, statusCode, headers, body | json}` to `response`; no answer within `timeout` is a 504.
            `routes` restricts methods and paths; `auth` checks a bearer token or an HMAC-SHA256 signature.
            Routes, the bearer token and the signature header's presence are checked before the body is
            read. Request lines over 8 KiB get 414, heads over 64 KiB or 100 fields 431.
            """,
        isIO: true,
        isTrigger: true,
        settings: [
            SettingDescriptor(
                "host", .string, default: "127.0.0.1", doc: "Address to listen on (IPv4 or IPv6).", example: "0.0.0.0"),
            SettingDescriptor("port", .int, required: true, doc: "TCP port.", example: "8089"),
            SettingDescriptor(
                "routes",
                .array(
                    .object([
                        Field("method", .string, required: false), Field("path", .string),
                    ])), doc: "Accepted method/path pairs; paths may hold `:param` segments.",
                example: "[{method: GET, path: /users}]"),
            SettingDescriptor(
                "auth",
                .object([
                    Field("bearer", .string, required: false), Field("hmacSecret", .string, required: false),
                    Field("hmacHeader", .string, required: false),
                ]), doc: "Bearer token or HMAC-SHA256 signature check.", example: "{bearer: <<secrets.webhookToken>>}"),
            SettingDescriptor(
                "timeout", .duration, default: "30s", doc: "How long to wait for the flow's response.", example: "10s"),
            SettingDescriptor(
                "maxBodyBytes", .int, default: .int(1 << 20),
                doc: "Larger request bodies get 413, from `Content-Length` before any body byte is read.",
                example: "65536"),
            SettingDescriptor(
                "headerTimeout", .duration, default: "10s",
                doc: "Time a client has to send a request's head, and may stay silent between requests or in a body.",
                example: "5s"),
            SettingDescriptor(
                "maxConnections", .int, default: 256, doc: "Connections served at once; more get 503.",
                example: "64"),
        ],
        ports: [
            .output("request", requestShape, doc: "An incoming request."),
            .input(
                "response",
                .object([
                    Field("requestId", .string), Field("statusCode", .int, required: false),
                    Field("headers", .anyObject, required: false),
                    Field("body", .string, required: false), Field("json", .any, required: false), .contextField,
                ]), doc: "The answer to the request with this `requestId`."),
        ],
        terminalInputs: ["response"],
        example: """
            api:
              component: http-server
              settings: {port: 8089, routes: [{method: GET, path: /users}]}
            """,
        dryRun:
            "As in a normal run: it only starts runs and answers them; what a dry run skips is the writes of the I/O nodes downstream.",
        transfer: { _ in ["request": requestShape] }
    )
}
