import FlowrunExpression
import FlowrunGraph
import FlowrunRuntime
import FlowrunValue

/// Turns an http-client response (and the request that produced it) into the request for the next page,
/// or ends the pagination; hands each page's records on and guards against sources that shift or repeat.
public enum Paginate {
    public static let strategies = ["page_number", "offset", "cursor", "next_url", "link_header"]

    static let pathDoc =
        "A path into the response body (`data`, `meta.total`, `data[-1].id`), or `<<expr>>` on the response message."

    public static let descriptor = ComponentDescriptor(
        name: "paginate",
        summary:
            "Turns a response into the next page's request on `next`, or ends on `done`; emits each page's records.",
        doc: """
            The loop stays in the graph: `fetch.response -> pages.in`, `pages.next -> fetch.request`, and a
            request on `start` sends the first page (with the page, offset or size parameters added). Strategies:
            `page_number` (`pageParam` from `start`), `offset` (`offsetParam` advanced by the records received),
            `cursor` (the token at `cursor` into the query parameter `cursorParam` or the JSON body field
            `cursorField`), `next_url` (the URL at `nextUrl`) and `link_header` (RFC 5988 `rel="next"` of the
            `link` header; http-client lower-cases header names). Pagination ends on `done` when a page is empty
            (whatever `total` says), shorter than `pageSize`, `hasMore` is false, the pages or records of
            `totalPages`/`total` were read, or no cursor or next URL is left. It fails (`error`, codes
            `max_pages`, `repeated_page`, `repeated_token`) when `maxPages` is reached or a page, token or URL
            repeats, so a run never completes while records may be left behind.

            Source safety: with `key`, a record key served twice in one run (by two pages, or twice on one page)
            means the source shifted under the run and a neighbour may have been skipped. Paging goes on to
            the end, and the node fails once with code `source_shifted`: the run ends `completed_with_errors`
            and, as that failure carries no version, `state` commits no checkpoint, so the next run re-reads
            from the old cursor and picks up whatever was skipped. With `order: newest_first` (a source
            sorted newest first), `total` and `totalPages` are not trusted to end the pagination: only an
            empty or short page, `hasMore` or a missing cursor does, so the cursor is committed only by a run
            that read to the end. Every page counts in the run's `pages` counter.
            """,
        isConditional: true,
        settings: [
            SettingDescriptor(
                "strategy", .enumeration(strategies), required: true, doc: "How the next page is asked for.",
                example: "page_number", evaluation: .literal),
            SettingDescriptor(
                "records", .any, doc: "The page's records (default: the body, when it is an array). " + pathDoc,
                example: "data", evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "key", .string, doc: "A path into each record to its key: a key served twice in a run fails it.",
                example: "id", evaluation: .literal),
            SettingDescriptor(
                "pageSize", .int, doc: "Records per page: sent as `sizeParam`; a shorter page is the last.",
                example: "100"),
            SettingDescriptor(
                "sizeParam", .string, doc: "The query parameter carrying `pageSize` (`offset`: default `limit`).",
                example: "per_page"),
            SettingDescriptor(
                "pageParam", .string, default: "page", doc: "`page_number`: the page query parameter.",
                example: "page"),
            SettingDescriptor("start", .int, default: 1, doc: "`page_number`: the first page's number.", example: "0"),
            SettingDescriptor(
                "offsetParam", .string, default: "offset", doc: "`offset`: the offset query parameter.",
                example: "skip"),
            SettingDescriptor(
                "total", .any, doc: "Records in the whole source (ends `page_number` and `offset`). " + pathDoc,
                example: "total", evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "totalPages", .any, doc: "`page_number`: pages in the whole source. " + pathDoc,
                example: "meta.pages", evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "hasMore", .any, doc: "Whether another page follows (false ends). " + pathDoc, example: "has_more",
                evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "cursor", .any, doc: "`cursor`: the next page's token (missing ends). " + pathDoc,
                example: "data[-1].id", evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "cursorParam", .string, doc: "`cursor`: the query parameter that carries the token.",
                example: "starting_after"),
            SettingDescriptor(
                "cursorField", .string, doc: "`cursor`: the JSON body field that carries the token (POST APIs).",
                example: "cursor"),
            SettingDescriptor(
                "nextUrl", .any, doc: "`next_url`: the next page's URL (missing ends). " + pathDoc,
                example: "links.next", evaluation: .perMessage(port: "in")),
            SettingDescriptor(
                "maxPages", .int, default: 10000, doc: "More pages than this in one pagination fail it (`max_pages`).",
                example: "500"),
            SettingDescriptor(
                "order", .enumeration(["oldest_first", "newest_first"]), default: "oldest_first",
                doc: "How the source sorts its records; `newest_first` does not trust `total` or `totalPages`.",
                example: "newest_first"),
        ],
        ports: [
            .input("start", .anyObject, doc: "An http-client request for the first page; goes out on `next`."),
            .input(
                "in",
                .object(
                    [
                        Field("response", .anyObject), Field("request", .anyObject), .contextField,
                    ], open: true), doc: "An http-client response (it carries its request and context)."),
            .output(
                "next", .anyObject,
                doc: "The next page's http-client request, with the flow's `context` and a `pagination` field."),
            .output(
                "records",
                .object([
                    Field("records", .array(.any)), Field("page", .int, doc: "1-based, within this pagination"),
                    Field("total", .any, doc: "the value at `total`, or null"), Field("context", .any),
                ]), doc: "Each page's records, unless the page is empty (also when it ends or fails the pagination)."),
            .output(
                "done",
                .object([
                    Field("pages", .int), Field("reason", .string, doc: "why the pagination ended"),
                    Field("context", .any),
                ]), doc: "After the last page's records."),
        ],
        example: """
            pages:
              component: paginate
              settings: {strategy: page_number, records: data, key: id, pageSize: 100, sizeParam: limit}
            """,
        validate: { settings in
            var problems: [(setting: String, message: String)] = []
            let strategy = settings["strategy"]?.stringValue
            if strategy == "cursor", !settings.has("cursor") {
                problems.append(("cursor", "the `cursor` strategy needs `cursor`, the path of the next token"))
            }
            if strategy == "cursor", !settings.has("cursorParam"), !settings.has("cursorField") {
                problems.append(("cursorParam", "the `cursor` strategy needs `cursorParam` or `cursorField`"))
            }
            if strategy == "next_url", !settings.has("nextUrl") {
                problems.append(("nextUrl", "the `next_url` strategy needs `nextUrl`, the path of the next URL"))
            }
            return problems
        },
        transfer: { t in
            let start = t.input("start")
            let response = t.input("in")
            if start.isNever, response.isNever { return ["next": .never, "records": .never, "done": .never] }
            let context = Shape.join(t.context(of: "start"), t.context(of: "in"))
            // The next request is the request that came in, changed: the http-client request shape.
            var request = Shape.join(start, response.field("request") ?? .never)
            if case .object(let o) = request {
                request = .object(o.spreading(ObjectShape([Field("pagination", .anyObject)])))
            }
            return [
                "next": request,
                "records": .object([
                    Field("records", .array(.any)), Field("page", .int), Field("total", .any),
                    Field("context", context),
                ]),
                "done": .object([Field("pages", .int), Field("reason", .string), Field("context", context)]),
            ]
        }
    )
}

