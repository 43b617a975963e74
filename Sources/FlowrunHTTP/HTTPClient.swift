import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Sends HTTP requests (libcurl) with retries, backoff, rate limiting and JSON decoding.
public enum HTTPClient {
    public static let request = Shape.object([
        Field(
            "method", .enumeration(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]), required: false,
            doc: "default GET"),
        Field("url", .string, doc: "absolute, or relative to `baseUrl`"),
        Field("queryParams", .anyObject, required: false, doc: "encoded into the query string"),
        Field("headers", .anyObject, required: false, doc: "added to `defaultHeaders`"),
        Field("body", .string, required: false, doc: "raw request body"),
        Field("json", .any, required: false, doc: "sent as application/json"),
        .contextField,
    ])

    static func responseShape(request: Shape, context: Shape) -> Shape {
        .object([
            Field(
                "response",
                .object([
                    Field("statusCode", .int), Field("headers", .anyObject), Field("body", .string),
                    Field("bodyJson", .any, doc: "parsed when the content type is JSON"), Field("durationMs", .number),
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
            last status. A JSON body that does not parse is an error, never null.
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
                doc: "Token bucket per node.", example: "{requests: 10, per: 1s}"),
            SettingDescriptor(
                "maxResponseBytes", .int, default: .int(64 << 20), doc: "Larger responses fail.", example: "1048576"),
            SettingDescriptor("concurrency", .int, default: 1, doc: "Requests in flight per node.", example: "4"),
            SettingDescriptor("followRedirects", .bool, default: true, doc: "Follow 3xx redirects.", example: "false"),
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
        transfer: { t in
            let input = t.input("request")
            if input.isNever { return ["response": .never] }
            return ["response": responseShape(request: input, context: t.context(of: "request"))]
        }
    )
}
