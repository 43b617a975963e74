import Dispatch
import Foundation
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Sends HTTP requests (libcurl) with retries, backoff, rate limiting and JSON decoding.
public enum HTTPClient {
    public static let request = Shape.object(
        [
            Field(
                "method", .enumeration(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]), required: false,
                doc: "default GET"),
            Field("url", .string, doc: "absolute, or relative to `baseUrl`"),
            Field("queryParams", .anyObject, required: false, doc: "encoded into the query string"),
            Field("headers", .anyObject, required: false, doc: "added to `defaultHeaders`"),
            Field("body", .string, required: false, doc: "raw request body"),
            Field("json", .any, required: false, doc: "sent as application/json"),
            Field("pagination", .anyObject, required: false, doc: "a `paginate` node's bookkeeping, not sent"),
        ] + HTTPOutbound.requestFields + [.contextField])

    static func responseShape(request: Shape, context: Shape, body: Shape = .any) -> Shape {
        .object([
            Field(
                "response",
                .object([
                    Field("statusCode", .int, doc: "0 when nothing was sent (a dry run, a skipped record)"),
                    Field(
                        "headers", .anyObject,
                        doc:
                            "by lower-case name (`link`, `content-type`), as HTTP/2 sends them; the checker warns (W403) on other spellings"
                    ),
                    Field("body", .string),
                    Field(
                        "bodyJson", body,
                        doc:
                            "parsed when the content type is JSON (else null); of the node's `responseSchema` when it has one; dry runs: the request's `json`; skipped: null"
                    ),
                    Field("durationMs", .number),
                    Field(
                        "outcome", .enumeration(HTTPOutbound.outcomes),
                        doc: "what the request did (dry runs: would do): POST created, PUT/PATCH updated, ..."),
                    Field("sent", .bool, doc: "false for dry-run writes and skipped records"),
                    Field("dryRun", .bool, required: false, doc: "dry runs: the request was not sent"),
                    Field(
                        "wouldSend", .enumeration(["create", "update", "delete", "other"]), required: false,
                        doc: "dry runs: what the unsent request would have done (POST, PUT/PATCH, DELETE)"),
                ])),
            Field("request", request),
            Field("context", context),
        ])
    }

    public static let descriptor = ComponentDescriptor(
        name: "http-client",
        summary: "Sends HTTP requests with retries, backoff with jitter, Retry-After, rate limiting and JSON decoding.",
        doc: """
            Transport errors, 408, 425, 429 and 5xx are retried up to `retryCount` times with exponential
            backoff from `retryDelay` with full jitter; `Retry-After` is honoured up to `maxRetryAfter`. Other
            4xx are not retried. After the last attempt the message goes to `error` with `retryable` and the
            last status. A JSON body that does not parse is an error, never null. Response headers are keyed
            by lower-case name (`$.response.headers.link`, `['retry-after']`); the checker warns (W403) on
            another spelling, which would read null. With `responseSchema`, `bodyJson` has that shape at load
            time, so `$.response.bodyJson.hasMore` for a body with `has_more` is an error (E107).

            Outbound writes are counted on the run record: a POST answered 2xx is `created`, a PUT/PATCH
            `updated`, a DELETE `deleted` (the response's `outcome` says which). A request whose `hash` equals
            its `lastHash` is not sent: `outcome: skipped`, counted `skipped`. One whose `json` has a null
            field named in `required` is not sent: error `missing_source`, counted `missing_source`. A 404
            to a PUT/PATCH counts `missing_destination`; with `recreate: {url}` the record is then created
            with a POST of the same `json` (`outcome: recreated`, counted `created` too). Dry runs send no
            writes: the answer has `statusCode: 0`, `sent: false`, the request's `json` as `bodyJson`, and
            the same outcome and counters a live run would give; an update with a `lookupUrl` GETs it first,
            so a record missing at the destination is reported as `missing_destination`.
            """,
        isIO: true,
        settings: [
            SettingDescriptor(
                "baseUrl", .string, doc: "Prefix for relative `url`s.", example: "https://api.example.com/v1"),
            SettingDescriptor(
                "defaultHeaders", .anyObject, default: [:], doc: "Headers sent with every request.",
                example: "{Authorization: \"Bearer <<secrets.apiToken>>\"}"),
            SettingDescriptor("timeout", .duration, default: "30s", doc: "Per-attempt timeout.", example: "60s"),
            SettingDescriptor("retryCount", .int, default: 3, doc: "Retries after the first attempt.", example: "5"),
            SettingDescriptor(
                "retryDelay", .duration, default: "1s", doc: "First backoff delay; doubles per retry.", example: "5s"),
            SettingDescriptor(
                "maxRetryAfter", .duration, default: "5m", doc: "Longest `Retry-After` honoured.", example: "1m"),
            SettingDescriptor(
                "rateLimit", .object([Field("requests", .int), Field("per", .duration)]),
                doc:
                    "At most `requests` in any window of `per` (a sliding window, no bursts past it), per node or shared by the nodes of a connection.",
                example: "{requests: 10, per: 1s}"),
            SettingDescriptor(
                "maxResponseBytes", .int, default: .int(64 << 20), doc: "Larger responses fail.", example: "1048576"),
            SettingDescriptor("concurrency", .int, default: 1, doc: "Requests in flight per node.", example: "4"),
            SettingDescriptor("followRedirects", .bool, default: true, doc: "Follow 3xx redirects.", example: "false"),
            SettingDescriptor(
                "responseSchema", .any,
                doc:
                    "The shape of the JSON body (`response.bodyJson`), checked at load time: reading a field it lacks is an error. Type names (`string int number bool null any object array`, `?` allows null), mappings of fields (`name?:` optional, `...:` allows others), a list of one shape for an array.",
                example: "{data: [{id: string, email: string?}], has_more: bool}", evaluation: .literal),
        ],
        ports: [
            .input("request", request, doc: "A request to send."),
            .output(
                "response", responseShape(request: request, context: .any),
                doc: "The response, the request and its context."),
        ],
        example: """
            fetch-page:
              component: http-client
              settings:
                baseUrl: <<env.API_BASE_URL ?? 'http://127.0.0.1:8089'>>
                retryCount: 3
            """,
        dryRun:
            "GET and HEAD are sent as usual (reads). Other methods are not sent: the response is `{statusCode: 0, headers: {}, body: '', bodyJson: null, durationMs: 0, dryRun: true, wouldSend: create|update|delete|other}` (POST, PUT/PATCH, DELETE), and the run counts them as created, updated or deleted.",
        connection: ConnectionKind(
            "http",
            settings: ["baseUrl", "defaultHeaders", "timeout", "rateLimit", "maxRetryAfter", "followRedirects"],
            requiresOneOf: ["baseUrl"], shared: "the rate limit: every node using the connection counts against it",
            sharedSettings: ["rateLimit"]),
        validate: { settings in
            guard let notation = settings["responseSchema"] else { return [] }
            do { _ = try Shape(notation: notation) } catch { return [("responseSchema", "responseSchema: \(error)")] }
            return []
        },
        transfer: { t in
            let input = t.input("request")
            if input.isNever { return ["response": .never] }
            return [
                "response": responseShape(
                    request: input, context: t.context(of: "request"), body: bodyShape(t.settings["responseSchema"]))
            ]
        }
    )
}

