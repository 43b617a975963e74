import Flowrun
import FlowrunHTTP
import Foundation

/// The admin HTTP API of `flowrun serve` (an `HTTPListener`): health, readiness, Prometheus metrics, flows,
/// runs, manual triggers, cancellation and disabling flows. Every call but the health probes needs the
/// bearer token when one is set.
public final class AdminServer: @unchecked Sendable {
    let service: Service
    let token: String?
    let pages: (any AdminPages)?
    private let listener: HTTPListener

    /// `token` nil or empty: no token (only allowed on a loopback address, see `AdminAddress`). `pages`
    /// (the console) answers the paths it owns.
    public init(
        service: Service, token: String?, limits: ListenerLimits = AdminServer.limits, pages: (any AdminPages)? = nil
    ) {
        self.service = service
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.listener = HTTPListener(limits: limits)
        self.pages = pages
    }

    /// The admin API's limits: small bodies (a run's input), the listener's default deadlines.
    public static let limits: ListenerLimits = {
        var limits = ListenerLimits()
        limits.bodyBytes = 4 << 20
        limits.maxConnections = 64
        return limits
    }()

    /// The bound port (useful with port 0).
    public var port: UInt16 { listener.port }

    /// Starts listening; throws when the address cannot be bound.
    public func start(host: String, port: UInt16) throws {
        let handler = RequestHandler(
            admit: { [self] head in
                if let pages, pages.owns(head) { return pages.admit(head) }
                // Every call but the probes needs the token when one is set, checked before any body is read.
                return Self.isProbe(head) ? nil : authorize(head)
            },
            respond: { [self] request in
                if let pages, pages.owns(request.head) { return pages.respond(request) }
                return handle(request.head, body: request.body)
            })
        do throws(HTTPListener.ListenError) {
            try listener.start(host: host, port: port, handler: handler)
        } catch {
            throw Service.ServiceError(description: "admin API cannot listen on \(host):\(port): \(error)")
        }
    }

    public func stop() { listener.stop() }

    /// `GET /healthz` and `GET /readyz` answer without a token, for load balancers and orchestrators.
    static func isProbe(_ head: RequestHead) -> Bool {
        (head.method == "GET" || head.method == "HEAD") && (head.path == "/healthz" || head.path == "/readyz")
    }

