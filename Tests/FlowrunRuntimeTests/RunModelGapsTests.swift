import FlowrunTesting
import Testing

@testable import Flowrun

/// The rest of issue 12's run model: automatic retry of parked items (`run.retryParked`), the `hold`
/// cursor moving up to the oldest unresolved failure, a source's announced total, and a failure counted
/// once when its dead letter cannot be written.
@Suite struct RunModelGapsTests {
    /// A source that serves the records after the cursor: t 2024-01-01, 2024-02-01 and 2024-03-01, where
    /// `vars.bad` fails on write. Failures go to a dead-letter node whose `entry` is `check.in`.
    static func cursoredFlow(policy: String, retryParked: Bool, bad: String) -> String {
        """
        flow: parked
        run: {cursorPolicy: \(policy), retryParked: \(retryParked)}
        vars: {bad: '\(bad)'}
        nodes:
          start: {component: ticker, settings: {interval: 1h}}
          cursor: {component: state, settings: {key: since}}
          each: {component: iterator}
          check: {component: modify}
          write: {component: modify}
          dlq: {component: dead-letter, settings: {maxAttempts: 3, entry: check.in}}
        edges:
          - {from: start.out, to: cursor.get}
          - from: cursor.value
            to: each.in
            data:
              array: <<[{t: '2024-01-01'}, {t: '2024-02-01'}, {t: '2024-03-01'}].filter(i => $.value == null || i.t > $.value)>>
          - {from: each.item, to: check.in, data: {item: <<$.item>>}}
          - {from: check.out, to: write.in, data: {t: <<$.item.t == vars.bad ? 1 / 0 : $.item.t>>}}
          - {from: write.out, to: cursor.checkpoint, data: {value: <<$.t>>}}
          - {from: write.out, to: dlq.resolve, data: {key: <<$.t>>}}
          - {from: write.error, to: dlq.in, data: {key: <<$.input.item.t>>, payload: <<$.input>>, error: <<$.error>>, version: <<$.input.item.t>>}}
        """
    }

    /// Parked items are delivered to their entry again at the start of later runs (`run.retryParked`),
    /// each failing run one more attempt, until `maxAttempts`; then they stay parked for an operator.
    @Test func parkedItemsAreRetriedUpToMaxAttemptsThenStayParked() throws {
        let store = MemoryStore()
        let queue = DeadLetterQueue(store: store)
        let bad = "2024-02-01"
        let first = try FlowHarness(Self.cursoredFlow(policy: "park", retryParked: true, bad: bad), store: store).run()
        #expect(first.status == .completedWithErrors)
        #expect(try store.get(flow: "parked", key: "since") == "2024-03-01")  // park: the cursor passed it
        #expect(try queue.list().map(\.attempts) == [1])
        for attempts in [2, 3] {
            let h = try FlowHarness(Self.cursoredFlow(policy: "park", retryParked: true, bad: bad), store: store)
            let r = h.run()
            #expect(r[.failed] == 1, "\(r.errors)")
            #expect(h.messages("check.out").count == 1)  // the source served nothing new; the retry did
            #expect(try queue.list().map(\.attempts) == [attempts])
            #expect(try queue.list().map(\.status) == [.parked])
        }
        // Attempts used up: not delivered again, still parked for an operator.
        let h = try FlowHarness(Self.cursoredFlow(policy: "park", retryParked: true, bad: bad), store: store)
        let done = h.run()
        #expect(done.status == .completed)
        #expect(h.messages("check.out").isEmpty)
        #expect(try queue.list().map(\.attempts) == [3])
        #expect(try queue.list().map(\.status) == [.parked])
    }

    /// A retried item that passes is closed by the flow's `resolve` edge; without `run.retryParked`
    /// nothing is retried.
    @Test func aRetriedItemThatPassesIsResolved() throws {
        let store = MemoryStore()
        let queue = DeadLetterQueue(store: store)
        _ = try FlowHarness(Self.cursoredFlow(policy: "park", retryParked: true, bad: "2024-02-01"), store: store).run()
        let off = try FlowHarness(Self.cursoredFlow(policy: "park", retryParked: false, bad: "none"), store: store)
        _ = off.run()
        #expect(off.messages("check.out").isEmpty)
        #expect(try queue.list().map(\.status) == [.parked])
        let on = try FlowHarness(Self.cursoredFlow(policy: "park", retryParked: true, bad: "none"), store: store)
        let r = on.run()
        #expect(r.status == .completed)
        #expect(on.messages("write.out") == [["t": "2024-02-01"]])
        #expect(try queue.list().isEmpty)
        #expect(try queue.list(all: true).map(\.status) == [.resolved])
    }

