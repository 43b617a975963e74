import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunComponents
@testable import FlowrunRuntime

@Suite struct RouterTests {
    static func rule(_ op: String, _ value: Value) -> Router.Rule {
        Router.Rule(
            field: "f", op: op, value: value, port: "p",
            regex: op == "matches" ? try? Regex(value.interpolated) : nil)
    }

    @Test(
        arguments: [
            ("equals", Value.bool(true), Value.string("true"), true), ("equals", 3, "3", true),
            ("equals", 3.0, 3, true),
            ("equals", "a", "b", false), ("not_equals", "a", "b", true), ("not_equals", nil, nil, false),
            ("gt", 5, 3, true), ("gt", 3, 3, false), ("gte", 3, 3, true), ("lt", 2, "10", true),
            ("lte", "a", "b", true),
            ("gt", "x", 1, false), ("contains", "hello", "ell", true), ("contains", [1, 2], 2, true),
            ("contains", ["k": 1], "k", true), ("starts_with", "hello", "he", true), ("ends_with", "hello", "lo", true),
            ("ends_with", 5, "5", false), ("matches", "abc123", "^[a-z]+[0-9]+$", true),
            ("matches", "ABC", "^[a-z]+$", false),
            ("in", "DE", ["DE", "AT"], true), ("in", 2, [1, 2], true), ("in", "US", "DE, AT", false),
            ("in", "AT", "DE, AT", true),
            ("exists", 0, nil, true), ("exists", nil, nil, false), ("not_exists", nil, nil, true),
            ("empty", "", nil, true),
            ("empty", [], nil, true), ("empty", [:], nil, true), ("empty", nil, nil, true), ("empty", 0, nil, false),
            ("not_empty", [1], nil, true),
        ] as [(String, Value, Value, Bool)])
    func operators(op: String, field: Value, value: Value, expected: Bool) {
        #expect(Router.matches(Self.rule(op, value), field) == expected, "\(field) \(op) \(value)")
    }

    @Test func firstAllAndDefaultModes() throws {
        let yaml = { (mode: String) in
            """
            flow: r
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {xs: [1, 5, 50]}}}
              each: {component: iterator}
              route:
                component: router
                settings:
                  mode: \(mode)
                  rules:
                    - {field: v, operator: gt, value: 2, outputPort: big}
                    - {field: v, operator: gt, value: 10, outputPort: huge}
                    - {field: missing.field, operator: equals, value: 1, outputPort: never}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.xs>>}}
              - {from: each.item, to: route.in, data: {v: <<$.item>>}}
            """
        }
        let first = try FlowHarness(yaml("first"))
        first.run()
        #expect(first.messages("route.big") == [["v": 5], ["v": 50]])
        #expect(first.messages("route.huge") == [])
        #expect(first.messages("route.default") == [["v": 1]])
        #expect(first.messages("route.never") == [])
        let all = try FlowHarness(yaml("all"))
        all.run()
        #expect(all.messages("route.big") == [["v": 5], ["v": 50]])
        #expect(all.messages("route.huge") == [["v": 50]])
    }

    @Test func whenExpressionRoutes() throws {
        let h = try FlowHarness(
            """
            flow: w
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {page: 2, totalPages: 3}}}
              more: {component: router, settings: {when: <<$.page < $.totalPages>>, outputPort: next, defaultPort: done}}
            edges:
              - {from: start.out, to: more.in}
            """)
        h.run()
        #expect(h.messages("more.next") == [["page": 2, "totalPages": 3]])
    }

    @Test func seedRuleMatchesBoolByText() throws {
        let h = try FlowHarness(
            """
            flow: s
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {context: {hasMore: true}}}}
              r:
                component: router
                settings:
                  rules: [{name: has_more_pages, field: context.hasMore, operator: equals, value: "true", outputPort: route_a}]
            edges:
              - {from: start.out, to: r.in}
            """)
        h.run()
        #expect(h.messages("r.route_a").count == 1)
    }
}

@Suite struct IteratorTests {
    func harness(_ items: String, _ settings: String) throws -> FlowHarness {
        try FlowHarness(
            """
            flow: it
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {xs: \(items)}}}
              each: {component: iterator, settings: \(settings)}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.xs>>, context: {tag: t}}}
            """)
    }

