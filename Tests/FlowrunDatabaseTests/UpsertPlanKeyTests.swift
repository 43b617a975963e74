import FlowrunRuntime
import FlowrunValue
import Testing

@testable import FlowrunDatabase

/// An upsert batch is de-duplicated by key, the last row winning at the first row's place; rows whose
/// keys share a hash stay apart unless the keys are equal.
struct UpsertPlanKeyTests {
    static let rows: [Value] = [
        ["id": 1, "tenant": "a", "v": "first"],
        ["id": 2, "tenant": "a", "v": "x"],
        ["id": 1, "tenant": "b", "v": "other tenant"],
        ["id": 1, "tenant": "a", "v": "last"],
        ["id": 1.0, "tenant": "b", "v": "1.0 is 1"],
        ["id": 3, "tenant": "a", "v": "y"],
        ["id": 2, "tenant": "a", "v": "x2"],
    ]

    static func plan(bucket: @escaping (Int) -> Int) throws -> [[Value]] {
        let plan = try UpsertPlan(
            table: "t", keys: ["id", "tenant"], rows: rows, boolsAsInts: false, bucket: bucket)
        #expect(plan.groups.count == 1)
        #expect(plan.total == 4)
        return plan.groups.flatMap(\.rows)
    }

    @Test(arguments: ["seeded hashes", "every hash the same", "two buckets"])
    func duplicatesAreMergedOnlyWhenTheKeysAreEqual(_ hashing: String) throws {
        let bucket: (Int) -> Int =
            switch hashing {
            case "every hash the same": { _ in 7 }
            case "two buckets": { $0 & 1 }
            default: { $0 }
            }
        let rows = try Self.plan(bucket: bucket)
        #expect(
            rows == [
                [1, "a", "last"], [2, "a", "x2"], [1.0, "b", "1.0 is 1"], [3, "a", "y"],
            ])
    }

    @Test func aSingleKeyBatchOfDistinctRowsKeepsThemAll() throws {
        let rows: [Value] = (0..<5000).map { ["external_id": .string("usr_\($0)"), "n": .int($0)] }
        let plan = try UpsertPlan(table: "t", keys: ["external_id"], rows: rows, boolsAsInts: false)
        #expect(plan.total == 5000)
        #expect(plan.groups[0].rows.map { $0[1] } == (0..<5000).map { .int($0) })
    }

    @Test func aRowWithoutItsKeyIsRefused() {
        #expect(throws: NodeError.self) {
            _ = try UpsertPlan(table: "t", keys: ["id"], rows: [["id": 1], ["name": "no id"]], boolsAsInts: false)
        }
    }
}
