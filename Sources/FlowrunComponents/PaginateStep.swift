import FlowrunExpression
import FlowrunGraph
import FlowrunRuntime
import FlowrunValue

// The pure part of `paginate`: from a request, its response's page and what the pagination has seen so
// far, the next request or the end. No I/O, no clock.

extension Paginate {
    /// The settings written literally (strategy, key, order): fixed for the node.
    struct Config {
        let strategy: String
        let key: String?
        let keyPath: Paginate.Path?

        init(strategy: String, key: String? = nil) {
            self.strategy = strategy
            self.key = key
            self.keyPath = key.map(Paginate.Path.init)
        }

        init(_ node: CheckedNode) {
            self.init(
                strategy: node.settings["strategy"]?.constantValue?.stringValue ?? "page_number",
                key: node.settings["key"]?.constantValue?.stringValue)
        }
    }

    /// The settings evaluated once per run.
    struct Settings {
        var pageSize: Int?
        var sizeParam: String?
        var pageParam = "page"
        var start = 1
        var offsetParam = "offset"
        var cursorParam: String?
        var cursorField: String?
        var maxPages = 10000
        var newestFirst = false

        init() {}

        init(_ context: NodeContext) {
            pageSize = context.setting("pageSize").intValue
            sizeParam = context.setting("sizeParam").stringValue
            pageParam = context.setting("pageParam").stringValue ?? "page"
            start = context.setting("start").intValue ?? 1
            offsetParam = context.setting("offsetParam").stringValue ?? "offset"
            cursorParam = context.setting("cursorParam").stringValue
            cursorField = context.setting("cursorField").stringValue
            maxPages = context.setting("maxPages").intValue ?? 10000
            newestFirst = context.setting("order").stringValue == "newest_first"
        }
    }

    /// What one pagination has seen: pages, records, record keys, tokens and the last page.
    final class Chain {
        var pages = 0
        var recordCount = 0
        var keys = KeySet()
        var tokens = Set<String>()
        var lastRecords: [Value]?
        var reportedShift = false
    }

    /// What a response says about paging, read through the node's settings.
    struct Page {
        var headers: Value = [:]
        /// nil when the node does not know where the records are (no `records`, and the body is no array).
        var records: [Value]?
        var total: Value = nil
        var totalPages: Value = nil
        /// nil when `hasMore` is not set.
        var hasMore: Value?
        var cursor: Value = nil
        var nextUrl: Value = nil

        init() {}

        init(_ message: Value, node: CheckedNode, globals: Globals) throws(NodeError) {
            let body = message["response"]["bodyJson"]
            func read(_ name: String) throws(NodeError) -> Value? {
                guard let template = node.settings[name] else { return nil }
                if let constant = template.constantValue {
                    return constant.stringValue.map { Paginate.value(in: body, at: $0) } ?? constant
                }
                do { return try template.evaluate(message, globals) } catch { throw NodeError(error) }
            }
            headers = message["response"]["headers"]
            if let records = try read("records") {
                guard case .array(let items) = records else {
                    throw NodeError(
                        "paginate: the page's records are \(records.typeName), not an array (setting `records`)",
                        code: "bad_page")
                }
                self.records = items
            } else if case .array(let items) = body {
                self.records = items
            }
            total = try read("total") ?? nil
            totalPages = try read("totalPages") ?? nil
            hasMore = try read("hasMore")
            cursor = try read("cursor") ?? nil
            nextUrl = try read("nextUrl") ?? nil
        }
    }

    enum Outcome {
        case next(Value)
        case done(String)
        case failed(NodeError)
    }

    struct Step {
        var outcome: Outcome
        /// Set once per pagination, on the page where a record key came back: the source shifted.
        var shifted: NodeError?
    }
}

extension Paginate.Config {
    /// The first page's request: `message` with the page, offset and size parameters added.
    func first(_ message: Value, _ settings: Paginate.Settings, chain: Int) -> Value {
        var request = message
        var query = message["queryParams"].objectValue ?? [:]
        func add(_ name: String?, _ value: String?) {
            if let name, let value, query[name] == nil { query[name] = .string(value) }
        }
        switch strategy {
        case "page_number": add(settings.pageParam, String(settings.start))
        case "offset": add(settings.offsetParam, "0")
        default: break
        }
        add(sizeParam(settings), settings.pageSize.map(String.init))
        if !query.isEmpty { request = Paginate.with(request, "queryParams", .object(query)) }
        request = Paginate.with(request, "pagination", ["chain": .int(chain), "page": 1])
        return request
    }

