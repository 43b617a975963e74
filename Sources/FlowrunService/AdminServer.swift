import Flowrun
import FlowrunHTTP
import FlyingFox
import Foundation

/// The admin HTTP API of `flowrun serve` (FlyingFox): health, readiness, Prometheus metrics, flows,
/// runs, manual triggers, cancellation and disabling flows. Mutating calls need the bearer token when one is set.
public final class AdminServer: @unchecked Sendable {
    let service: Service
    let token: String?
    private let listener = BlockingServer()

    public init(service: Service, token: String?) {
        self.service = service
        self.token = token
    }

    /// Starts listening; throws when the address cannot be bound.
    public func start(host: String, port: UInt16) throws {
        let handler: @Sendable (FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse = { [self] request in
            let body = try await request.bodyData
            return await withCheckedContinuation { continuation in
                // Store and run calls block: they run on a plain thread, never the cooperative pool.
                DispatchQueue.global().async {
                    continuation.resume(returning: self.handle(request, body: body))
                }
            }
        }
        do {
            try listener.start(address: try .inet(ip4: host, port: port), timeout: 30, handler: handler)
        } catch {
            throw Service.ServiceError(description: "admin API cannot listen on \(host):\(port): \(error)")
        }
    }

    public func stop() { listener.stop() }

    func handle(_ request: FlyingFox.HTTPRequest, body: Data) -> FlyingFox.HTTPResponse {
        let method = request.method.rawValue.uppercased()
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
            return FlyingFox.HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: Data(service.metrics.text().utf8))
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
            if let denied = authorize(request) { return denied }
            // The body is the run's input, or {input?, dryRun?}.
            var input: Value?
            var dryRun = false
            if !body.isEmpty {
                do { input = try JSON.parse(bytes: Array(body)) } catch {
                    return Self.json(400, ["error": .string("the body is not JSON: \(error)")])
                }
                if let i = input, case .object(let o) = i, !o.isEmpty,
                    o.keys.allSatisfy({ $0 == "input" || $0 == "dryRun" })
                {
                    input = o["input"].flatMap { $0.isNull ? nil : $0 }
                    dryRun = o["dryRun"] == true
                }
            }
            guard let flow = service.flow(named: p[2]) else {
                return Self.json(404, ["error": .string("no flow \(p[2])")])
            }
            if flow.isDisabled { return Self.json(409, ["error": .string(flow.disabledMessage)]) }
            guard let start = flow.runtime.manualStart(input: input) else {
                return Self.json(409, ["error": .string("flow \(p[2]) has nothing to trigger")])
            }
            return Self.launched(
                service.launch(flow, start, trigger: .manual, dryRun: dryRun), flow: p[2], dryRun: dryRun)
        case ("POST", let p) where p.count == 4 && p[0] == "api" && p[1] == "runs" && p[3] == "retry":
            if let denied = authorize(request) { return denied }
            guard let old = try? service.store.run(id: p[2]) else {
                return Self.json(404, ["error": .string("no run \(p[2])")])
            }
            guard let flow = service.flow(named: old.flow) else {
                return Self.json(404, ["error": .string("flow \(old.flow) is not loaded")])
            }
            if flow.isDisabled { return Self.json(409, ["error": .string(flow.disabledMessage)]) }
            guard let start = flow.runtime.start(replaying: old) else {
                return Self.json(409, ["error": .string("run \(old.id) cannot be started again")])
            }
            return Self.launched(
                service.launch(flow, start, trigger: .retry, dryRun: old.dryRun, parent: old.id), flow: old.flow,
                dryRun: old.dryRun)
        case ("POST", let p)
        where p.count == 4 && p[0] == "api" && p[1] == "flows" && (p[3] == "disable" || p[3] == "enable"):
            if let denied = authorize(request) { return denied }
            guard let flow = service.flow(named: p[2]) else {
                return Self.json(404, ["error": .string("no flow \(p[2])")])
            }
            do { try flow.setDisabled(p[3] == "disable") } catch {
                return Self.json(503, ["error": .string("state store: \(error)")])
            }
            return Self.json(200, ["name": .string(flow.name), "disabled": .bool(p[3] == "disable")])
        case ("POST", let p) where p.count == 4 && p[0] == "api" && p[1] == "runs" && p[3] == "cancel":
            if let denied = authorize(request) { return denied }
            return service.cancel(runID: p[2])
                ? Self.json(202, ["id": .string(p[2]), "cancelling": true])
                : Self.json(404, ["error": .string("no run \(p[2]) in progress")])
        default:
            return Self.json(404, ["error": .string("no route for \(method) \(request.path)")])
        }
    }

    /// 202 with the new run, or 409 naming the run that holds the flow.
    static func launched(_ launch: Service.Launch, flow: String, dryRun: Bool) -> FlyingFox.HTTPResponse {
        switch launch {
        case .started(let id):
            return json(
                202, ["id": .string(id), "flow": .string(flow), "status": "running", "dryRun": .bool(dryRun)])
        case .busy(let reason):
            return json(409, ["error": .string(reason)])
        }
    }

    func authorize(_ request: FlyingFox.HTTPRequest) -> FlyingFox.HTTPResponse? {
        guard let token else { return nil }
        let given = Array((request.headers[HTTPHeader("Authorization")] ?? "").utf8)
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

    static func json(_ status: Int, _ value: Value) -> FlyingFox.HTTPResponse { BlockingServer.json(status, value) }
}

extension Service {
    public struct ServiceError: Error, CustomStringConvertible {
        public let description: String
    }
}
