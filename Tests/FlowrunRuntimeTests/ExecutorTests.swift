import FlowrunTesting
import Testing

@testable import Flowrun

@Suite struct ExecutorTests {
    @Test func modifyChainBuildsMessagesAndKeepsContext() throws {
        let h = try FlowHarness(
            """
            flow: chain
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {n: 1, context: {trace: abc}}}}
              a: {component: modify}
              b: {component: modify}
            edges:
              - {from: start.out, to: a.in, data: <<{...$, n: $.n + 1}>>}
              - {from: a.out, to: b.in, data: {doubled: <<$.n * 2>>, context: <<$.context>>}}
            """)
        let record = h.run()
        #expect(record.status == .completed)
        #expect(h.messages("b.out") == [["doubled": 4, "context": ["trace": "abc"]]])
        #expect(record.messages == 2)
    }

    @Test func edgeExpressionErrorIsAnErrorOfTheTargetNode() throws {
        let h = try FlowHarness(
            """
            flow: bad-edge
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [{n: 1}, {n: null}]}}}
              each: {component: iterator}
              calc: {component: modify}
              errors: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {v: <<$.item.n + 1>>}}
              - {from: calc.error, to: errors.in}
            """)
        let record = h.run()
        #expect(h.messages("calc.out") == [["v": 2]])
        let error = try #require(h.messages("calc.error").first)
        #expect(error["error"]["node"] == "calc")
        #expect(error["error"]["code"] == "E120")
        #expect(error["error"]["location"] == "test.yaml:9:48")
        #expect(error["input"]["item"] == ["n": nil])
        // Handled on the error port: not a failure of the run.
        #expect(record.status == .completed)
    }

    @Test func unhandledErrorsAreRecordedAndTheRunContinues() throws {
        let h = try FlowHarness(
            """
            flow: unhandled
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [1, 0, 2, 0, 4]}}}
              each: {component: iterator}
              calc: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {v: <<10 / $.item>>}}
            """)
        let record = h.run()
        #expect(h.messages("calc.out").count == 3)
        #expect(record[.processed] == 5)
        #expect(record[.failed] == 2)
        #expect(record.status == .completedWithErrors)
        #expect(record.errors.count == 2)
        #expect(record.errors[0].node == "calc")
        #expect(record.errors[0].message == "division by zero")
        #expect(record.errors[0].location == "test.yaml:8:48")
        #expect(record.errors[0].input == #"{"item":0,"index":1,"total":5,"context":null}"#)
    }

    @Test func allFailedIsFailed() throws {
        let h = try FlowHarness(
            """
            flow: all-fail
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [0, 0, 0]}}}
              each: {component: iterator}
              calc: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {v: <<1 / $.item>>}}
            """)
        #expect(h.run().status == .failed)
    }

    /// Seed 000: more than 50% of processed records failed after at least 10 records: halt, failed.
    @Test func circuitBreakerTripsAtTheSeedsThresholds() throws {
        let yaml = { (items: String) in
            """
            flow: breaker
            run: {circuitBreaker: {minRecords: 10, failureRatio: 0.5}}
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: \(items)}}}
              each: {component: iterator}
              calc: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {v: <<1 / $.item>>}}
            """
        }
        // 20 records, every one failing: trips as soon as 10 have failed... of 20 processed? The iterator
        // counts all 20 as processed up front, so 11 failures of 20 trip it.
        let h = try FlowHarness(yaml("[" + Array(repeating: "0", count: 20).joined(separator: ", ") + "]"))
        let record = h.run()
        #expect(record.status == .failed)
        #expect(record.reason == "circuit breaker: 11 of 20 records failed")
        #expect(record[.failed] == 11)
        // Exactly half failing does not trip it.
        let half = try FlowHarness(yaml("[" + (0..<20).map { $0 % 2 == 0 ? "0" : "1" }.joined(separator: ", ") + "]"))
        let r2 = half.run()
        #expect(r2.status == .completedWithErrors)
        #expect(r2[.failed] == 10)
        // Below minRecords it never trips.
        let few = try FlowHarness(yaml("[0, 0, 0, 1]"))
        #expect(few.run().reason == nil)
        #expect(RunStatusRules.breakerTripped(attempted: 9, failed: 9, minRecords: 10, ratio: 0.5) == false)
        #expect(RunStatusRules.breakerTripped(attempted: 10, failed: 6, minRecords: 10, ratio: 0.5) == true)
        #expect(RunStatusRules.breakerTripped(attempted: 10, failed: 5, minRecords: 10, ratio: 0.5) == false)
    }