    @Test func itemsCarryIndexTotalAndContext() throws {
        let h = try harness("[a, b]", "{batchSize: 1}")
        let r = h.run()
        #expect(
            h.messages("each.item") == [
                ["item": "a", "index": 0, "total": 2, "context": ["tag": "t"]],
                ["item": "b", "index": 1, "total": 2, "context": ["tag": "t"]],
            ])
        #expect(h.messages("each.done") == [["count": 2, "context": ["tag": "t"]]])
        #expect(r[.processed] == 2)
    }

    @Test func batchesHaveRemaindersAndProgress() throws {
        let h = try harness("[1, 2, 3, 4, 5, 6, 7]", "{batchSize: 3}")
        h.run()
        let batches = h.messages("each.batch")
        #expect(batches.map { $0["items"] } == [[1, 2, 3], [4, 5, 6], [7]])
        #expect(batches.map { $0["batchNum"] } == [1, 2, 3])
        #expect(batches.map { $0["totalBatches"] } == [3, 3, 3])
        #expect(batches.map { $0["progress"] } == [33.33, 66.67, 100.0])
        #expect(batches.map { $0["isLastBatch"] } == [false, false, true])
        #expect(h.messages("each.done") == [["count": 7, "context": ["tag": "t"]]])
    }

    @Test func emptyArrayEmitsOnlyDone() throws {
        let h = try harness("[]", "{batchSize: 10}")
        h.run()
        #expect(h.messages("each.batch").isEmpty)
        #expect(h.messages("each.done") == [["count": 0, "context": ["tag": "t"]]])
    }

    @Test func nonArrayInputIsAnError() throws {
        let h = try FlowHarness(
            """
            flow: it
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              each: {component: iterator}
            edges:
              - {from: start.out, to: each.in, data: {array: <<JSON.parse('5')>>}}
            """)
        let r = h.run()
        #expect(r.status == .failed)
        #expect(r.errors.first?.message == "iterator needs `array` to be an array, got int")
    }

    @Test func continueOnErrorFalseStopsAtTheFirstFailure() throws {
        let yaml = { (continueOnError: Bool) in
            """
            flow: it
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {xs: [1, 0, 2]}}}
              each: {component: iterator, settings: {continueOnError: \(continueOnError)}}
              calc: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.xs>>}}
              - {from: each.item, to: calc.in, data: {v: <<10 / $.item>>}}
            """
        }
        let stop = try FlowHarness(yaml(false))
        stop.run()
        #expect(stop.messages("calc.out") == [["v": 10]])
        #expect(stop.messages("each.done").isEmpty)
        let go = try FlowHarness(yaml(true))
        go.run()
        #expect(go.messages("calc.out") == [["v": 10], ["v": 5]])
    }

    @Test func aMillionItemsStreamOneAtATime() throws {
        let h = try FlowHarness(
            """
            flow: big
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {n: 1000000}}}
              make: {component: modify}
              each: {component: iterator}
              sum: {component: modify}
            edges:
              - {from: start.out, to: make.in}
              - {from: make.out, to: each.in, data: {array: <<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]>>}}
              - {from: each.item, to: sum.in, data: {x: <<$.item * 2>>}}
            """)
        #expect(h.run().status == .completed)
        #expect(h.messages("sum.out").count == 10)
    }
}

@Suite struct StateAndLogTests {
    @Test func getSetAndDefault() throws {
        let h = try FlowHarness(
            """
            flow: st
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {v: 42}}}
              kv: {component: state, settings: {key: k, default: none}}
              after: {component: modify}
            edges:
              - {from: start.out, to: kv.get, data: {context: {step: 1}}}
              - {from: start.out, to: kv.set, data: {value: <<$.v>>}}
            """)
        h.run()
        #expect(
            h.messages("kv.value") == [
                ["key": "k", "value": "none", "context": ["step": 1]], ["key": "k", "value": 42, "context": nil],
            ])
        #expect(try h.store.get(flow: "st", key: "k") == 42)
    }

    @Test func logRedactsSecrets() throws {
        let h = try FlowHarness(
            """
            flow: lg
            secrets: {token: {env: T}}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              out: {component: log, settings: {format: json, message: sending}}
            edges:
              - {from: start.out, to: out.in, data: {auth: "Bearer <<secrets.token>>"}}
            """, env: ["T": "s3cr3t-value"])
        h.run()
        #expect(h.logs == [#"info out: sending {"auth":"Bearer ***"}"#])
    }

    @Test func deadLetterCountsAttemptsAcrossRuns() throws {
        let store = MemoryStore()
        let yaml = """
            flow: dl
            run: {retries: 0}  # one attempt per run (the default retries a failed run 3 times)
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              bad: {component: modify}
              dlq: {component: dead-letter, settings: {maxAttempts: 2}}
            edges:
              - {from: start.out, to: bad.in, data: {x: <<1 / 0>>}}
              - {from: bad.error, to: dlq.in, data: {key: user-1, payload: <<$.input>>, error: <<$.error>>}}
            """
        let queue = DeadLetterQueue(store: store)
        let first = try FlowHarness(yaml, store: store).run()
        #expect(first.status == .failed)
        #expect(first[.failed] == 1)
        #expect(first[.deadLettered] == 1)
        // Failed once: open (listed as unresolved), not parked.
        #expect(try queue.list().map(\.status) == [.open])
        let open = try #require(try queue.list(all: true).first)
        #expect(open.status == .open)
        #expect(open.id == DeadLetterQueue.id(flow: "dl", key: "user-1"))
        let second = try FlowHarness(yaml, store: store).run()
        let parked = try #require(try queue.list().first)
        #expect(parked.attempts == 2)
        #expect(parked.status == .parked)
        #expect(parked.firstRun == first.id)
        #expect(parked.lastRun == second.id)
        #expect(parked.error["message"] == "division by zero")
        #expect(!parked.payload.isNull)
        try queue.setStatus(parked, .skipped, now: 1)
        #expect(try queue.list().isEmpty)
        #expect(try queue.item(id: parked.id)?.status == .skipped)
    }
}
