import FlowrunRuntime
import FlowrunValue
import Testing

/// Issue 18: the dead-letter queue shows each item's first and last error. The first is kept while the
/// item fails again in later runs, and starts over when a closed item fails anew.
@Suite struct DeadLetterFirstErrorTests {
    func fail(_ queue: DeadLetterQueue, run: String, message: String, now: Int) throws -> DeadLetterQueue.Item {
        try queue.record(
            flow: "f", key: "u1", payload: ["id": "u1"], error: ["message": .string(message)], runID: run,
            entry: "fix.in", flowFile: nil, maxAttempts: 3, now: now
        ).item
    }

    @Test func theFirstErrorStaysWhileTheLastOneMoves() throws {
        let queue = DeadLetterQueue(store: MemoryStore())
        _ = try fail(queue, run: "r1", message: "bad email", now: 1)
        let item = try fail(queue, run: "r2", message: "timeout", now: 2)
        #expect(item.firstError["message"] == "bad email")
        #expect(item.error["message"] == "timeout")
        #expect(item.attempts == 2)
        let stored = try #require(try queue.item(id: item.id))
        #expect(stored.firstError["message"] == "bad email" && stored.value["firstError"]["message"] == "bad email")
    }

    @Test func aClosedItemThatFailsAgainStartsWithANewFirstError() throws {
        let queue = DeadLetterQueue(store: MemoryStore())
        _ = try fail(queue, run: "r1", message: "bad email", now: 1)
        _ = try queue.resolve(flow: "f", keys: ["u1"], now: 2)
        let item = try fail(queue, run: "r3", message: "duplicate", now: 3)
        #expect(item.firstError["message"] == "duplicate" && item.attempts == 1)
    }
}
