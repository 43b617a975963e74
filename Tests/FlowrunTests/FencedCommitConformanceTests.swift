import Dispatch
import FlowrunDatabase
import FlowrunTesting
import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// `StateStore.commit` on every backend, through two handles (two processes): the fencing token is
/// checked in the same transaction as the writes and the record, and a takeover racing a commit either
/// happens before it (the commit writes nothing) or after it (the commit is whole).
@Suite struct FencedCommitConformanceTests {
    @Test(arguments: StoreBackend.available) func aCommitWritesOnlyWhileItsLeaseHolds(_ backend: StoreBackend) throws {
        let (one, two, cleanUp) = try backend.open()
        defer { cleanUp() }
        let fence = Fence(key: "lock/", run: "ra", token: 3)
        #expect(try !one.commit(flow: "f", fence: fence, keys: [], record: nil) { _ in ["cursor": 1] })
        #expect(try two.get(flow: "f", key: "cursor") == nil)
        try one.set(flow: "f", key: "lock/", value: ["run": "ra", "fence": 3, "node": "a"])
        try one.set(flow: "f", key: "cursor", value: 10)
        var record = RunRecord(id: "ra", flow: "f", trigger: .scheduled, startedAt: 1)
        record.status = .completed
        record.node = "a"
        record.fence = 3
        let committed = try two.commit(flow: "f", fence: fence, keys: ["cursor", "gone"], record: record) { current in
            #expect(current["cursor"] == 10)
            #expect(current["gone"] == nil)
            return ["cursor": 11, "other": "x", "gone": nil]
        }
        #expect(committed)
        #expect(try one.get(flow: "f", key: "cursor") == 11)
        #expect(try one.get(flow: "f", key: "other") == "x")
        let saved = try #require(try one.run(id: "ra"))
        #expect(saved.status == .completed && saved.node == "a" && saved.fence == 3)
        // Another replica takes the lease over: the same run can commit nothing more.
        #expect(
            try two.compareAndSet(
                flow: "f", key: "lock/", expected: ["run": "ra", "fence": 3, "node": "a"],
                new: ["run": "rb", "fence": 4, "node": "b"]))
        record.status = .failed
        #expect(try !one.commit(flow: "f", fence: fence, keys: ["cursor"], record: record) { _ in ["cursor": 5] })
        #expect(try two.get(flow: "f", key: "cursor") == 11)
        #expect(try two.run(id: "ra")?.status == .completed)
    }

    /// A takeover and a commit racing from two handles: the cursor ends either untouched (takeover first)
    /// or committed, never half.
    @Test(arguments: StoreBackend.available) func aTakeoverRacingACommitNeverSplitsIt(_ backend: StoreBackend) throws {
        let (one, two, cleanUp) = try backend.open()
        defer { cleanUp() }
        for round in 0..<20 {
            let lease: Value = ["run": .string("r\(round)"), "fence": .int(round)]
            try one.set(flow: "f", key: "lock/", value: lease)
            try one.set(flow: "f", key: "a", value: 0)
            try one.set(flow: "f", key: "b", value: 0)
            let fence = Fence(key: "lock/", run: "r\(round)", token: round)
            let group = DispatchGroup()
            final class Outcome: @unchecked Sendable { var committed: Bool?, took: Bool? }
            let outcome = Outcome()
            DispatchQueue.global().async(group: group) {
                outcome.committed = try? one.commit(flow: "f", fence: fence, keys: ["a", "b"], record: nil) { _ in
                    ["a": 1, "b": 1]
                }
            }
            DispatchQueue.global().async(group: group) {
                outcome.took = try? two.compareAndSet(
                    flow: "f", key: "lock/", expected: lease, new: ["run": "other", "fence": .int(round + 1)])
            }
            group.wait()
            let a = try one.get(flow: "f", key: "a"), b = try one.get(flow: "f", key: "b")
            #expect(a == b)
            #expect(outcome.took == true)
            #expect((a == 1) == (outcome.committed == true))
        }
    }
}
