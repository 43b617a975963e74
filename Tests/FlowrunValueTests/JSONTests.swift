import FlowrunValue
import Testing

@Suite struct JSONTests {
    @Test(arguments: [
        "null", "true", "false", "0", "-12", "3.0", "0.1", "1e+21", "100000000000000000000.0", "0.00001", "1e-7",
        "\"\"", "\"héllo 🌍\"", "[]", "{}",
        "[1,2.5,\"x\",null,{\"a\":[true]}]", "{\"b\":1,\"a\":2}", "\"tab\\tquote\\\"backslash\\\\newline\\n\"",
        "9223372036854775807", "-9223372036854775808", "\"\\u0001\"", "\"cr\\r unit\\u001f del\u{7f}\"",
    ])
    func roundTrips(_ text: String) throws {
        #expect(JSON.serialize(try JSON.parse(text)) == text)
    }

    /// Output longer than the serializer's first buffer (64 bytes) grows it without losing bytes.
    @Test func serializesLargeValues() throws {
        let long = String(repeating: "é-\"x\"-", count: 500)
        let value: Value = [
            "long": .string(long), "items": .array((0..<1000).map { ["id": .int($0), "name": .string("user \($0)")] }),
        ]
        let text = JSON.serialize(value)
        #expect(try JSON.parse(text) == value)
        #expect(text.utf8.count > 20_000)
        #expect(try JSON.parse(JSON.pretty(value)) == value)
    }

    @Test func keepsIntAndDoubleApart() throws {
        #expect(try JSON.parse("3") == .int(3))
        if case .double(let d) = try JSON.parse("3.0") { #expect(d == 3) } else { Issue.record("3.0 is not a double") }
        #expect(try JSON.parse("1E2") == .double(100))
        #expect(try JSON.parse("99999999999999999999") == .bigInt("99999999999999999999"))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSON.parse(#""\u00e9\ud83c\udf0d\/""#) == "é🌍/")
        #expect(try JSON.parse(" { \"a\" : [ 1 , 2 ] } ") == ["a": [1, 2]])
    }

    @Test func keepsKeyOrder() throws {
        let v = try JSON.parse(#"{"z":1,"a":2,"m":3}"#)
        #expect(v.objectValue.map { Array($0.keys) } == ["z", "a", "m"])
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("{", "expected a string key"), ("[1,]", "unexpected character ']'"),
        ("01", "leading zeros are not allowed"), ("1.", "expected digits after '.'"), ("\"abc", "unterminated string"),
        ("\"\\x\"", "invalid escape"), ("\"\\ud83c\"", "unpaired surrogate"), ("tru", "unexpected end of input"),
        ("[1] 2", "unexpected text after the JSON value"), ("1e999", "number out of range"),
        ("\"a\u{1}\"", "control character"),
    ])
    func rejectsBadInput(_ input: String, _ message: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(input) }
        do { _ = try JSON.parse(input) } catch {
            #expect(error.message.contains(message), "\(input): \(error.message)")
        }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(bytes: [34, 0xC3, 0x28, 34]) }
    }

    @Test func limitsNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSON.ParseError.self) { try JSON.parse(deep) }
    }

    @Test func prettyPrints() throws {
        #expect(JSON.pretty(["a": [1, 2], "b": [:]]) == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
    }
}

@Suite struct ValueTests {
    @Test func equalityIsNumericAcrossIntAndDouble() {
        #expect(Value.int(1) == .double(1.0))
        #expect(Value.string("1") != .int(1))
        #expect(Value(dictionaryLiteral: ("a", 1), ("b", 2)) == ["b": 2, "a": 1])
        #expect(Set<Value>([.int(1), .double(1.0)]).count == 1)
    }

    @Test func truthinessFollowsJavaScript() {
        for v: Value in [nil, false, 0, 0.0, ""] { #expect(!v.isTruthy) }
        for v: Value in [true, 1, -0.5, "0", [], [:]] { #expect(v.isTruthy) }
    }

    @Test func pathsAndSubscripts() {
        let v: Value = ["response": ["bodyJson": ["data": [["id": "u1"], ["id": "u2"]]]]]
        #expect(v.value(atPath: "response.bodyJson.data.1.id") == "u2")
        #expect(v["missing"] == nil)
        #expect(v["response"]["bodyJson"]["data"][-1]["id"] == "u2")
        #expect(v["response"]["bodyJson"]["data"][9] == nil)
    }

    @Test func interpolationForm() {
        #expect(Value.null.interpolated == "")
        #expect(Value.double(2.5).interpolated == "2.5")
        #expect(Value.int(-3).interpolated == "-3")
        #expect(Value(dictionaryLiteral: ("a", [1, "x"])).interpolated == #"{"a":[1,"x"]}"#)
    }
}
