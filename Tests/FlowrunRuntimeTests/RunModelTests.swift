import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun

/// The run model of issue 12, one test per observed defect: no record left behind, runs that tell the
/// truth, retries that make sense. Each failed on the code before the fix.
@Suite struct RunModelTests {
    /// A flow over three records where the second fails, with a cursor, a dead letter for failures
    /// and a `resolve` edge for records that were written.
    static func cursorFlow(policy: String, bad: String = "2024-02-01", version: String = "<<$.input.item.t>>") -> String
    {
        """
        flow: nrlb
        run: {cursorPolicy: \(policy)}
        vars: {bad: '\(bad)'}
        nodes:
          start: {component: ticker, settings: {interval: 1h, payload: {items: [{t: '2024-01-01'}, {t: '2024-02-01'}, {t: '2024-03-01'}]}}}
          each: {component: iterator}
          check: {component: modify}
          cursor: {component: state, settings: {key: since}}
          dlq: {component: dead-letter, settings: {maxAttempts: 3}}
        edges:
          - {from: start.out, to: each.in, data: {array: <<$.items>>}}
          - {from: each.item, to: check.in, data: {t: <<$.item.t == vars.bad ? 1 / 0 : $.item.t>>}}
          - {from: check.out, to: cursor.checkpoint, data: {value: <<$.t>>}}
          - {from: check.out, to: dlq.resolve, data: {key: <<$.t>>}}
          - {from: check.error, to: dlq.in, data: {key: <<$.input.item.t>>, payload: <<$.input>>, error: <<$.error>>, version: \(version)}}
        """
    }

    /// Defect 1: `park` moved the cursor past a record whose dead-letter item was only `open`, and
    /// `dlq list` did not show it. Now the failure is parked at once and listed before the cursor passes.
    @Test func parkParksAtOnceBeforeTheCursorPassesARecord() throws {
        let store = MemoryStore()
        let r = try FlowHarness(Self.cursorFlow(policy: "park"), store: store).run()
        #expect(r.status == .completedWithErrors)
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-03-01")
        let listed = try DeadLetterQueue(store: store).list()
        #expect(listed.map(\.key) == ["2024-02-01"])
        #expect(listed.map(\.status) == [.parked])
    }

    /// The invariant under `hold`: the cursor does not pass the failure (it stops just before it), and
    /// the item is listed.
    @Test func holdKeepsTheCursorAndListsTheOpenItem() throws {
        let store = MemoryStore()
        let r = try FlowHarness(Self.cursorFlow(policy: "hold"), store: store).run()
        #expect(r.status == .completedWithErrors)
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-01-01")
        #expect(try DeadLetterQueue(store: store).list().map(\.status) == [.open])
    }

    /// Defect 2: `dlq skip` did not stick: the next run failed on the same record, reopened the item and
    /// held the cursor for ever. Now the same version counts as skipped and the cursor moves; a newer
    /// version of the record is a new failure.
    @Test func aSkipSticksForThatVersionOfTheRecord() throws {
        let store = MemoryStore()
        let queue = DeadLetterQueue(store: store)
        _ = try FlowHarness(Self.cursorFlow(policy: "hold"), store: store).run()
        let item = try #require(try queue.list().first)
        try queue.setStatus(item, .skipped, now: 1)
        let again = try FlowHarness(Self.cursorFlow(policy: "hold"), store: store).run()
        #expect(again.status == .completed)
        #expect(again[.skipped] == 1)
        #expect(again[.failed] == 0)
        #expect(try store.get(flow: "nrlb", key: "since") == "2024-03-01")
        #expect(try queue.item(id: item.id)?.status == .skipped)
        #expect(try queue.item(id: item.id)?.attempts == 1)
        // A newer version of the same record failing is a new failure.
        let newer = try FlowHarness(Self.cursorFlow(policy: "hold", version: "'v2'"), store: store).run()
        #expect(newer[.failed] == 1)
        #expect(try queue.list().map(\.status) == [.open])
    }