    func sizeParam(_ settings: Paginate.Settings) -> String? {
        settings.sizeParam ?? (strategy == "offset" ? "limit" : nil)
    }

    /// The step after `page`, the answer to `request`; `chain` is updated with what the page held.
    func step(
        request: Value, page: Paginate.Page, settings: Paginate.Settings, chain: Paginate.Chain, id: Int
    ) -> Paginate.Step {
        chain.pages += 1
        var shifted: NodeError?
        let records = page.records
        if let records {
            chain.recordCount += records.count
            if let key, let keyPath {
                for record in records {
                    let k = keyPath.value(in: record)
                    if k.isNull || chain.keys.insert(k) || chain.reportedShift { continue }
                    chain.reportedShift = true
                    shifted = NodeError(
                        "source shifted: the record with \(key) \(String(k.interpolated.prefix(100))) was served twice "
                            + "(again on page \(chain.pages)), so another record may have been skipped; "
                            + "the cursor is not committed and the next run reads these records again",
                        code: "source_shifted")
                }
            }
        }
        var outcome = decide(request: request, page: page, settings: settings, chain: chain)
        if case .next(let next) = outcome {
            if chain.pages >= settings.maxPages {
                outcome = .failed(
                    NodeError(
                        "paginate: maxPages (\(settings.maxPages)) reached before the source's end; "
                            + "records after it were not read", code: "max_pages"))
            } else {
                outcome = .next(Paginate.with(next, "pagination", ["chain": .int(id), "page": .int(chain.pages + 1)]))
            }
        }
        chain.lastRecords = records
        return Paginate.Step(outcome: outcome, shifted: shifted)
    }

    private func decide(
        request: Value, page: Paginate.Page, settings: Paginate.Settings, chain: Paginate.Chain
    ) -> Paginate.Outcome {
        let records = page.records
        if let records, records.isEmpty { return .done("empty page") }
        if let records, let last = chain.lastRecords, records == last {
            return .failed(
                NodeError(
                    "paginate: page \(chain.pages) repeats the page before it (the source ignores the "
                        + "\(strategy) parameter?)", code: "repeated_page"))
        }
        if let hasMore = page.hasMore, !hasMore.isTruthy { return .done("hasMore is false") }
        var query = request["queryParams"].objectValue ?? [:]
        let short = settings.pageSize.map { size in (records?.count ?? size) < size } ?? false
        switch strategy {
        case "page_number", "offset":
            if !settings.newestFirst, let total = page.total.intValue, chain.recordCount >= total {
                return .done("all \(total) records read")
            }
            if short { return .done("short page") }
            if strategy == "page_number" {
                let current = query[settings.pageParam].flatMap(Paginate.int) ?? settings.start
                if !settings.newestFirst, let pages = page.totalPages.intValue, current - settings.start + 1 >= pages {
                    return .done("last of \(pages) pages")
                }
                query[settings.pageParam] = .string(String(current + 1))
            } else {
                let current = query[settings.offsetParam].flatMap(Paginate.int) ?? 0
                let step = records?.count ?? settings.pageSize ?? 0
                guard step > 0 else {
                    return .failed(
                        NodeError(
                            "paginate: the offset cannot advance: set `records` or `pageSize`", code: "bad_settings"))
                }
                query[settings.offsetParam] = .string(String(current + step))
            }
            return .next(Paginate.with(request, "queryParams", .object(query)))
        case "cursor":
            let token = page.cursor
            if token.isNull || token == "" { return .done("no next cursor") }
            let text = token.interpolated
            if !chain.tokens.insert(text).inserted {
                return .failed(
                    NodeError("paginate: the cursor repeats on page \(chain.pages)", code: "repeated_token"))
            }
            var next = request
            if let param = settings.cursorParam {
                query[param] = .string(text)
                next = Paginate.with(next, "queryParams", .object(query))
            }
            if let field = settings.cursorField {
                var json = request["json"].objectValue ?? [:]
                json[field] = token
                next = Paginate.with(next, "json", .object(json))
            }
            return .next(next)
        default:
            let url: String?
            if strategy == "next_url" {
                url = page.nextUrl.stringValue
            } else {
                url = Paginate.nextLink(page.headers["link"].stringValue ?? "")
            }
            guard let url, !url.isEmpty else {
                return .done(strategy == "next_url" ? "no next URL" : "no rel=\"next\" link")
            }
            if !chain.tokens.insert(url).inserted {
                return .failed(
                    NodeError("paginate: the next page's URL repeats on page \(chain.pages)", code: "repeated_token"))
            }
            // The next URL carries its own query.
            return .next(Paginate.with(Paginate.with(request, "url", .string(url)), "queryParams", nil))
        }
    }
}

