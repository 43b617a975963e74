import Dispatch
import FlowrunExpression
import FlowrunRuntime
import FlowrunValue
import Foundation

extension HTTPServer {
    /// Listens with an `HTTPListener`. Each accepted request starts a run whose first message is the request;
    /// the flow answers by sending `{requestId, statusCode, headers, body | json}` to `response`.
    final class Instance: ServingComponent, @unchecked Sendable {
        private let lock = NSLock()
        private var waiting: [String: Waiter] = [:]
        private var listener: HTTPListener?

        /// One request waiting on its connection's thread for the flow's answer.
        final class Waiter: @unchecked Sendable {
            private let ready = DispatchSemaphore(value: 0)
            private var answer: ServerResponse?

            func resume(_ answer: ServerResponse) {
                self.answer = answer
                ready.signal()
            }

            func wait() -> ServerResponse {
                ready.wait()
                return answer!
            }
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
            var body: [UInt8] = []
            if case .string(let text) = message["body"] {
                body = Array(text.utf8)
            } else if !message["json"].isNull || message["body"].isNull {
                body = Array(JSON.serialize(message["json"]).utf8)
                if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    headers.append(("Content-Type", "application/json"))
                }
            }
            let status = message["statusCode"].intValue ?? 200
            guard (200...599).contains(status) else {
                throw NodeError("statusCode \(status) is not an HTTP status from 200 to 599", code: "bad_request")
            }
            let answer = ServerResponse(status: status, headers: headers, body: body)
            guard let waiter = lock.withLock({ waiting.removeValue(forKey: id) }) else {
                throw NodeError(
                    "no request '\(id)' is waiting for a response (answered twice, or timed out)", code: "bad_request")
            }
            waiter.resume(answer)
        }

        func serve(settings: [String: Value], startRun: @escaping @Sendable (Value) -> String?) throws(NodeError) {
            let host = settings["host"]?.stringValue ?? "127.0.0.1"
            guard let port = settings["port"]?.intValue, (0...65535).contains(port) else {
                throw NodeError("http-server needs a `port`", code: "bad_request")
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
            let auth = Auth(
                bearer: settings["auth"]?["bearer"].stringValue,
                hmacSecret: settings["auth"]?["hmacSecret"].stringValue,
                hmacHeader: settings["auth"]?["hmacHeader"].stringValue ?? "X-Signature-256")
            let routeTable = routes
            let timeout = settings["timeout"]?.stringValue.flatMap(Durations.parse) ?? 30_000_000_000
            var limits = ListenerLimits()
            limits.bodyBytes = settings["maxBodyBytes"]?.intValue ?? 1 << 20
            if let n = settings["maxConnections"]?.intValue { limits.maxConnections = max(1, n) }
            if let t = settings["headerTimeout"]?.stringValue.flatMap(Durations.parse) {
                limits.headerTimeout = Double(t) / 1e9
                limits.idleTimeout = Double(t) / 1e9
            }
            let handler = RequestHandler(
                // Routes and header credentials are checked before any body byte is read.
                admit: { head in
                    let method = head.method.uppercased()
                    if !routeTable.isEmpty && Self.match(routeTable, method: method, path: head.path) == nil {
                        return .error(404, "no route for \(method) \(head.path)")
                    }
                    return auth.admit(head)
                },
                respond: { [self] request in
                    if let denied = auth.verify(request) { return denied }
                    return answer(request, routes: routeTable, timeout: timeout, startRun: startRun)
                })
            let listener = HTTPListener(limits: limits)
            lock.withLock { self.listener = listener }
            do throws(HTTPListener.ListenError) {
                try listener.start(host: host, port: UInt16(port), handler: handler)
            } catch {
                throw NodeError("http-server cannot listen on \(host):\(port): \(error.description)", code: "listen")
            }
        }

        /// Starts a run with the request and waits (on the connection's thread) for the flow's answer.
        func answer(
            _ request: ServerRequest, routes: [Route], timeout: Int, startRun: @escaping @Sendable (Value) -> String?
        ) -> ServerResponse {
            let head = request.head
            let method = head.method.uppercased()
            let params = routes.isEmpty ? Value.Object() : Self.match(routes, method: method, path: head.path) ?? [:]
            let body = request.body
            // The flow sees the body as text: bytes that are not UTF-8 are refused, never replaced.
            guard let text = String(validating: body, as: UTF8.self) else {
                return .error(400, "the request body is not valid UTF-8")
            }
            var bodyJson = Value.null
            if !body.isEmpty, let parsed = try? JSON.parse(bytes: body) { bodyJson = parsed }
            var query = Value.Object()
            for item in head.query { query[item.name] = .string(item.value) }
            var headers = Value.Object()
            for (name, value) in head.headers { headers[name.lowercased()] = .string(value) }
            let id = UUID().uuidString.lowercased()
            let message: Value = [
                "method": .string(method), "path": .string(head.path), "params": .object(params),
                "query": .object(query), "headers": .object(headers),
                "body": .string(text), "bodyJson": bodyJson, "requestId": .string(id),
            ]
            let waiter = Waiter()
            lock.withLock { waiting[id] = waiter }
            // The run executes on a plain thread of its own.
            DispatchQueue.global().async {
                if let refused = startRun(message) {
                    self.answerIfWaiting(id, .error(409, refused))
                    return
                }
                self.answerIfWaiting(id, .error(500, "the flow ended without answering"))
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(timeout)) {
                self.answerIfWaiting(id, .error(504, "the flow did not answer in time"))
            }
            return waiter.wait()
        }

        func stopServing() { lock.withLock { listener }?.stop() }

        func answerIfWaiting(_ id: String, _ answer: ServerResponse) {
            if let waiter = lock.withLock({ waiting.removeValue(forKey: id) }) { waiter.resume(answer) }
        }

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
