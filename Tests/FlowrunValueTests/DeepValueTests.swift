import Foundation
import Testing

import FlowrunValue

/// Issue 13 item 3: values as deep as `Value.maxDepth` parse, serialize, compare, hash and release
/// on a 512 KiB thread stack; below `JSON.recursiveLevels` parsing and serialization switch from
/// recursion to an explicit stack, and must give exactly what the recursive code gives.
@Suite struct DeepValueTests {
    static func onSmallStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = DeepValueResult<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = body()
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        return box.result!
    }

    /// A value exactly `depth` levels deep whose levels alternate between arrays and objects, with siblings
    /// at every level, so that separators, keys and indentation are exercised at every depth.
    static func mixed(_ depth: Int) -> Value {
        var value: Value = ["leaf": "é\"x", "n": 1.5, "e": [], "o": [:]]
        for level in 2..<depth {
            value = level % 2 == 0 ? ["a": .int(level), "child": value, "z": nil] : [.int(level), value, "s"]
        }
        return value
    }

    /// The recursive serializer the deep path replaces, as a reference.
    static func reference(_ v: Value, _ indent: Int?, _ level: Int = 0) -> String {
        func nl(_ l: Int) -> String { indent.map { "\n" + String(repeating: " ", count: $0 * l) } ?? "" }
        switch v {
        case .array(let a) where !a.isEmpty:
            return "[" + a.map { nl(level + 1) + reference($0, indent, level + 1) }.joined(separator: ",") + nl(level)
                + "]"
        case .object(let o) where !o.isEmpty:
            let colon = indent == nil ? ":" : ": "
            return "{"
                + o.map {
                    nl(level + 1) + JSON.serialize(.string($0.key)) + colon + reference($0.value, indent, level + 1)
                }
                .joined(separator: ",") + nl(level) + "}"
        default: return JSON.serialize(v)
        }
    }

    @Test func deepSerializationMatchesTheRecursiveForm() throws {
        let value = Self.mixed(100)
        #expect(JSON.serialize(value) == Self.reference(value, nil))
        #expect(JSON.pretty(value) == Self.reference(value, 2))
        #expect(try JSON.parse(JSON.serialize(value)) == value)
        #expect(try JSON.parse(JSON.pretty(value)) == value)
    }

    @Test func aValueAtTheMaximumDepthWorksOnASmallStack() {
        let ok = Self.onSmallStack { () -> Bool in
            let value = Self.mixed(Value.maxDepth)
            guard value.nests(deeperThan: Value.maxDepth - 1), !value.nests(deeperThan: Value.maxDepth) else {
                return false
            }
            let text = JSON.serialize(value), pretty = JSON.pretty(value)
            guard let back = try? JSON.parse(text), let back2 = try? JSON.parse(pretty) else { return false }
            var set = Set<Value>()
            set.insert(value)
            return back == value && back2 == value && set.contains(back) && back.hashValue == value.hashValue
        }
        #expect(ok)
    }

    @Test func jsonDeeperThanTheLimitIsAnErrorOnASmallStack() {
        let results = Self.onSmallStack { () -> [String] in
            let deep = [
                String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
                String(repeating: "{\"a\":", count: 100_000),
                String(repeating: "[1,", count: 100_000),
                String(repeating: "[", count: 100) + "1,}" + String(repeating: "]", count: 100),
                String(repeating: "{\"a\":", count: 100) + "1]" + String(repeating: "}", count: 100),
                String(repeating: "{\"a\":", count: 100) + "1, 2}",
                String(repeating: "[", count: 100),
            ]
            return deep.map { text in
                do throws(JSON.ParseError) { return "ok \(try JSON.parse(text))" } catch { return error.message }
            }
        }
        #expect(
            results == [
                "nesting deeper than 512 levels", "nesting deeper than 512 levels", "nesting deeper than 512 levels",
                "unexpected character '}'", "expected ',' or '}'", "expected a string key", "unexpected end of input",
            ])
    }

    @Test func deepEqualityAndHashingAgreeWithTheShallowRules() {
        func wrap(_ leaf: Value, _ depth: Int) -> Value {
            var v = leaf
            for i in 0..<depth { v = i % 2 == 0 ? ["x": v, "k": .int(i)] : [v, .int(i)] }
            return v
        }
        for depth in [3, 40, 300] {
            let a = wrap(["a": 1, "b": [2, "s"]], depth)
            let b = wrap(["b": [2.0, "s"], "a": 1.0], depth)  // other key order, doubles for ints
            let c = wrap(["a": 1, "b": [2, "t"]], depth)
            let d = wrap(["a": 1, "b": [2, "s"]], depth + 1)
            #expect(a == b)
            #expect(a.hashValue == b.hashValue)
            #expect(a != c)
            #expect(a != d)
            #expect(Set([a, b, c]).count == 2)
        }
    }

    @Test func deepParsingKeepsWhitespaceKeysAndOrder() throws {
        let text =
            String(repeating: "[ ", count: 40) + "{ \"b\" : 1 , \"a\" : [ ] , \"c\" : { } }"
            + String(repeating: " ]", count: 40)
        var expected: Value = ["b": 1, "a": [], "c": [:]]
        for _ in 0..<40 { expected = [expected] }
        let parsed = try JSON.parse(text)
        #expect(parsed == expected)
        #expect(JSON.serialize(parsed) == JSON.serialize(expected))
    }
}

final class DeepValueResult<T>: @unchecked Sendable {
    var result: T?
}