    @Test func aHundredThousandIterationLoopRunsWithoutHopLimit() throws {
        let h = try FlowHarness(
            """
            flow: loop
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {i: 0}}}
              step: {component: modify}
              more: {component: router, settings: {when: <<$.i < 100000>>, outputPort: again, defaultPort: done}}
              end: {component: modify}
            edges:
              - {from: start.out, to: step.in}
              - {from: step.out, to: more.in}
              - {from: more.again, to: step.in, data: {i: <<$.i + 1>>}}
              - {from: more.done, to: end.in}
            """)
        let record = h.run()
        #expect(record.status == .completed)
        #expect(h.messages("end.out") == [["i": 100_000]])
        #expect(record.messages == 200_003)
    }

    @Test func messageBudgetStopsAnEndlessLoop() throws {
        let h = try FlowHarness(
            """
            flow: endless
            run: {maxMessages: 1000}
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {i: 0}}}
              step: {component: modify}
            edges:
              - {from: start.out, to: step.in}
              - {from: step.out, to: step.in, data: {i: <<$.i + 1>>}}
            """)
        let record = h.run()
        #expect(record.status == .failed)
        #expect(record.reason?.contains("message budget of 1000") == true)
    }

    @Test func checkpointsCommitOnlyWhenTheRunCompletes() throws {
        let yaml = { (failing: Bool) in
            """
            flow: cursor
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {times: ['2024-01-02', '2024-03-01', '2024-02-01']}}}
              each: {component: iterator}
              cursor: {component: state, settings: {key: since, default: '1970-01-01'}}
              fail: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.times>>}}
              - {from: each.item, to: cursor.checkpoint, data: {value: <<$.item>>}}
              - {from: each.done, to: fail.in, data: {x: <<\(failing ? "1 / 0" : "1")>>}}
            """
        }
        let store = MemoryStore()
        let failing = try FlowHarness(yaml(true), store: store)
        #expect(failing.run().status == .completedWithErrors)
        #expect(try store.get(flow: "cursor", key: "since") == nil)
        let ok = try FlowHarness(yaml(false), store: store)
        #expect(ok.run().status == .completed)
        #expect(try store.get(flow: "cursor", key: "since") == "2024-03-01")
        // Monotonic: a later run offering an older value does not move it back.
        try store.set(flow: "cursor", key: "since", value: "2025-01-01")
        #expect(try FlowHarness(yaml(false), store: store).run().status == .completed)
        #expect(try store.get(flow: "cursor", key: "since") == "2025-01-01")
    }

    /// `cursorPolicy: park` lets the cursor pass failures that were parked in the dead-letter queue;
    /// `hold` does not, and neither policy passes a failure that was not parked.
    @Test(arguments: [("hold", true, false), ("park", true, true), ("park", false, false)])
    func cursorPolicies(policy: String, parkTheFailure: Bool, commits: Bool) throws {
        let store = MemoryStore()
        let h = try FlowHarness(
            """
            flow: policy
            run: {cursorPolicy: \(policy)}
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [{t: '2024-01-01'}, {t: '2024-02-01', bad: true}, {t: '2024-03-01'}]}}}
              each: {component: iterator}
              check: {component: modify}
              cursor: {component: state, settings: {key: since}}
              dlq: {component: dead-letter}
              collect: {component: modify, settings: {count: failed}}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: check.in, data: {t: <<$.item.bad ? 1 / 0 : $.item.t>>}}
              - {from: check.out, to: cursor.checkpoint, data: {value: <<$.t>>}}
              - {from: check.error, to: \(parkTheFailure ? "dlq" : "collect").in, data: {key: <<$.input.item.t>>, payload: <<$.input>>}}
            """, store: store)
        let r = h.run()
        #expect(r.status == .completedWithErrors)
        #expect(r[.failed] == 1)
        #expect(r[.deadLettered] == (parkTheFailure ? 1 : 0))
        #expect(try store.get(flow: "policy", key: "since") == (commits ? "2024-03-01" : nil))
    }

