import Dispatch
import FlowrunExpression
import FlowrunRuntime
import FlowrunValue
import FlyingFox
import Foundation

extension HTTPServer {
    /// Listens with FlyingFox. Each accepted request starts a run whose first message is the request;
    /// the flow answers by sending `{requestId, statusCode, headers, body | json}` to `response`.
    final class Instance: ServingComponent, @unchecked Sendable {
        private let lock = NSLock()
        private var waiting: [String: CheckedContinuation<Answer, Never>] = [:]
        private let listener = BlockingServer()

        struct Answer: Sendable {
            let status: Int
            let headers: [(String, String)]
            let body: Data
        }

        struct Route: Sendable {
            let method: String?
            let segments: [Substring]
        }

        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            guard case .string(let id) = message["requestId"] else {
                throw NodeError("a response needs the `requestId` of its request", code: "bad_request")
            }
            var headers: [(String, String)] = []
            if case .object(let h) = message["headers"] { for (k, v) in h { headers.append((k, v.interpolated)) } }
            var body = Data()
            if case .string(let text) = message["body"] {
                body = Data(text.utf8)
            } else if !message["json"].isNull || message["body"].isNull {
                body = Data(JSON.serialize(message["json"]).utf8)
                if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    headers.append(("Content-Type", "application/json"))
                }
            }
            let answer = Answer(status: message["statusCode"].intValue ?? 200, headers: headers, body: body)
            guard let waiter = lock.withLock({ waiting.removeValue(forKey: id) }) else {
                throw NodeError(
                    "no request '\(id)' is waiting for a response (answered twice, or timed out)", code: "bad_request")
            }
            waiter.resume(returning: answer)
        }

        func serve(settings: [String: Value], startRun: @escaping @Sendable (Value) -> String?) throws(NodeError) {
            let host = settings["host"]?.stringValue ?? "127.0.0.1"
            guard let port = settings["port"]?.intValue, (0...65535).contains(port) else {
                throw NodeError("http-server needs a `port`", code: "bad_request")
            }
            let address: sockaddr_in
            do { address = try .inet(ip4: host, port: UInt16(port)) } catch {
                throw NodeError("http-server: invalid host '\(host)'", code: "bad_request")
            }
            var routes: [Route] = []
            if case .array(let items) = settings["routes"] ?? .null {
                for r in items {
                    routes.append(
                        Route(
                            method: r["method"].stringValue?.uppercased(),
                            segments: (r["path"].stringValue ?? "/").split(separator: "/")))
                }
            }
            let bearer = settings["auth"]?["bearer"].stringValue
            let hmacSecret = settings["auth"]?["hmacSecret"].stringValue
            let hmacHeader = settings["auth"]?["hmacHeader"].stringValue ?? "X-Signature-256"
            let routeTable = routes
            let timeout = settings["timeout"]?.stringValue.flatMap(Durations.parse) ?? 30_000_000_000
            let maxBody = settings["maxBodyBytes"]?.intValue ?? 1 << 20
            let handler: @Sendable (FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse = { [self] request in
                let method = request.method.rawValue.uppercased()
                var params = Value.Object()
                if !routeTable.isEmpty {
                    guard let match = Self.match(routeTable, method: method, path: request.path) else {
                        return Self.json(404, ["error": .string("no route for \(method) \(request.path)")])
                    }
                    params = match
                }
                if let bearer,
                    !Digest.constantTimeEqual(
                        Array((request.headers[HTTPHeader("Authorization")] ?? "").utf8), Array("Bearer \(bearer)".utf8)
                    )
                {
                    return Self.json(401, ["error": "missing or wrong bearer token"])
                }
                let body = try await request.bodyData
                if body.count > maxBody {
                    return Self.json(413, ["error": .string("request body larger than \(maxBody) bytes")])
                }
                if let hmacSecret {
                    // `sha256=<hex>` (GitHub style) or bare hex of HMAC-SHA256(secret, body).
                    var given = request.headers[HTTPHeader(hmacHeader)] ?? ""
                    if given.hasPrefix("sha256=") { given.removeFirst(7) }
                    let mac = Digest.unhex(given) ?? []
                    if !Digest.isValidHMACSHA256(mac, key: Array(hmacSecret.utf8), message: Array(body)) {
                        return Self.json(401, ["error": .string("missing or wrong \(hmacHeader) signature")])
                    }
                }
                let text = String(decoding: body, as: UTF8.self)
                var bodyJson = Value.null
                if !body.isEmpty, let parsed = try? JSON.parse(bytes: Array(body)) { bodyJson = parsed }
                var query = Value.Object()
                for item in request.query { query[item.name] = .string(item.value) }
                var headers = Value.Object()
                for (name, value) in request.headers { headers[name.rawValue.lowercased()] = .string(value) }
                let id = UUID().uuidString.lowercased()
                let message: Value = [
                    "method": .string(method), "path": .string(request.path), "params": .object(params),
                    "query": .object(query), "headers": .object(headers), "body": .string(text), "bodyJson": bodyJson,
                    "requestId": .string(id),
                ]
                let answer: Answer = await withCheckedContinuation { continuation in
                    self.lock.withLock { self.waiting[id] = continuation }
                    // The run executes on a plain thread, never on the cooperative pool.
                    DispatchQueue.global().async {
                        if let refused = startRun(message) {
                            let body = JSON.serialize(["error": .string(refused)])
                            self.answerIfWaiting(id, Answer(status: 409, headers: [], body: Data(body.utf8)))
                            return
                        }
                        self.answerIfWaiting(
                            id,
                            Answer(
                                status: 500, headers: [],
                                body: Data(#"{"error":"the flow ended without answering"}"#.utf8)))
                    }
                    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(timeout)) {
                        self.answerIfWaiting(
                            id,
                            Answer(
                                status: 504, headers: [],
                                body: Data(#"{"error":"the flow did not answer in time"}"#.utf8)))
                    }
                }
                var responseHeaders = HTTPHeaders()
                for (k, v) in answer.headers { responseHeaders[HTTPHeader(k)] = v }
                return FlyingFox.HTTPResponse(
                    statusCode: HTTPStatusCode(answer.status, phrase: ""), headers: responseHeaders, body: answer.body)
            }
            do throws(BlockingServer.ListenError) {
                try listener.start(address: address, timeout: 60, handler: handler)
            } catch {
                throw NodeError("http-server cannot listen on \(host):\(port): \(error.description)", code: "listen")
            }
        }

        func stopServing() { listener.stop() }

        func answerIfWaiting(_ id: String, _ answer: Answer) {
            if let waiter = lock.withLock({ waiting.removeValue(forKey: id) }) { waiter.resume(returning: answer) }
        }

        static func json(_ status: Int, _ value: Value) -> FlyingFox.HTTPResponse { BlockingServer.json(status, value) }

        /// The first route whose method and path match; `:name` segments become params.
        static func match(_ routes: [Route], method: String, path: String) -> Value.Object? {
            let parts = path.split(separator: "/")
            for route in routes where route.method == nil || route.method == method {
                guard route.segments.count == parts.count else { continue }
                var params = Value.Object()
                var ok = true
                for (want, got) in zip(route.segments, parts) {
                    if want.hasPrefix(":") {
                        params[String(want.dropFirst())] = .string(String(got).removingPercentEncoding ?? String(got))
                    } else if want != got {
                        ok = false
                        break
                    }
                }
                if ok { return params }
            }
            return nil
        }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
