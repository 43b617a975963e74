import FlowrunValue

/// A request with its whole body, read within the listener's limits.
public struct ServerRequest: Sendable {
    public var head: RequestHead
    public var body: [UInt8]

    public init(head: RequestHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

/// An answer to a request. Header names and values that could split the response (CR, LF, NUL) are
/// dropped when it is written; `Content-Length` and `Connection` are always the listener's own.
public struct ServerResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ status: Int, _ value: Value) -> ServerResponse {
        ServerResponse(
            status: status, headers: [("Content-Type", "application/json")], body: Array(JSON.serialize(value).utf8))
    }

    /// `{"error": message}` with `status`.
    public static func error(_ status: Int, _ message: String) -> ServerResponse {
        json(status, ["error": .string(message)])
    }

    /// The bytes on the wire: status line, headers, and the body unless the request was HEAD.
    func serialized(keepAlive: Bool, includeBody: Bool) -> [UInt8] {
        let status = (200...599).contains(status) ? status : 500  // never a malformed or interim status line
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(RequestParser.isTokenChar),
                value.utf8.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) })
            else { continue }
            let lower = name.lowercased()
            if lower == "content-length" || lower == "connection" || lower == "transfer-encoding" { continue }
            text += "\(name): \(value)\r\n"
        }
        text += "Content-Length: \(body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        var bytes = Array(text.utf8)
        if includeBody { bytes += body }
        return bytes
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}

/// What a listener does with requests, in two steps: `admit` sees the head before any body byte is read
/// (routes, credentials; a response refuses the request), `respond` gets the request with its body.
/// Both run on the connection's own thread, never on Swift's cooperative pool, and may block.
public struct RequestHandler: Sendable {
    public var admit: @Sendable (RequestHead) -> ServerResponse?
    public var respond: @Sendable (ServerRequest) -> ServerResponse

    public init(
        admit: @escaping @Sendable (RequestHead) -> ServerResponse? = { _ in nil },
        respond: @escaping @Sendable (ServerRequest) -> ServerResponse
    ) {
        self.admit = admit
        self.respond = respond
    }
}