    /// `hold`: the cursor advances to the newest checkpoint strictly before the oldest unresolved failure
    /// (records synced before it are passed); a skip releases it and the next run moves on.
    @Test func holdAdvancesTheCursorToJustBeforeTheOldestFailure() throws {
        let store = MemoryStore()
        let queue = DeadLetterQueue(store: store)
        let flow = RunModelTests.cursorFlow(policy: "hold")
        let r = try FlowHarness(flow, store: store).run()
        #expect(r.status == .completedWithErrors)
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-01-01")
        // The failure is still unresolved: a second run keeps the cursor before it.
        _ = try FlowHarness(flow, store: store).run()
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-01-01")
        try queue.setStatus(try #require(try queue.list().first), .skipped, now: 1)
        let next = try FlowHarness(flow, store: store).run()
        #expect(next.status == .completed)
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-03-01")
    }

    /// A failure whose record has no version (checkpoint value) leaves the cursor where the run started.
    @Test func holdWithoutAVersionKeepsTheCursorAtTheRunStart() throws {
        let store = MemoryStore()
        let r = try FlowHarness(RunModelTests.cursorFlow(policy: "hold", version: "<<null>>"), store: store).run()
        #expect(r.status == .completedWithErrors)
        #expect(try store.get(flow: "nrlb", key: "since") == nil)
    }

    /// An older unresolved item of an earlier run bounds the cursor too.
    @Test func holdStopsBeforeAnOlderUnresolvedItem() throws {
        let store = MemoryStore()
        try DeadLetterQueue(store: store).record(
            flow: "nrlb", key: "2024-01-15", payload: nil, error: "earlier", runID: "r0", entry: nil, flowFile: nil,
            maxAttempts: 3, now: 1, version: "2024-01-15")
        let r = try FlowHarness(RunModelTests.cursorFlow(policy: "hold", bad: "2024-03-01"), store: store).run()
        #expect(r[.failed] == 1)
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-01-01")
    }

    /// The iterator's `sourceTotal` is the run's announced total (live progress: `processed N of total`).
    @Test func anIteratorAnnouncesTheSourceTotal() throws {
        let r = try FlowHarness(
            """
            flow: paged
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              each: {component: iterator, settings: {batchSize: 10}}
            edges:
              - {from: start.out, to: each.in, data: {array: <<range(25)>>, sourceTotal: 1000}}
            """
        ).run()
        #expect(r.total == 1000)
        #expect(r[.processed] == 25)
        #expect(RunProgress.count(r) == "processed 25 of 1,000")
    }

    /// A run failed by its counters quotes the first failure it counted, not a handled batch error whose
    /// records were tried one at a time (and then failed on their own).
    @Test func theReasonQuotesACountedFailureNotTheHandledBatchError() throws {
        let r = try FlowHarness(
            """
            flow: batches
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              batch: {component: modify}
              each: {component: iterator}
              calc: {component: modify}
              collect: {component: modify, settings: {count: failed}}
            edges:
              - {from: start.out, to: batch.in, data: {v: <<int('many')>>}}
              - {from: batch.error, to: each.in, data: {array: [0, 0]}}
              - {from: each.item, to: calc.in, data: {v: <<10 / $.item>>}}
              - {from: calc.error, to: collect.in}
            """
        ).run()
        #expect(r.status == .failed)
        #expect(r.errors.map(\.node) == ["batch", "calc", "calc"])
        #expect(r.reason == "2 of 2 records failed: first at calc: division by zero")
    }

    /// A dead letter that cannot be written (the store refuses it) is an error of the dead-letter node
    /// that continues the record's failure: counted once, not once by the flow and once more for the
    /// dead-letter error.
    @Test func aFailedDeadLetterWriteCountsTheFailureOnce() throws {
        let report = FlowChecker.check(
            path: "dlq-down.yaml",
            text: """
                flow: dlq-down
                nodes:
                  start: {component: ticker, settings: {interval: 1h}}
                  each: {component: iterator}
                  check: {component: modify}
                  collect: {component: modify, settings: {count: failed}}
                  dlq: {component: dead-letter}
                  failures: {component: modify, settings: {count: failed}}
                edges:
                  - {from: start.out, to: each.in, data: {array: <<range(20)>>}}
                  - {from: each.item, to: check.in, data: {v: <<$.item % 5 == 0 ? 1 / 0 : $.item>>}}
                  - {from: check.error, to: collect.in}
                  - {from: collect.out, to: dlq.in, data: {key: <<$.input.item>>, error: <<$.error>>}}
                  - {from: dlq.error, to: failures.in}
                """, registry: .standard)
        let flow = try #require(report.flow, "\(report.diagnostics.map { $0.render() })")
        let store = RefusingDeadLetters()
        let runtime = try FlowRuntime(flow: flow, factories: .standard, store: store)
        let r = try runtime.run(.trigger("start"), trigger: .manual).last!
        #expect(r[.failed] == 4, "\(r.errors.map(\.message))")  // items 0, 5, 10, 15
        #expect(r[.deadLettered] == 0)
        #expect(r.errors.filter { $0.node == "dlq" }.count == 4)
        #expect(r.status == .completedWithErrors)
    }
}

/// A state store whose dead-letter writes fail (everything else is a `MemoryStore`): the failure is the
/// point of the test, so the store is the one stand-in.
final class RefusingDeadLetters: StateStore, @unchecked Sendable {
    let base = MemoryStore()
    struct Refused: Error, CustomStringConvertible { var description: String { "disk full" } }

    func get(flow: String, key: String) throws -> Value? { try base.get(flow: flow, key: key) }
    func set(flow: String, key: String, value: Value) throws {
        if key.hasPrefix("dlq/") { throw Refused() }
        try base.set(flow: flow, key: key, value: value)
    }
    func delete(flow: String, key: String) throws { try base.delete(flow: flow, key: key) }
    func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        try base.compareAndSet(flow: flow, key: key, expected: expected, new: new)
    }
    func claim(flow: String, key: String, due: Int) throws -> Bool { try base.claim(flow: flow, key: key, due: due) }
    func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        try base.entries(flow: flow, prefix: prefix)
    }
    func save(_ record: RunRecord) throws { try base.save(record) }
    func runs(flow: String?, limit: Int) throws -> [RunRecord] { try base.runs(flow: flow, limit: limit) }
    func run(id: String) throws -> RunRecord? { try base.run(id: id) }
    func deleteRuns(olderThan: Int) throws -> Int { try base.deleteRuns(olderThan: olderThan) }
}
