import FlowrunExpression
import FlowrunRuntime
import FlowrunValue

/// Outbound writes of the http-client: what a request did to the destination record (its `outcome`), the
/// counters it adds to the run record, and the decisions taken before anything is sent (an unchanged hash,
/// a null required field) or in place of sending (dry runs).
enum HTTPOutbound {
    /// The request fields that steer outbound writes (part of the `request` port's shape).
    static let requestFields: [Field] = [
        Field(
            "hash", .string, required: false,
            doc: "the record's hash now: when it equals `lastHash`, nothing is sent (`outcome: skipped`)"),
        Field("lastHash", .any, required: false, doc: "the hash last synced (from `references`), or null"),
        Field(
            "required", .array(.string), required: false,
            doc: "fields of `json` that must not be null: when one is, nothing is sent (error `missing_source`)"),
        Field(
            "lookupUrl", .string, required: false,
            doc: "dry runs of an update: GET it first; a 404 is `missing_destination`"),
        Field(
            "recreate",
            .object([
                Field("url", .string), Field("method", .string, required: false),
                Field("json", .any, required: false, doc: "default: the update's `json`"),
            ]),
            required: false, doc: "a 404 answer to PUT/PATCH creates the record with this request instead"),
    ]

    /// What the request did (or, in a dry run, would do).
    static let outcomes = ["created", "updated", "deleted", "recreated", "skipped", "other"]

    /// The outcome and counter of a write that succeeded (or would).
    static func outcome(method: String) -> (String, Counter?) {
        switch method {
        case "POST": ("created", .created)
        case "PUT", "PATCH": ("updated", .updated)
        case "DELETE": ("deleted", .deleted)
        default: ("other", nil)
        }
    }

    /// Decisions before sending: an unchanged record is skipped, one with a null required field fails as
    /// missing source. Nil: go on and send.
    static func precheck(_ message: Value, _ request: HTTPRequest) -> AsyncResult? {
        if case .string(let hash) = message["hash"], message["lastHash"].stringValue == hash {
            return emitted(message, statusCode: 0, bodyJson: nil, outcome: "skipped", sent: false, [.skipped: 1])
        }
        if case .array(let fields) = message["required"] {
            let missing = fields.compactMap(\.stringValue).filter { message["json"][$0].isNull }
            if !missing.isEmpty {
                var result = AsyncResult.failure(
                    NodeError(
                        "not sent: required field\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) "
                            + "of \(request.method) \(HTTPClient.redactURL(request.url)) \(missing.count == 1 ? "is" : "are") null",
                        code: "missing_source"))
                result.counters[.missingSource] = 1
                return result
            }
        }
        return nil
    }

    /// A dry run's answer to a write that was not sent: it echoes the request's `json` as the body, so
    /// expressions reading the answer see the record's own fields.
    static func dryRunAnswer(_ message: Value, _ request: HTTPRequest, destinationMissing: Bool) -> AsyncResult {
        var (outcome, counter) = outcome(method: request.method)
        var counters: [Counter: Int] = [:]
        if destinationMissing {
            counters[.missingDestination] = 1
            if message["recreate"].isNull {
                return AsyncResult(
                    counters: counters,
                    error: NodeError(
                        "dry run: \(request.method) \(HTTPClient.redactURL(request.url)) would find no record (404)",
                        code: "http_404"))
            }
            (outcome, counter) = ("recreated", .created)
        }
        if let counter { counters[counter] = 1 }
        let wouldSend =
            switch outcome {
            case "created", "recreated": "create"
            case "updated": "update"
            case "deleted": "delete"
            default: "other"
            }
        return emitted(
            message, statusCode: 0, bodyJson: message["json"], outcome: outcome, sent: false, counters,
            extra: ["dryRun": true, "wouldSend": .string(wouldSend)])
    }

    /// A response message that did not come from the network.
    static func emitted(
        _ message: Value, statusCode: Int, bodyJson: Value, outcome: String, sent: Bool, _ counters: [Counter: Int],
        extra: Value.Object = [:]
    ) -> AsyncResult {
        var response: Value.Object = [
            "statusCode": .int(statusCode), "headers": [:], "body": "", "bodyJson": bodyJson, "durationMs": 0.0,
            "outcome": .string(outcome), "sent": .bool(sent),
        ]
        for (k, v) in extra { response[k] = v }
        return AsyncResult(
            emissions: [
                ("response", ["response": .object(response), "request": message, "context": message["context"]])
            ],
            counters: counters)
    }

    /// Whether a 404 to this request is a missing destination record.
    static func isUpdate(_ method: String) -> Bool { method == "PUT" || method == "PATCH" }

    /// The request that re-creates a record whose update found none.
    static func recreation(_ message: Value) -> Value? {
        guard case .object(let recreate) = message["recreate"], case .object(var m) = message else { return nil }
        m["method"] = recreate["method"] ?? "POST"
        m["url"] = recreate["url"] ?? .null
        if let json = recreate["json"], !json.isNull { m["json"] = json }
        return .object(m)
    }
}