extension Paginate {
    /// `object` with `key` set to `value` (removed when nil).
    static func with(_ object: Value, _ key: String, _ value: Value?) -> Value {
        var o = object.objectValue ?? [:]
        o[key] = value
        return .object(o)
    }

    static func int(_ value: Value) -> Int? { value.intValue ?? value.stringValue.flatMap { Int($0) } }

    /// The value at `path` in `value`: dotted names and `[i]` indexes, negative from the end
    /// (`data[-1].id`); an empty path is the value itself.
    static func value(in value: Value, at path: String) -> Value { Path(path).value(in: value) }

    /// A dotted path with array indexes (`data.items[0].id`, `items.-1`), split once: the record key
    /// is read from every record of every page (splitting it each time was 3,000 instructions a row).
    struct Path {
        enum Step {
            case key(String)
            /// `[n]`: an array's element (from the end when negative); nothing on anything else.
            case index(Int)
            /// `.n`: an array's element, or the object key spelled so.
            case indexOrKey(Int, String)
            /// A bracket that holds no number: the path leads nowhere.
            case invalid
        }

        let steps: [Step]

        init(_ path: String) {
            var steps: [Step] = []
            for segment in path.split(separator: ".", omittingEmptySubsequences: true) {
                var rest = Substring(segment)
                if let bracket = rest.firstIndex(of: "[") {
                    let name = rest[..<bracket]
                    if !name.isEmpty { steps.append(.key(String(name))) }
                    rest = rest[bracket...]
                    while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                        steps.append(Int(rest[rest.index(after: rest.startIndex)..<close]).map(Step.index) ?? .invalid)
                        rest = rest[rest.index(after: close)...]
                    }
                } else if let i = Int(rest) {
                    steps.append(.indexOrKey(i, String(rest)))
                } else {
                    steps.append(.key(String(rest)))
                }
            }
            self.steps = steps
        }

        func value(in value: Value) -> Value {
            var current = value
            for step in steps {
                switch step {
                case .key(let name): current = current[name]
                case .invalid: return nil
                case .index(let n):
                    guard case .array(let items) = current else { return nil }
                    current = Self.element(items, n)
                case .indexOrKey(let n, let name):
                    if case .array(let items) = current {
                        current = Self.element(items, n)
                    } else {
                        current = current[name]
                    }
                }
            }
            return current
        }

        static func element(_ items: [Value], _ n: Int) -> Value {
            let index = n < 0 ? items.count + n : n
            return items.indices.contains(index) ? items[index] : nil
        }
    }

    /// The target of the `rel="next"` link of an RFC 5988 (RFC 8288) `Link` header, or nil.
    static func nextLink(_ header: String) -> String? {
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let target = String(rest[rest.index(after: open)..<close])
            let paramsEnd = rest[close...].firstIndex(of: "<") ?? rest.endIndex
            let params = rest[rest.index(after: close)..<paramsEnd]
            for param in params.split(whereSeparator: { $0 == ";" || $0 == "," }) {
                let parts = param.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingSpaces.lowercased() == "rel" else { continue }
                let rels = parts[1].trimmingSpaces.trimmingQuotes.lowercased().split(separator: " ")
                if rels.contains("next") { return target }
            }
            rest = rest[paramsEnd...]
        }
        return nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }

    fileprivate var trimmingQuotes: Substring {
        var s = self
        if s.first == "\"" { s = s.dropFirst() }
        if s.last == "\"" { s = s.dropLast() }
        return s
    }
}
