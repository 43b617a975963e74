import FlowrunValue
import Testing

@testable import FlowrunComponents

/// The record keys a pagination has seen, as fingerprints (a shift shows as a key served twice).
struct PaginateKeySetTests {
    @Test func everyKeyIsNewOnceAndSeenAfterThroughManyGrowths() {
        var keys = Paginate.KeySet()
        for i in 0..<50_000 where !keys.insert(.string("usr_\(i)")) { Issue.record("usr_\(i) seen before") }
        for i in 0..<50_000 where !keys.insert(.int(i)) { Issue.record("\(i) seen before") }
        #expect(keys.count == 100_000)
        var again = 0
        for i in stride(from: 0, to: 50_000, by: 7) where !keys.insert(.string("usr_\(i)")) { again += 1 }
        for i in stride(from: 0, to: 50_000, by: 7) where !keys.insert(.int(i)) { again += 1 }
        #expect(again == 2 * ((50_000 + 6) / 7))
        #expect(keys.count == 100_000)
    }

    @Test func keysAreComparedByKindAndBytes() {
        var keys = Paginate.KeySet()
        let r1 = keys.insert("1")
        #expect(r1)
        let r2 = keys.insert(1)
        #expect(r2)  // the number 1 is another key than the text "1"
        let r3 = keys.insert("é")
        #expect(r3)
        let r4 = keys.insert("e\u{301}")
        #expect(r4)  // the same text to Swift's ==, other bytes: another id
        let r5 = keys.insert("é")
        #expect(!r5)
        let r6 = keys.insert(["a": 1])
        #expect(r6)
        let r7 = keys.insert(["a": 1])
        #expect(!r7)
    }
}

/// Paths into a page or a record, split once per node.
struct PaginatePathTests {
    static let body: Value = [
        "data": [["id": "u1", "tags": ["a", "b"]], ["id": "u2", "tags": []]],
        "meta": ["0": "key zero", "next": ["cursor": "c9"]],
        "total": 2,
    ]

    @Test(
        arguments: [
            ("data[-1].id", "u2"), ("data[0].id", "u1"), ("data.0.id", "u1"), ("data.-1.tags[1]", nil),
            ("data[0].tags[-1]", "b"), ("data[0].tags.1", "b"), ("data[5].id", nil), ("data[x].id", nil),
            ("meta.0", "key zero"), ("meta[0]", nil), ("meta.next.cursor", "c9"), ("total", 2), ("..total..", 2),
            ("nothing.here", nil), ("data[0][0]", nil),
        ] as [(String, Value)])
    func pathsReadWhatTheyName(_ path: String, _ expected: Value) {
        #expect(Paginate.Path(path).value(in: Self.body) == expected, "\(path)")
        #expect(Paginate.value(in: Self.body, at: path) == expected, "\(path)")
    }
}