extension HTTPClient {
    /// The shape of `bodyJson`: the declared `responseSchema` (or null: a response that is not JSON), else any.
    static func bodyShape(_ notation: Value?) -> Shape {
        guard let notation, let shape = try? Shape(notation: notation) else { return .any }
        return .optional(shape)
    }

    /// Sends each request through the shared libcurl engine with retries, backoff with full jitter,
    /// `Retry-After`, a rate limit (per node, or shared by the nodes of a named connection), and JSON
    /// decoding. Immutable apart from the limiter, which locks: safe to share across runs and threads.
    final class Instance: AsyncComponent, @unchecked Sendable {
        let ownLimiter = SharedRateLimiter()
        /// The named connection the node uses (`connection: crm`), if any: its rate limit is shared.
        let connection: String?
        let transport: any HTTPTransport

        init(connection: String? = nil, transport: any HTTPTransport = CurlEngine.shared) {
            self.connection = connection
            self.transport = transport
        }

        func limiter(_ context: AsyncContext) -> SharedRateLimiter {
            guard let connection else { return ownLimiter }
            return RateLimiters.shared(context.flowName + "/" + connection)
        }

        func start(
            _ message: Value, on port: String, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            let request: HTTPRequest
            do { request = try HTTPClient.build(message, context) } catch {
                done(.failure(error))
                return
            }
            if let early = HTTPOutbound.precheck(message, request) {
                done(early)
                return
            }
            let policy = RetryPolicy(context)
            let origin = (context.flowName, context.nodeName, context.redactor)
            // Configured before anything is sent, so a dry run's lookups are rate limited too.
            let limiter = limiter(context)
            if case .object(let rate) = context.setting("rateLimit"), let n = rate["requests"]?.intValue, n > 0,
                case .string(let per) = rate["per"] ?? .null, let window = Durations.parse(per)
            {
                limiter.configure(requests: n, perNanos: window)
            }
            if context.isDryRun, !["GET", "HEAD"].contains(request.method) {
                // Not sent: reported as what it would have done, on the run record and in the summary.
                guard HTTPOutbound.isUpdate(request.method), case .string(let lookup) = message["lookupUrl"] else {
                    done(HTTPOutbound.dryRunAnswer(message, request, destinationMissing: false))
                    return
                }
                var get = message.objectValue ?? [:]
                get["method"] = "GET"
                get["url"] = .string(lookup)
                get["json"] = nil
                get["body"] = nil
                let lookupRequest: HTTPRequest
                do { lookupRequest = try HTTPClient.build(.object(get), context) } catch {
                    done(.failure(error))
                    return
                }
                attempt(1, lookupRequest, message, policy, limiter, origin: origin) { found in
                    let missing = found.error?.code == "http_404"
                    if let error = found.error, !missing {
                        done(.failure(error))
                        return
                    }
                    var answer = HTTPOutbound.dryRunAnswer(message, request, destinationMissing: missing)
                    answer.counters[.requests, default: 0] += found.counters[.requests] ?? 0
                    done(answer)
                }
                return
            }
            guard HTTPOutbound.isUpdate(request.method), let recreation = HTTPOutbound.recreation(message) else {
                attempt(1, request, message, policy, limiter, origin: origin, done)
                return
            }
            // A 404 to the update: the destination record is gone, so it is created again.
            attempt(1, request, message, policy, limiter, origin: origin) { [self] result in
                guard result.error?.code == "http_404" else { return done(result) }
                let create: HTTPRequest
                do throws(NodeError) { create = try HTTPClient.build(recreation, context) } catch {
                    return done(.failure(error))
                }
                attempt(1, create, message, policy, limiter, origin: origin) { created in
                    var answer = created
                    answer.counters[.missingDestination, default: 0] += 1
                    answer.counters[.requests, default: 0] += result.counters[.requests] ?? 0
                    if !answer.emissions.isEmpty, case .object(var out) = answer.emissions[0].message,
                        case .object(var response) = out["response"]
                    {
                        response["outcome"] = "recreated"
                        out["response"] = .object(response)
                        answer.emissions[0].message = .object(out)
                    }
                    done(answer)
                }
            }
        }

