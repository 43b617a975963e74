import FlowrunRuntime
import FlowrunTesting
import FlowrunValue
import Testing

@testable import FlowrunComponents

/// The pure step of `paginate`: from a request and its page, the next request or the end.
@Suite struct PaginateTests {
    typealias Page = Paginate.Page

    func page(_ records: [Value]?, _ edit: (inout Page) -> Void = { _ in }) -> Page {
        var p = Page()
        p.records = records
        edit(&p)
        return p
    }

    func users(_ range: Range<Int>) -> [Value] { range.map { ["id": .string("u\($0)")] } }

    func settings(_ edit: (inout Paginate.Settings) -> Void = { _ in }) -> Paginate.Settings {
        var s = Paginate.Settings()
        edit(&s)
        return s
    }

    func next(_ step: Paginate.Step) -> Value? {
        if case .next(let v) = step.outcome { return v }
        return nil
    }

    func done(_ step: Paginate.Step) -> String? {
        if case .done(let reason) = step.outcome { return reason }
        return nil
    }

    func failure(_ step: Paginate.Step) -> String? {
        if case .failed(let error) = step.outcome { return error.code }
        return nil
    }

    @Test func pageNumbersAddTheirParametersAndStopOnAShortOrEmptyPage() {
        let config = Paginate.Config(strategy: "page_number")
        let s = settings {
            $0.pageSize = 100
            $0.sizeParam = "limit"
        }
        let first = config.first(["url": "/users", "context": ["a": 1]], s, chain: 0)
        #expect(first["queryParams"] == ["page": "1", "limit": "100"])
        let chain = Paginate.Chain()
        let two = next(config.step(request: first, page: page(users(0..<100)), settings: s, chain: chain, id: 0))
        #expect(two?["queryParams"] == ["page": "2", "limit": "100"])
        #expect(two?["context"] == ["a": 1])
        #expect(two?["pagination"] == ["chain": 0, "page": 2])
        #expect(
            done(config.step(request: two!, page: page(users(100..<150)), settings: s, chain: chain, id: 0))
                == "short page")
        // An API that says a million with empty pages: the empty page ends it.
        let lying = page([]) { $0.total = 1_000_000 }
        #expect(
            done(config.step(request: first, page: lying, settings: s, chain: Paginate.Chain(), id: 0)) == "empty page")
    }

    @Test func totalsEndPagingUnlessTheSourceIsNewestFirst() {
        let config = Paginate.Config(strategy: "page_number")
        let request: Value = ["url": "/x", "queryParams": ["page": "1"]]
        let full = page(users(0..<10)) { $0.total = 10 }
        #expect(
            done(config.step(request: request, page: full, settings: settings(), chain: Paginate.Chain(), id: 0)) != nil
        )
        let pages = page(users(0..<10)) { $0.totalPages = 1 }
        #expect(
            done(config.step(request: request, page: pages, settings: settings(), chain: Paginate.Chain(), id: 0))
                != nil)
        let newest = settings { $0.newestFirst = true }
        #expect(
            next(config.step(request: request, page: full, settings: newest, chain: Paginate.Chain(), id: 0)) != nil)
        #expect(
            next(config.step(request: request, page: pages, settings: newest, chain: Paginate.Chain(), id: 0)) != nil)
        let noMore = page(users(0..<10)) { $0.hasMore = false }
        #expect(
            done(config.step(request: request, page: noMore, settings: newest, chain: Paginate.Chain(), id: 0))
                == "hasMore is false")
    }

    @Test func offsetsAdvanceByTheRecordsReceived() {
        let config = Paginate.Config(strategy: "offset")
        let s = settings { $0.pageSize = 100 }
        let first = config.first(["url": "/orders"], s, chain: 0)
        #expect(first["queryParams"] == ["offset": "0", "limit": "100"])
        let chain = Paginate.Chain()
        let second = next(
            config.step(request: first, page: page(users(0..<100)) { $0.total = 250 }, settings: s, chain: chain, id: 0)
        )
        #expect(second?["queryParams"]["offset"] == "100")
        let third = next(
            config.step(
                request: second!, page: page(users(100..<200)) { $0.total = 250 }, settings: s, chain: chain, id: 0))
        #expect(third?["queryParams"]["offset"] == "200")
        let end = config.step(
            request: third!, page: page(users(200..<250)) { $0.total = 250 }, settings: s, chain: chain, id: 0)
        #expect(done(end) == "all 250 records read")
    }

    @Test func cursorsGoIntoAQueryParameterOrABodyFieldAndMustNotRepeat() {
        let config = Paginate.Config(strategy: "cursor")
        let s = settings { $0.cursorParam = "starting_after" }
        let body: Value = ["data": .array(users(0..<3)), "has_more": true]
        #expect(Paginate.value(in: body, at: "data[-1].id") == "u2")
        let chain = Paginate.Chain()
        let request: Value = ["url": "/v1/customers", "queryParams": ["limit": "3"]]
        let withToken = page(users(0..<3)) {
            $0.cursor = "u2"
            $0.hasMore = true
        }
        let second = next(config.step(request: request, page: withToken, settings: s, chain: chain, id: 0))
        #expect(second?["queryParams"] == ["limit": "3", "starting_after": "u2"])
        let again = page(users(3..<6)) { $0.cursor = "u2" }
        #expect(
            failure(config.step(request: second!, page: again, settings: s, chain: chain, id: 0)) == "repeated_token")
        let last = page(users(3..<6)) {
            $0.cursor = "u5"
            $0.hasMore = false
        }
        #expect(
            done(config.step(request: second!, page: last, settings: s, chain: Paginate.Chain(), id: 0))
                == "hasMore is false")
        let noToken = page(users(3..<6))
        #expect(
            done(config.step(request: second!, page: noToken, settings: s, chain: Paginate.Chain(), id: 0))
                == "no next cursor")
        let field = settings { $0.cursorField = "cursor" }
        let post = next(
            config.step(
                request: ["url": "/search", "json": ["q": "x"]], page: withToken, settings: field,
                chain: Paginate.Chain(), id: 0))
        #expect(post?["json"] == ["q": "x", "cursor": "u2"])
    }

    @Test func nextURLsAndLinkHeadersReplaceTheURLAndItsQuery() {
        let url = Paginate.Config(strategy: "next_url")
        let request: Value = ["url": "/items", "queryParams": ["per_page": "2"]]
        let chain = Paginate.Chain()
        let second = next(
            url.step(
                request: request, page: page(users(0..<2)) { $0.nextUrl = "/items?after=u1" }, settings: settings(),
                chain: chain, id: 0))
        #expect(second?["url"] == "/items?after=u1")
        #expect(second?["queryParams"] == .null)
        #expect(
            failure(
                url.step(
                    request: second!, page: page(users(2..<4)) { $0.nextUrl = "/items?after=u1" }, settings: settings(),
                    chain: chain, id: 0)) == "repeated_token")
        #expect(
            done(
                url.step(
                    request: request, page: page(users(0..<2)), settings: settings(), chain: Paginate.Chain(), id: 0))
                == "no next URL")

        let header =
            #"<https://api.x/repos/o/r/issues?page=3>; rel="next", <https://api.x/repos/o/r/issues?page=9>; rel="last""#
        #expect(Paginate.nextLink(header) == "https://api.x/repos/o/r/issues?page=3")
        #expect(Paginate.nextLink(#"<a?b=1,2>; rel="prev", <c>; title="x"; REL="Next Last""#) == "c")
        #expect(Paginate.nextLink(#"<https://api.x/p?page=1>; rel="first""#) == nil)
        let link = Paginate.Config(strategy: "link_header")
        let linked = page(users(0..<2)) { $0.headers = ["link": .string(header)] }
        let third = next(
            link.step(request: request, page: linked, settings: settings(), chain: Paginate.Chain(), id: 0))
        #expect(third?["url"] == "https://api.x/repos/o/r/issues?page=3")
        #expect(
            done(
                link.step(
                    request: request, page: page(users(0..<2)), settings: settings(), chain: Paginate.Chain(), id: 0))
                == "no rel=\"next\" link")
    }

    @Test func aRepeatedPageAndMaxPagesFailThePagination() {
        let config = Paginate.Config(strategy: "page_number")
        let chain = Paginate.Chain()
        let request: Value = ["url": "/x"]
        let second = next(
            config.step(request: request, page: page(users(0..<5)), settings: settings(), chain: chain, id: 0))
        #expect(
            failure(config.step(request: second!, page: page(users(0..<5)), settings: settings(), chain: chain, id: 0))
                == "repeated_page")
        let capped = settings { $0.maxPages = 2 }
        let fresh = Paginate.Chain()
        _ = config.step(request: request, page: page(users(0..<5)), settings: capped, chain: fresh, id: 0)
        #expect(
            failure(config.step(request: request, page: page(users(5..<10)), settings: capped, chain: fresh, id: 0))
                == "max_pages")
    }

    @Test func aKeyServedTwiceInOneRunIsReportedOnce() {
        let config = Paginate.Config(strategy: "page_number", key: "id")
        let chain = Paginate.Chain()
        let request: Value = ["url": "/x"]
        #expect(
            config.step(request: request, page: page(users(0..<5)), settings: settings(), chain: chain, id: 0).shifted
                == nil)
        let shifted = config.step(request: request, page: page(users(4..<9)), settings: settings(), chain: chain, id: 0)
        #expect(shifted.shifted?.code == "source_shifted")
        #expect(shifted.shifted?.message.contains("id u4 was served twice") == true)
        #expect(next(shifted) != nil, "paging goes on to the end")
        #expect(
            config.step(request: request, page: page(users(3..<8)), settings: settings(), chain: chain, id: 0).shifted
                == nil)
    }

    /// The state component's `lag`: `get` answers the stored cursor minus the window.
    @Test func aLaggedCursorRereadsATrailingWindow() throws {
        let store = MemoryStore()
        try store.set(flow: "lag", key: "since", value: "2024-03-01T00:10:00.000Z")
        try store.set(flow: "lag", key: "id", value: 500)
        let h = try FlowHarness(
            """
            flow: lag
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              since: {component: state, settings: {key: since, lag: 15m}}
              id: {component: state, settings: {key: id, lag: 100}}
              fresh: {component: state, settings: {key: unset, default: '1970-01-01T00:00:00Z', lag: 1h}}
            edges:
              - {from: start.out, to: since.get}
              - {from: start.out, to: id.get}
              - {from: start.out, to: fresh.get}
            """, store: store)
        h.run()
        #expect(h.messages("since.value").first?["value"] == "2024-02-29T23:55:00.000Z")
        #expect(h.messages("id.value").first?["value"] == 400)
        #expect(h.messages("fresh.value").first?["value"] == "1970-01-01T00:00:00Z", "a default is not lagged")
        #expect(State.lagged("2024-03-01T00:00:00Z", by: 5) == nil)
    }
}