    func handle(_ request: RequestHead, body: [UInt8]) -> ServerResponse {
        var method = request.method.uppercased()
        if method == "HEAD" { method = "GET" }
        let parts = request.path.split(separator: "/").map(String.init)
        switch (method, parts) {
        case ("GET", ["healthz"]):
            return Self.json(200, ["status": "ok"])
        case ("GET", ["readyz"]):
            let ready = service.isReady
            return Self.json(
                ready ? 200 : 503,
                ["ready": .bool(ready), "flows": .int(service.flows.count), "problems": .int(service.problems.count)])
        case ("GET", ["metrics"]):
            return ServerResponse(
                status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                body: Array(service.metrics.text(inFlight: service.liveRecords()).utf8))
        case ("GET", ["api", "cluster"]):
            do {
                let replicas = try ClusterRegistry.replicas(service.store, now: service.options.clock())
                return Self.json(200, ["node": .string(service.options.node), "replicas": .array(replicas)])
            } catch {
                return Self.json(503, ["error": .string("the state store did not answer")])
            }
        case ("GET", ["api", "flows"]):
            return Self.json(200, .array(service.flows.map(Self.flowJSON)))
        case ("GET", ["api", "runs"]):
            var query: [String: String] = [:]
            for item in request.query { query[item.name] = item.value }
            let limit = min(1000, max(1, Int(query["limit"] ?? "") ?? 50))
            let status = query["status"]
            do {
                let records = try service.store.runs(flow: query["flow"], limit: status == nil ? limit : 1000)
                    .filter { status == nil || $0.status.rawValue == status }.prefix(limit)
                return Self.json(200, .array(records.map { Running.json(service.redacted($0)) }))
            } catch {
                return Self.json(503, ["error": .string("state store: \(error)")])
            }
        case ("GET", let p) where p.count == 3 && p[0] == "api" && p[1] == "runs":
            guard let record = try? service.store.run(id: p[2]) else {
                return Self.json(404, ["error": .string("no run \(p[2])")])
            }
            return Self.json(200, Running.json(service.redacted(record)))
        case ("POST", let p) where p.count == 4 && p[0] == "api" && p[1] == "flows" && p[3] == "runs":
            // The body is the run's input, or {input?, dryRun?}.
            var input: Value?
            var dryRun = false
            if !body.isEmpty {
                do { input = try JSON.parse(bytes: body) } catch {
                    return Self.json(400, ["error": .string("the body is not JSON: \(error)")])
                }
                if let i = input, case .object(let o) = i, !o.isEmpty,
                    o.keys.allSatisfy({ $0 == "input" || $0 == "dryRun" })
                {
                    input = o["input"].flatMap { $0.isNull ? nil : $0 }
                    dryRun = o["dryRun"] == true
                }
            }
            return Self.started(service.startRun(flow: p[2], input: input, dryRun: dryRun), flow: p[2], dryRun: dryRun)
        case ("POST", let p) where p.count == 4 && p[0] == "api" && p[1] == "runs" && p[3] == "retry":
            let old = try? service.store.run(id: p[2])
            return Self.started(service.retryRun(id: p[2]), flow: old?.flow ?? "", dryRun: old?.dryRun ?? false)
        case ("POST", let p)
        where p.count == 4 && p[0] == "api" && p[1] == "flows" && (p[3] == "disable" || p[3] == "enable"):
            guard let flow = service.flow(named: p[2]) else {
                return Self.json(404, ["error": .string("no flow \(p[2])")])
            }
            do { try flow.setDisabled(p[3] == "disable") } catch {
                return Self.json(503, ["error": .string("state store: \(error)")])
            }
            return Self.json(200, ["name": .string(flow.name), "disabled": .bool(p[3] == "disable")])
        case ("POST", let p) where p.count == 4 && p[0] == "api" && p[1] == "runs" && p[3] == "cancel":
            return service.cancel(runID: p[2])
                ? Self.json(202, ["id": .string(p[2]), "cancelling": true])
                : Self.json(404, ["error": .string("no run \(p[2]) in progress")])
        default:
            return Self.json(404, ["error": .string("no route for \(method) \(request.path)")])
        }
    }

    /// 202 with the new run, or the refusal (409 naming the run that holds the flow).
    static func started(_ result: Result<String, Service.Refusal>, flow: String, dryRun: Bool) -> ServerResponse {
        switch result {
        case .success(let id):
            return json(
                202, ["id": .string(id), "flow": .string(flow), "status": "running", "dryRun": .bool(dryRun)])
        case .failure(let refusal):
            return json(refusal.status, ["error": .string(refusal.description)])
        }
    }

    func authorize(_ request: RequestHead) -> ServerResponse? {
        guard let token else { return nil }
        let given = Array((request.header("Authorization") ?? "").utf8)
        return Digest.constantTimeEqual(given, Array("Bearer \(token)".utf8))
            ? nil : Self.json(401, ["error": "missing or wrong bearer token"])
    }

    static func flowJSON(_ s: FlowService) -> Value {
        [
            "name": .string(s.name), "file": .string(s.file), "health": .string(s.healthState.rawValue),
            "disabled": .bool(s.isDisabled), "running": .bool(s.isRunning),
            "nextRun": s.nextRun.map { .string(Time.rfc3339(nanos: $0)) } ?? .null,
            "skippedSlots": .int(s.skippedSlots),
            "lastRun": s.lastRun.map { r in
                [
                    "id": .string(r.id), "status": .string(r.status.rawValue),
                    "startedAt": .string(Time.rfc3339(nanos: r.startedAt)),
                ]
            } ?? .null,
        ]
    }

    static func json(_ status: Int, _ value: Value) -> ServerResponse { .json(status, value) }
}

/// Pages served on the admin listener beside the API (the console): they own the paths `owns` accepts
/// and check credentials themselves in `admit` (a session cookie or the bearer token), before any body
/// byte is read.
public protocol AdminPages: Sendable {
    func owns(_ head: RequestHead) -> Bool
    func admit(_ head: RequestHead) -> ServerResponse?
    func respond(_ request: ServerRequest) -> ServerResponse
}

extension Service {
    public struct ServiceError: Error, CustomStringConvertible {
        public let description: String
    }
}