        func attempt(
            _ n: Int, _ request: HTTPRequest, _ message: Value, _ policy: RetryPolicy, _ limiter: SharedRateLimiter,
            origin: (flow: String, node: String, redactor: Redactor),
            _ finish: @escaping @Sendable (AsyncResult) -> Void
        ) {
            // The final outcome carries the number of requests sent, retries included.
            let done: @Sendable (AsyncResult) -> Void = { result in
                var counted = result
                counted.counters[.requests, default: 0] += n
                finish(counted)
            }
            // Waiting for the rate limit never uses up a retry.
            let send: @Sendable () -> Void = { [self] in
                transport.send(request) { result in
                    switch result {
                    case .success(let response):
                        Telemetry.sink?.httpResponse(flow: origin.flow, node: origin.node, status: response.statusCode)
                        if (200..<400).contains(response.statusCode) {
                            done(HTTPClient.success(response, request, message))
                            return
                        }
                        let retryable = HTTPClient.isRetryable(status: response.statusCode)
                        if retryable, n <= policy.retries {
                            let delay = policy.delay(attempt: n, retryAfter: response.header("retry-after"))
                            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(delay)) {
                                self.attempt(n + 1, request, message, policy, limiter, origin: origin, finish)
                            }
                            return
                        }
                        // Redacted before it is cut, so that the cut cannot leave half a secret behind.
                        let gone =
                            response.statusCode == 404 && HTTPOutbound.isUpdate(request.method)
                            && message["recreate"].isNull
                        let text = String(
                            origin.redactor.redact(String(decoding: response.body.prefix(4096), as: UTF8.self)).prefix(
                                200))
                        var failed = AsyncResult.failure(
                            NodeError(
                                "HTTP \(response.statusCode) from \(request.method) \(HTTPClient.redactURL(request.url))"
                                    + (n > 1 ? " after \(n) attempts" : "") + (text.isEmpty ? "" : ": \(text)"),
                                code: "http_\(response.statusCode)", retryable: retryable))
                        if gone { failed.counters[.missingDestination] = 1 }
                        done(failed)
                    case .failure(let error):
                        Telemetry.sink?.httpResponse(flow: origin.flow, node: origin.node, status: 0)
                        if n <= policy.retries {
                            DispatchQueue.global().asyncAfter(
                                deadline: .now() + .nanoseconds(policy.delay(attempt: n, retryAfter: nil))
                            ) {
                                self.attempt(n + 1, request, message, policy, limiter, origin: origin, finish)
                            }
                            return
                        }
                        done(
                            .failure(
                                NodeError(
                                    "\(request.method) \(HTTPClient.redactURL(request.url)) failed"
                                        + (n > 1 ? " after \(n) attempts" : "")
                                        + ": \(error.message)",
                                    code: error.timedOut ? "timeout" : "transport", retryable: true)))
                    }
                }
            }
            limiter.whenAllowed(send)
        }
    }

    public static let factory: ComponentFactory = { node in Instance(connection: node.connection) }

    /// http-client nodes that send through `transport` instead of libcurl (`flowrun test`'s fixtures).
    public static func factory(transport: any HTTPTransport) -> ComponentFactory {
        { node in Instance(connection: node.connection, transport: transport) }
    }

    /// Transport errors, 408, 425, 429 and 5xx are worth another attempt; other statuses are not.
    static func isRetryable(status: Int) -> Bool { status == 408 || status == 425 || status == 429 || status >= 500 }

    static func success(_ response: HTTPResponse, _ request: HTTPRequest, _ message: Value) -> AsyncResult {
        var headers = Value.Object()
        for (k, v) in response.headers { headers[k] = .string(v) }
        let body = String(decoding: response.body, as: UTF8.self)
        var bodyJson = Value.null
        if let type = response.header("content-type"), type.lowercased().contains("json"), !response.body.isEmpty {
            do { bodyJson = try JSON.parse(bytes: response.body) } catch {
                return .failure(
                    NodeError(
                        "the response of \(request.method) \(redactURL(request.url)) is not valid JSON: \(error.description)",
                        code: "bad_json", retryable: false))
            }
        }
        let (outcome, counter) = HTTPOutbound.outcome(method: request.method)
        let out: Value = [
            "response": [
                "statusCode": .int(response.statusCode), "headers": .object(headers), "body": .string(body),
                "bodyJson": bodyJson, "durationMs": .double((response.durationMillis * 1000).rounded() / 1000),
                "outcome": .string(outcome), "sent": true,
            ],
            "request": message, "context": message["context"],
        ]
        return AsyncResult(emissions: [("response", out)], counters: counter.map { [$0: 1] } ?? [:])
    }

    /// Builds the request from the message and the settings: `baseUrl` + relative `url`, encoded
    /// `queryParams`, `defaultHeaders` then `headers`, and `body` or `json`.
    static func build(_ message: Value, _ context: AsyncContext) throws(NodeError) -> HTTPRequest {
        guard case .string(let path) = message["url"] else {
            throw NodeError("the request has no `url`", code: "bad_request")
        }
        var url = path
        if !(path.hasPrefix("http://") || path.hasPrefix("https://")) {
            guard case .string(let base) = context.setting("baseUrl"), !base.isEmpty else {
                throw NodeError("relative url '\(path)' and no `baseUrl` setting", code: "bad_request")
            }
            url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + (path.hasPrefix("/") ? path : "/" + path)
        }
        if case .object(let params) = message["queryParams"], !params.isEmpty {
            var parts: [String] = []
            for (k, v) in params {
                let values: [Value] = v.arrayValue ?? [v]
                for item in values where !item.isNull {
                    parts.append(percentEncode(k) + "=" + percentEncode(item.interpolated))
                }
            }
            if !parts.isEmpty { url += (url.contains("?") ? "&" : "?") + parts.joined(separator: "&") }
        }
        var headers: [(String, String)] = []
        for source in [context.setting("defaultHeaders"), message["headers"]] {
            guard case .object(let h) = source else { continue }
            for (k, v) in h where !v.isNull {
                headers.removeAll { $0.0.lowercased() == k.lowercased() }
                headers.append((k, v.interpolated))
            }
        }
        var body: [UInt8]?
        if case .string(let text) = message["body"] {
            body = Array(text.utf8)
        } else if !message["json"].isNull {
            body = Array(JSON.serialize(message["json"]).utf8)
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                headers.append(("Content-Type", "application/json"))
            }
        }
        // The run's correlation id travels with every request (logs on both sides can be joined).
        if !headers.contains(where: { $0.0.lowercased() == "x-correlation-id" }) {
            headers.append(("X-Correlation-ID", context.runID))
        }
        let method = (message["method"].stringValue ?? "GET").uppercased()
        let timeout = context.setting("timeout").stringValue.flatMap(Durations.parse) ?? 30_000_000_000
        return HTTPRequest(
            method: method, url: url, headers: headers, body: body, timeoutMillis: max(1, timeout / 1_000_000),
            maxResponseBytes: context.setting("maxResponseBytes").intValue ?? 64 << 20,
            followRedirects: context.setting("followRedirects").isTruthy)
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// URLs in errors and logs lose their query string and credentials.
    static func redactURL(_ url: String) -> String {
        var u = url
        if let q = u.firstIndex(of: "?") { u = String(u[..<q]) }
        if let scheme = u.range(of: "://"), let at = u[scheme.upperBound...].firstIndex(of: "@") {
            u = String(u[..<scheme.upperBound]) + "***@" + String(u[u.index(after: at)...])
        }
        return u
    }
}