    @Test func failedRunsAreRetriedAsLinkedRunsWithBackoff() throws {
        let clock = ManualClock()
        let start = clock.now
        // Nothing listens on port 1: a transport error, which is retryable.
        let h = try FlowHarness(
            """
            flow: retry
            run: {retries: 2, retryDelay: 10s}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              fetch: {component: http-client, settings: {baseUrl: 'http://127.0.0.1:1', retryCount: 0}}
            edges:
              - {from: start.out, to: fetch.request, data: {url: /}}
            """, clock: clock)
        let records = h.runAll()
        #expect(records.map(\.status) == [.failed, .failed, .failed])
        #expect(records.map(\.trigger) == [.manual, .retry, .retry])
        #expect(records[1].parentID == records[0].id)
        #expect(records[2].parentID == records[1].id)
        #expect(records.map(\.attempt) == [1, 2, 3])
        #expect(clock.now - start == 30_000_000_000)  // 10 s, then 20 s
        #expect(try h.store.runs(flow: "retry", limit: 10).count == 3)
        // The chain is visible from both ends, and the last record says why it was not retried again.
        #expect(try h.store.run(id: records[0].id)?.retriedBy == [records[1].id])
        #expect(records[2].retryNote?.contains("run.retries (2) used up") == true)
    }

    @Test func timeoutEndsTheRun() throws {
        let h = try FlowHarness(
            """
            flow: slow
            run: {timeout: 1s}
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {i: 0}}}
              step: {component: modify}
              more: {component: router, settings: {when: <<$.i < 1000000>>, outputPort: again}}
            edges:
              - {from: start.out, to: step.in}
              - {from: step.out, to: more.in}
              - {from: more.again, to: step.in, data: {i: <<$.i + 1>>}}
            """, clock: ManualClock(step: 1_000_000))
        let record = h.run()
        #expect(record.status == .timedOut)
    }

    @Test func cancellationEndsTheRun() throws {
        let h = try FlowHarness(
            """
            flow: cancel
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {i: 0}}}
              step: {component: modify}
            edges:
              - {from: start.out, to: step.in}
              - {from: step.out, to: step.in, data: {i: <<$.i + 1>>}}
            """)
        h.runtime.cancellation.cancel()
        #expect(h.run().status == .cancelled)
    }

    @Test func secretsAreResolvedAndRedactedInErrorRecords() throws {
        let h = try FlowHarness(
            """
            flow: secrets
            secrets: {token: {env: TOKEN}}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              a: {component: modify}
            edges:
              - {from: start.out, to: a.in, data: {auth: "Bearer <<secrets.token>>", x: <<1 / 0>>}}
              - {from: a.out, to: a.in}
            """, env: ["TOKEN": "hunter22"])
        let record = h.run()
        #expect(record.status == .failed)
        let missing = try FlowHarness(
            """
            flow: secrets
            secrets: {token: {env: TOKEN}}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
            """)
        let r = missing.run()
        #expect(r.status == .failed)
        #expect(r.reason == "secret 'token' is not set (set TOKEN)")
    }

    @Test func manualInputGoesToTheEntryNode() throws {
        let h = try FlowHarness(
            """
            flow: manual
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              a: {component: modify}
            edges:
              - {from: start.out, to: a.in, data: {got: <<$.userId ?? 'none'>>}}
            """)
        h.run(input: ["userId": "u7"])
        #expect(h.messages("a.out") == [["got": "u7"]])
        h.reset()
        h.run(input: ["direct": true], entry: "a")
        #expect(h.messages("a.out") == [["direct": true]])
    }
}