extension Paginate {
    /// What one run remembers of each pagination (a chain of requests from one `start`).
    final class Chains {
        var nextID = 0
        var chains: [Int: Chain] = [:]
    }

    final class Instance: Component {
        let config: Config
        let node: CheckedNode

        init(_ node: CheckedNode) {
            self.node = node
            self.config = Config(node)
        }

        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            let chains = context.runLocal { Chains() }
            let settings = Settings(context)
            if port == "start" {
                let id = chains.nextID
                chains.nextID += 1
                chains.chains[id] = Chain()
                context.emit("next", config.first(message, settings, chain: id))
                return
            }
            let request = message["request"]
            let id: Int
            if let known = request["pagination"]["chain"].intValue, chains.chains[known] != nil {
                id = known
            } else {
                id = chains.nextID
                chains.nextID += 1
            }
            let chain = chains.chains[id] ?? Chain()
            chains.chains[id] = chain
            context.count(.pages)
            let page = try Page(message, node: node, globals: context.globals)
            let step = config.step(request: request, page: page, settings: settings, chain: chain, id: id)
            let ctx = message["context"]
            switch step.outcome {
            case .next(let next): context.emit("next", next)
            case .done(let reason):
                chains.chains[id] = nil
                context.emit("done", ["pages": .int(chain.pages), "reason": .string(reason), "context": ctx])
            case .failed: chains.chains[id] = nil
            }
            // Emitted last, handled first (delivery is depth-first): the page's records before the next page.
            if let records = page.records, !records.isEmpty {
                context.emit(
                    "records",
                    ["records": .array(records), "page": .int(chain.pages), "total": page.total, "context": ctx])
            }
            if case .failed(let error) = step.outcome { throw error }
            if let shifted = step.shifted { throw shifted }
        }
    }

    public static let factory: ComponentFactory = { node in Instance(node) }
}