/// Retry timing: exponential backoff from `retryDelay` with full jitter, or `Retry-After` (seconds or
/// an HTTP date) up to `maxRetryAfter`.
struct RetryPolicy: Sendable {
    let retries: Int
    let baseNanos: Int
    let maxRetryAfterNanos: Int

    init(_ context: AsyncContext) {
        retries = max(0, context.setting("retryCount").intValue ?? 3)
        baseNanos = context.setting("retryDelay").stringValue.flatMap(Durations.parse) ?? 1_000_000_000
        maxRetryAfterNanos = context.setting("maxRetryAfter").stringValue.flatMap(Durations.parse) ?? 300_000_000_000
    }

    init(retries: Int, baseNanos: Int, maxRetryAfterNanos: Int) {
        self.retries = retries
        self.baseNanos = baseNanos
        self.maxRetryAfterNanos = maxRetryAfterNanos
    }

    func delay(attempt: Int, retryAfter: String?, now: Date = Date()) -> Int {
        if let header = retryAfter?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Int(header), seconds >= 0 {
                // A server's huge Retry-After overflows in nanoseconds: it is just "longer than the cap".
                let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
                return overflow ? maxRetryAfterNanos : min(nanos, maxRetryAfterNanos)
            }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: header) {
                // Clamped as a double first: a date in year 9999 is more nanoseconds than an int holds.
                let wait = min(max(0, date.timeIntervalSince(now) * 1e9), Double(maxRetryAfterNanos))
                return Int(wait)
            }
        }
        let cap = baseNanos.multipliedReportingOverflow(by: 1 << min(attempt - 1, 20))
        let ceiling = cap.overflow ? Int.max / 2 : cap.partialValue
        return Int.random(in: 0...max(0, min(ceiling, 3_600_000_000_000)))
    }
}
