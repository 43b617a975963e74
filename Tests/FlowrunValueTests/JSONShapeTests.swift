import FlowrunValue
import Testing

/// The parser shares one object's keys with the next object of the same shape (the same raw key bytes
/// in the same order). Whatever the neighbours, an object must parse exactly as it does alone.
struct JSONShapeTests {
    static let objects = [
        #"{"id":1,"name":"a","email":"x@y.z"}"#,
        #"{"id":2,"name":"b","email":"q@r.s"}"#,  // the same shape
        #"{"id":3,"name":"c"}"#,  // fewer keys
        #"{"id":4,"name":"d","email":"e","extra":true}"#,  // more keys
        #"{"id":5,"email":"f","name":"g"}"#,  // other order
        #"{"id":6,"na\u006de":"h","email":"i"}"#,  // an escaped spelling of the same key
        #"{"id":7,"id":8,"email":"j"}"#,  // a duplicate key where the shape has another
        #"{"id":9,"name":"k","email":"l"}"#,
        #"{"a\\b":1,"c\"d":2}"#,  // keys raw JSON spells with escapes
        #"{"a\\b":3,"c\"d":4}"#,
        #"{"a\b":5,"c\"d":6}"#,  // raw bytes like the key above, but `\b` is a backspace
        #"{"id":10,"nested":{"x":1,"y":[{"p":1,"q":2},{"p":3,"q":4},{"q":5,"p":6}]},"name":"m"}"#,
        #"{"id":11,"nested":{"x":2,"y":[]},"name":"n"}"#,
        #"{"id":12,"nested":{"x":3},"name":"o"}"#,
        #"{"é":1,"ü":2}"#,
        #"{"é":3,"ü":4}"#,
        #"{}"#,
        #"{"id":13,"name":"p","email":"q"}"#,
    ]

    @Test func anObjectParsesInAnArrayAsItDoesAlone() throws {
        let alone = try Self.objects.map { try JSON.parse($0) }
        let together = try JSON.parse("[" + Self.objects.joined(separator: ",") + "]")
        guard case .array(let items) = together else { Issue.record("not an array"); return }
        #expect(items.count == alone.count)
        for (i, (a, b)) in zip(items, alone).enumerated() {
            #expect(a == b, "object \(i): \(Self.objects[i])")
            // Equal as values and in key order (== compares objects regardless of order).
            #expect(JSON.serialize(a) == JSON.serialize(b), "object \(i): \(Self.objects[i])")
        }
        #expect(JSON.serialize(items[5]) == #"{"id":6,"name":"h","email":"i"}"#)
        #expect(JSON.serialize(items[6]) == #"{"id":8,"email":"j"}"#)
        #expect(items[10]["a\u{8}"] == 5)
    }

    @Test func shapesSurviveErrorsAndWhitespace() throws {
        let text = "[ {\"a\" : 1 , \"b\" : 2} ,\n {\"a\":3,\"b\":4}, {\"a\":5 \"b\":6}]"
        #expect(throws: JSON.ParseError.self) { try JSON.parse(text) }
        let ok = try JSON.parse("[ {\"a\" : 1 , \"b\" : 2} ,\n {  \"a\"\t:3,\r\n\"b\":4 } ]")
        #expect(ok == [["a": 1, "b": 2], ["a": 3, "b": 4]])
        #expect(throws: JSON.ParseError.self) { try JSON.parse(#"[{"a":1,"b":2},{"a":1,"b"]"#) }
        #expect(throws: JSON.ParseError.self) { try JSON.parse(#"[{"a":1,"b":2},{"a":1,"b":2"#) }
    }

    /// Thousands of objects with keys drawn from a small set (a fixed pseudo-random walk), so that
    /// neighbours often share a shape, a prefix of one, or the same keys in another order.
    @Test func manyNeighboursParseAsAlone() throws {
        let names = ["id", "name", "e\\u0078", "x", "a\\\\b", "é"]
        var texts: [String] = []
        var walk: UInt64 = 19
        func next() -> Int {
            walk = walk &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(walk >> 33)
        }
        for _ in 0..<2000 {
            let count = next() % 5
            var parts: [String] = []
            for _ in 0..<count { parts.append("\"\(names[next() % names.count])\":\(next() % 100)") }
            texts.append("{" + parts.joined(separator: ",") + "}")
        }
        let together = try JSON.parse("[" + texts.joined(separator: ",") + "]")
        guard case .array(let items) = together else { Issue.record("not an array"); return }
        for (item, text) in zip(items, texts) {
            let alone = try JSON.parse(text)
            #expect(JSON.serialize(item) == JSON.serialize(alone), "\(text)")
        }
    }
}

/// The string scanner's fast path (no escapes, ASCII) and its fallbacks: each special byte, and
/// multi-byte UTF-8, at every position of strings up to 25 bytes long.
struct JSONStringScanTests {
    @Test func everySpecialByteAtEveryPosition() throws {
        let specials: [(json: String, text: String?)] = [
            ("\\\"", "\""), ("\\\\", "\\"), ("\\n", "\n"), ("\\u00e9", "é"), ("é", "é"), ("😀", "😀"),
            ("\u{01}", nil), ("\u{1F}", nil), ("\u{7F}", "\u{7F}"), (" ", " "), ("!", "!"), ("#", "#"),
            ("[", "["), ("]", "]"), ("\u{80}", "\u{80}"),
        ]
        for length in 0...24 {
            for at in 0...length {
                for (json, text) in specials {
                    let before = String(repeating: "a", count: at), after = String(repeating: "b", count: length - at)
                    let source = "[\"" + before + json + after + "\",1]"
                    if let text {
                        let parsed = try JSON.parse(source)
                        #expect(parsed == [.string(before + text + after), 1], "\(source)")
                    } else {
                        #expect(throws: JSON.ParseError.self, "\(source)") { try JSON.parse(source) }
                    }
                }
            }
        }
    }

    @Test func invalidUTF8AfterCleanWordsIsRefused() {
        for at in [0, 3, 8, 9, 16, 17] {
            var bytes = Array("[\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: at)
            bytes += [0xC3, 0x28] + Array(repeating: UInt8(ascii: "b"), count: 9) + Array("\"]".utf8)
            #expect(throws: JSON.ParseError.self, "invalid UTF-8 at \(at)") { try JSON.parse(bytes: bytes) }
        }
    }
}