    /// Defect 13: an item stayed parked after a later run synced the record. Now it is closed (`resolved`).
    @Test func anItemIsResolvedWhenALaterRunSyncsTheRecord() throws {
        let store = MemoryStore()
        let queue = DeadLetterQueue(store: store)
        _ = try FlowHarness(Self.cursorFlow(policy: "park"), store: store).run()
        #expect(try queue.list().count == 1)
        // The source's data was fixed: nothing fails any more.
        let fixed = try FlowHarness(Self.cursorFlow(policy: "park", bad: "none"), store: store).run()
        #expect(fixed.status == .completed)
        #expect(try queue.list().isEmpty)
        #expect(try queue.list(all: true).map(\.status) == [.resolved])
    }

    /// Defect 12: a dead-letter node and a `count: failed` node on the same failure counted it twice,
    /// and `park` then held the cursor. Now it counts once and the parked failure lets the cursor pass.
    @Test func aFailureCountedByTwoNodesCountsOnce() throws {
        let store = MemoryStore()
        let h = try FlowHarness(
            """
            flow: twice
            run: {cursorPolicy: park}
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [{t: '2024-01-01'}, {t: 'bad'}, {t: '2024-03-01'}]}}}
              each: {component: iterator}
              check: {component: modify}
              cursor: {component: state, settings: {key: since}}
              collect: {component: modify, settings: {count: failed}}
              dlq: {component: dead-letter}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: check.in, data: {t: <<$.item.t == 'bad' ? 1 / 0 : $.item.t>>}}
              - {from: check.out, to: cursor.checkpoint, data: {value: <<$.t>>}}
              - {from: check.error, to: collect.in}
              - {from: collect.out, to: dlq.in, data: {key: <<$.input.item.t>>, payload: <<$.input>>, error: <<$.error>>}}
            """, store: store)
        let r = h.run()
        #expect(r[.failed] == 1)
        #expect(r[.deadLettered] == 1)
        #expect(r.status == .completedWithErrors)
        #expect(try store.get(flow: "twice", key: "since") == "2024-03-01")
    }

    /// Defect 4: failures handled by an error edge never reached the error log, and a failed run could
    /// have no reason. Now every failure is logged (`handled` says how) and every failed run has a reason.
    @Test func handledFailuresAreLoggedAndFailedRunsHaveAReason() throws {
        let h = try FlowHarness(
            """
            flow: handled
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [0, 0]}}}
              each: {component: iterator}
              calc: {component: modify}
              collect: {component: modify, settings: {count: failed}}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {v: <<10 / $.item>>}}
              - {from: calc.error, to: collect.in}
            """)
        let r = h.run()
        #expect(r.status == .failed)
        #expect(r.errors.count == 2)
        #expect(r.errors.allSatisfy { $0.handled && $0.code == "E121" || $0.handled })
        #expect(r.errors[0].message == "division by zero")
        #expect(r.errors[0].retryable == false)
        #expect(r[.handled] == 2)
        let reason = try #require(r.reason)
        #expect(reason.contains("2 of 2 records failed"))
        #expect(reason.contains("division by zero"))
    }

    /// Defect 5: a flow without an iterator that wrote 50 rows and lost one page ended `failed`: only the
    /// iterator counted records. The database connector now counts the rows it wrote.
    @Test func aWriterCountsItsRowsForTheStatus() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runmodel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try FlowHarness(
            """
            flow: writer
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              rows: {component: modify}
              db: {component: database, settings: {driver: sqlite, url: 'sqlite:\(dir.path)/w.db'}}
              write: {component: database, settings: {driver: sqlite, url: 'sqlite:\(dir.path)/w.db'}}
              lost-page: {component: modify}
              collect: {component: modify, settings: {count: failed}}
            edges:
              - {from: start.out, to: db.request, data: {query: 'CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)'}}
              - {from: db.response, to: write.request, data: {table: t, key: id, rows: <<range(50).map(i => ({id: i, v: 'x'}))>>}}
              - {from: start.out, to: lost-page.in, data: {page: <<1 / 0>>}}
              - {from: lost-page.error, to: collect.in}
            """)
        let r = h.run()
        #expect(r[.created] == 50)
        #expect(r[.failed] == 1)
        #expect(r.status == .completedWithErrors)
        #expect(r[.processed] == 50)
    }

    /// Defect 9: the circuit breaker counted a whole emitted batch as processed, so it tripped at 51
    /// failures of 100. It now counts records whose outcome is known, and trips after 10 (seed 000).
    @Test func theBreakerCountsAttemptedRecords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runmodel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try FlowHarness(
            """
            flow: breaker
            run: {circuitBreaker: {minRecords: 10, failureRatio: 0.5}}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              each: {component: iterator, settings: {batchSize: 100}}
              one: {component: iterator, settings: {countProcessed: false}}
              write: {component: database, settings: {driver: sqlite, url: 'sqlite:\(dir.path)/b.db'}}
              collect: {component: modify, settings: {count: failed}}
            edges:
              - {from: start.out, to: each.in, data: {array: <<range(100)>>}}
              - {from: each.batch, to: one.in, data: {array: <<$.items>>}}
              - {from: one.item, to: write.request, data: {table: t, key: id, rows: [{id: <<$.item / 0>>}]}}
              - {from: write.error, to: collect.in}
            """)
        let r = h.run()
        #expect(r.status == .failed)
        #expect(r.reason == "circuit breaker: 10 of 10 records failed")
        #expect(r[.failed] == 10)
        #expect(r.retryable == false)
    }

    /// Defect 6: `run.retries` re-ran a run that failed on a bad record (or a 401, a check error, the
    /// circuit breaker). Only retryable failures are retried; the record says why not.
    @Test func nonRetryableFailuresAreNotRetried() throws {
        let h = try FlowHarness(
            """
            flow: once
            run: {retries: 3, retryDelay: 1s}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              bad: {component: modify}
            edges:
              - {from: start.out, to: bad.in, data: {x: <<1 / 0>>}}
            """)
        let records = h.runAll()
        #expect(records.count == 1)
        #expect(records[0].status == .failed)
        #expect(records[0].retryable == false)
        #expect(records[0].retryNote?.hasPrefix("not retried: bad failed with E") == true)
        #expect(try h.store.run(id: records[0].id)?.retryNote == records[0].retryNote)
    }

    /// Defect 14: a transient database failure became per-record dead letters. The connector retries it
    /// with backoff; when it still fails, the flow fails the run as retryable and nothing is dead-lettered.
    @Test func aTransientWriteFailureFailsTheRunAsRetryableWithoutDeadLetters() throws {
        let store = MemoryStore()
        let h = try FlowHarness(
            """
            flow: transient
            run: {retries: 0}
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              write: {component: database, settings: {driver: sqlite, url: 'sqlite:/etc/hostname/x/db.sqlite', retryCount: 2, retryDelay: 1ms}}
              kind: {component: router, settings: {when: <<$.error.retryable>>}}
              stop: {component: modify, settings: {failRun: true}}
              dlq: {component: dead-letter}
            edges:
              - {from: start.out, to: write.request, data: {table: t, key: id, rows: [{id: 1}, {id: 2}]}}
              - {from: write.error, to: kind.in}
              - {from: kind.matched, to: stop.in}
              - {from: kind.default, to: dlq.in, data: {key: x, error: <<$.error>>}}
            """, store: store)
        let r = h.run()
        #expect(r.status == .failed)
        #expect(r.retryable == true, "\(r.errors) \(r.reason ?? "")")
        #expect(r.reason?.hasPrefix("write: cannot open SQLite database") == true)
        #expect(try DeadLetterQueue(store: store).list(all: true).isEmpty)
    }

    /// Defect 8: a running run showed all-zero counters until it ended. Its record is saved at least
    /// every second (of the run's clock) with the counters so far.
    @Test func aRunningRunSavesItsProgress() throws {
        let report = FlowChecker.check(
            path: "progress.yaml",
            text: """
                flow: progress
                nodes:
                  start: {component: ticker, settings: {interval: 1h}}
                  each: {component: iterator}
                  page: {component: modify, settings: {count: pages}}
                edges:
                  - {from: start.out, to: each.in, data: {array: <<range(20000)>>}}
                  - {from: each.item, to: page.in}
                """, registry: .standard)
        let flow = try #require(report.flow)
        let store = MemoryStore()
        let clock = ManualClock(step: 300_000_000)  // every reading moves the clock 300 ms
        let live = LiveReads()
        var options = FlowRuntime.Options()
        options.clock = { clock.now }
        options.observer = { node, _, message in
            guard node == "page", let i = message["index"].intValue, i % 5000 == 4999 else { return }
            if let r = try? store.runs(flow: "progress", limit: 1).first { live.records.append(r) }
        }
        let runtime = try FlowRuntime(flow: flow, factories: .standard, store: store, options: options)
        let final = try runtime.run(.trigger("start"), trigger: .manual).last!
        #expect(final.status == .completed)
        #expect(final[.pages] == 20000)
        // Seen from outside while it ran: status running, counters moving.
        #expect(live.records.count == 4)
        #expect(live.records.allSatisfy { $0.status == .running })
        let pages = live.records.map { $0[.pages] }
        #expect(pages.first! > 0)
        #expect(pages == pages.sorted())
        #expect(pages.last! > pages.first!)
    }

    final class LiveReads: @unchecked Sendable { var records: [RunRecord] = [] }

    /// `run-end` sees the settled record for every outcome, and its own failures never change it.
    @Test(arguments: ["completed", "completed_with_errors", "failed", "timed_out"])
    func runEndSeesTheSettledRecord(outcome: String) throws {
        let items: String
        switch outcome {
        case "completed", "timed_out": items = "[1, 2]"
        case "completed_with_errors": items = "[1, 0, 2]"
        default: items = "[0, 0]"
        }
        let h = try FlowHarness(
            """
            flow: ends
            run: {timeout: \(outcome == "timed_out" ? "1s" : "1h")}
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: \(items)}}}
              each: {component: iterator}
              calc: {component: \(outcome == "timed_out" ? "delay, settings: {duration: 200ms}" : "modify")}
              finished: {component: run-end}
              report: {component: modify}
              broken: {component: modify}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: calc.in, data: {v: <<10 / $.item>>}}
              - {from: finished.out, to: report.in, data: {status: <<$.status>>, failed: <<$.counters.failed>>, reason: <<$.reason>>}}
              - {from: finished.out, to: broken.in, data: {x: <<$.counters.failed / 0>>}}
            """, clock: ManualClock(step: outcome == "timed_out" ? 600_000_000 : 0))
        let r = h.run()
        #expect(r.status.rawValue == outcome)
        let report = try #require(h.messages("report.out").first)
        #expect(report["status"] == .string(outcome))
        #expect(report["failed"] == .int(r[.failed]))
        #expect(report["reason"] == (r.reason.map { .string($0) } ?? .null))
        // The end phase's failure is kept apart and changes nothing.
        #expect(r.errors.filter(\.afterEnd).map(\.node) == ["broken"])
        #expect(r.json["endErrors"].arrayValue?.count == 1)
    }

    /// Defect 7: runs of one flow overlapped freely when started by different triggers. A start while
    /// a run holds the flow (or its concurrency key) is refused with the holder's id; another key runs;
    /// the claim is released at the end.
    @Test func runsOfAFlowDoNotOverlapUnlessTheirKeysDiffer() throws {
        let report = FlowChecker.check(
            path: "overlap.yaml",
            text: """
                flow: overlap
                run: {concurrencyKey: <<$.user ?? ''>>}
                nodes:
                  start: {component: ticker, settings: {interval: 1h}}
                  work: {component: modify}
                edges:
                  - {from: start.out, to: work.in}
                """, registry: .standard)
        let flow = try #require(report.flow)
        let store = MemoryStore()
        let second = try FlowRuntime(flow: flow, factories: .standard, store: store)
        let seen = LiveOutcomes()
        var options = FlowRuntime.Options()
        options.observer = { node, _, message in
            guard node == "work" else { return }
            // While the first run (key u7) is in flight:
            do throws(RunLock.Busy) {
                _ = try second.run(.input(["user": "u7"], node: "work", port: nil), trigger: .webhook)
                seen.outcomes.append("u7 ran")
            } catch { seen.outcomes.append(error.description) }
            let other = (try? second.run(.input(["user": "u8"], node: "work", port: nil), trigger: .webhook)) ?? []
            seen.outcomes.append("u8 " + (other.last?.status.rawValue ?? "refused"))
        }
        let first = try FlowRuntime(flow: flow, factories: .standard, store: store, options: options)
        let records = try first.run(.input(["user": "u7"], node: "work", port: nil), trigger: .manual)
        #expect(records.last?.status == .completed)
        #expect(seen.outcomes.count == 2)
        #expect(
            seen.outcomes.first
                == "flow overlap is busy: run \(records[0].id) holds it (concurrency key u7) (run.overlap: skip)")
        #expect(seen.outcomes.last == "u8 completed")
        #expect(try store.get(flow: "overlap", key: "lock/u7") == nil)
        // Released: the next start runs.
        #expect(
            try second.run(.input(["user": "u7"], node: "work", port: nil), trigger: .manual).last?.status == .completed
        )
    }

    /// A claim left by a run that is no longer running (its process died) is taken over.
    @Test func aStaleClaimIsTakenOver() throws {
        let store = MemoryStore()
        var dead = RunRecord(id: "rdead", flow: "f", trigger: .manual, startedAt: 1)
        dead.status = .abandoned
        try store.save(dead)
        _ = try store.compareAndSet(
            flow: "f", key: "lock/", expected: nil, new: ["run": "rdead", "owner": "1@elsewhere", "since": 1])
        let lock = try RunLock.acquire(store: store, flow: "f", concurrencyKey: "", runID: "rnew", owner: "me", now: 2)
        #expect(try store.get(flow: "f", key: "lock/")?["run"] == "rnew")
        lock.release()
        #expect(try store.get(flow: "f", key: "lock/") == nil)
    }

    final class LiveOutcomes: @unchecked Sendable { var outcomes: [String] = [] }

    /// In a dry run the http-client sends no non-GET request (nothing listens on port 1: a sent request
    /// would fail) and reports what it would have done.
    @Test func aDryRunHTTPClientReportsWhatItWouldSend() throws {
        let h = try FlowHarness(
            """
            flow: push
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              api: {component: http-client, settings: {baseUrl: 'http://127.0.0.1:1', retryCount: 0}}
            edges:
              - {from: start.out, to: api.request, data: {method: POST, url: /users, json: {id: 1}}}
              - {from: start.out, to: api.request, data: {method: PATCH, url: /users/2, json: {id: 2}}}
              - {from: start.out, to: api.request, data: {method: DELETE, url: /users/3}}
            """, dryRun: true)
        let r = h.run()
        #expect(r.status == .completed)
        #expect([r[.created], r[.updated], r[.deleted]] as [Int] == [1, 1, 1])
        let sent: [Value] = h.messages("api.response").map { $0["response"]["wouldSend"] }
        #expect(sent == ["create", "update", "delete"])
        #expect(Running.dryRunReport(r).contains("would delete                           1"))
    }
}
