import OrderedCollections

#if canImport(Glibc)
    import Glibc
#endif

/// JSON text to `Value` and back.
///
/// Hand-written over UTF-8 bytes because this is a hot path: parsing a 27 KB API page takes about
/// 0.5 ms here, against 8-17 ms for Foundation's `JSONDecoder`/`JSONSerialization` (see NOTES.md),
/// and Foundation turns `3.0` into an Int. Ints stay ints, doubles stay doubles, Unicode round-trips.
public enum JSON {
    /// Nesting deeper than this is rejected rather than risking the stack.
    public static let maxDepth = 512

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        /// Byte offset into the input where the problem was found.
        public let offset: Int
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> Value {
        try parse(bytes: Array(text.utf8))
    }

    public static func parse(bytes: UnsafeBufferPointer<UInt8>) throws(ParseError) -> Value {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.pos != bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    public static func parse(bytes: [UInt8]) throws(ParseError) -> Value {
        let result: Result<Value, ParseError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(ParseError) in try parse(bytes: buffer) }
        }
        return try result.get()
    }

    /// Compact JSON (no spaces), keys in insertion order.
    public static func serialize(_ value: Value) -> String {
        var out = ByteWriter(capacity: 64)
        write(value, to: &out, indent: nil, level: 0)
        return out.string()
    }

    /// Pretty JSON with two-space indentation, for humans.
    public static func pretty(_ value: Value) -> String { serialize(value, indent: "  ") }

    /// JSON indented as JavaScript's `JSON.stringify(value, null, indent)` does: each level by `indent`
    /// (the caller limits it to 10 characters as JavaScript does), `": "` after keys; an empty `indent` is compact.
    public static func serialize(_ value: Value, indent: String) -> String {
        if indent.isEmpty { return serialize(value) }
        var out = ByteWriter(capacity: 256)
        write(value, to: &out, indent: Array(indent.utf8), level: 0)
        return out.string()
    }

    /// Parsing and serialization recurse directly (fastest) for the first levels; deeper values go on
    /// with an explicit stack (`parseDeep`, `writeDeep`), so no value costs more than this many frames.
    static let recursiveLevels = 32

    static func write(_ value: Value, to out: inout ByteWriter, indent: [UInt8]?, level: Int) {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(text: String(i))
        case .bigInt(let digits): out.append(text: digits)
        case .double(let d): out.append(text: Value.canonical(d))
        case .string(let s): writeString(s, to: &out)
        case .array(let a):
            if a.isEmpty { out.append("[]"); return }
            if level >= JSON.recursiveLevels { return writeDeep(value, to: &out, indent: indent, level: level) }
            out.append(UInt8(ascii: "["))
            for (i, element) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                write(element, to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.isEmpty { out.append("{}"); return }
            if level >= JSON.recursiveLevels { return writeDeep(value, to: &out, indent: indent, level: level) }
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in o {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                newline(&out, indent, level + 1)
                writeString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(v, to: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `write` without recursion: the open arrays and objects and the position in each are kept on
    /// a stack of their own, so a value as deep as `Value.maxDepth` needs no deep thread stack.
    private static func writeDeep(_ value: Value, to out: inout ByteWriter, indent: [UInt8]?, level: Int) {
        enum Open {
            case array([Value], next: Int)
            case object(Value.Object, next: Int)
        }
        var stack: [Open] = []
        var pending: Value? = value
        while true {
            if let v = pending {
                pending = nil
                switch v {
                case .array(let a) where !a.isEmpty:
                    out.append(UInt8(ascii: "["))
                    stack.append(.array(a, next: 0))
                case .object(let o) where !o.isEmpty:
                    out.append(UInt8(ascii: "{"))
                    stack.append(.object(o, next: 0))
                default:
                    write(v, to: &out, indent: indent, level: level + stack.count)
                }
            }
            guard let top = stack.last else { return }
            let depth = level + stack.count
            switch top {
            case .array(let a, let i):
                if i == a.count {
                    stack.removeLast()
                    newline(&out, indent, depth - 1)
                    out.append(UInt8(ascii: "]"))
                    continue
                }
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, depth)
                stack[stack.count - 1] = .array(a, next: i + 1)
                pending = a[i]
            case .object(let o, let i):
                if i == o.count {
                    stack.removeLast()
                    newline(&out, indent, depth - 1)
                    out.append(UInt8(ascii: "}"))
                    continue
                }
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, depth)
                writeString(o.keys[i], to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                stack[stack.count - 1] = .object(o, next: i + 1)
                pending = o.values[i]
            }
        }
    }

    private static func newline(_ out: inout ByteWriter, _ indent: [UInt8]?, _ level: Int) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        indent.withUnsafeBufferPointer { unit in
            for _ in 0..<level { out.append(unit) }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, to out: inout ByteWriter) {
        var s = s
        s.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            // Fast path: most strings need no escaping and are copied in one go.
            var clean = true
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                clean = false
                break
            }
            if clean {
                out.append(bytes)
            } else {
                for byte in bytes { escape(byte, to: &out) }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    private static func escape(_ byte: UInt8, to out: inout ByteWriter) {
        switch byte {
        case UInt8(ascii: "\""): out.append("\\\"")
        case UInt8(ascii: "\\"): out.append("\\\\")
        case 0x0A: out.append("\\n")
        case 0x0D: out.append("\\r")
        case 0x09: out.append("\\t")
        case 0x08: out.append("\\b")
        case 0x0C: out.append("\\f")
        case 0..<0x20:
            out.append("\\u00")
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 15)])
        default: out.append(byte)
        }
    }
}

/// An output buffer of bytes (the serializer's, and the PostgreSQL driver's parameter text).
/// `[UInt8].append(contentsOf:)` costs about 175 instructions per call (callgrind), more than copying a
/// typical key or value; this one checks capacity and copies.
public struct ByteWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private var capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        capacity = max(capacity * 2, count + extra)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
    }

    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        reserve(bytes.count)
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    public mutating func append(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    public mutating func append(text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    /// The bytes written so far, valid only during the call.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body(UnsafeBufferPointer(start: base, count: count))
    }

    /// The bytes written, as a String (they are valid UTF-8: copied from Strings and ASCII literals).
    consuming func string() -> String {
        String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    /// The keys of the last object parsed at each of the first `Shape.levels` depths. API pages are
    /// arrays of objects with the same keys in the same order: an object whose raw key bytes match the
    /// previous one's shares its key set (no key strings made, no key array allocated, no duplicate-key
    /// comparisons): 5,700 fewer instructions a row of the user sync (13% of its total then).
    var shapes: [Shape?] = []

    struct Shape {
        static let levels = 8
        let keys: OrderedSet<String>
        /// The keys' UTF-8 bytes one after another, and where each ends.
        let bytes: [UInt8]
        let ends: [Int]

        /// nil when a key has a byte that raw JSON would spell differently (a quote, a backslash or a
        /// control character), so that raw bytes equal to a key always mean that key.
        init?(_ keys: OrderedSet<String>) {
            var bytes: [UInt8] = []
            var ends: [Int] = []
            ends.reserveCapacity(keys.count)
            for key in keys {
                for b in key.utf8 {
                    if b == UInt8(ascii: "\\") || b == UInt8(ascii: "\"") || b < 0x20 { return nil }
                    bytes.append(b)
                }
                ends.append(bytes.count)
            }
            self.keys = keys
            self.bytes = bytes
            self.ends = ends
        }
    }

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ message: String) -> JSON.ParseError { JSON.ParseError(message: message, offset: pos) }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSON.ParseError) -> Value {
        guard depth < JSON.maxDepth else { throw error("nesting deeper than \(JSON.maxDepth) levels") }
        guard pos < bytes.count else { throw error("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            if depth >= JSON.recursiveLevels { return try parseDeep(depth: depth) }
            return try parseObject(depth: depth)
        case UInt8(ascii: "["):
            if depth >= JSON.recursiveLevels { return try parseDeep(depth: depth) }
            return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Unicode.Scalar(bytes[pos]))'")
        }
    }

    /// `parseValue` for an array or object below the first `JSON.recursiveLevels` levels, without
    /// recursion: the open arrays and objects are kept on a stack of their own, so nesting up to
    /// `JSON.maxDepth` needs no deep thread stack.
    mutating func parseDeep(depth: Int) throws(JSON.ParseError) -> Value {
        enum Open {
            case array([Value])
            case object(Value.Object, key: String)
        }
        var stack: [Open] = []
        nextValue: while true {
            guard depth + stack.count < JSON.maxDepth else {
                throw error("nesting deeper than \(JSON.maxDepth) levels")
            }
            guard pos < bytes.count else { throw error("unexpected end of input") }
            var complete: Value
            switch bytes[pos] {
            case UInt8(ascii: "["):
                pos += 1
                skipWhitespace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                    pos += 1
                    complete = .array([])
                } else {
                    stack.append(.array([]))
                    continue nextValue
                }
            case UInt8(ascii: "{"):
                pos += 1
                skipWhitespace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                    pos += 1
                    complete = .object(Value.Object())
                } else {
                    stack.append(.object(Value.Object(), key: try parseKey()))
                    continue nextValue
                }
            default:
                // A scalar: parseValue does not recurse for it.
                complete = try parseValue(depth: depth + stack.count)
            }
            // Attach the finished value to the innermost open container, closing containers as they end.
            while let top = stack.popLast() {
                skipWhitespace()
                switch top {
                case .array(var array):
                    array.append(complete)
                    guard pos < bytes.count else { throw error("unexpected end of input in array") }
                    if bytes[pos] == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        stack.append(.array(array))
                        continue nextValue
                    }
                    guard bytes[pos] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
                    pos += 1
                    complete = .array(array)
                case .object(var object, let key):
                    object[key] = complete
                    guard pos < bytes.count else { throw error("unexpected end of input in object") }
                    if bytes[pos] == UInt8(ascii: ",") {
                        pos += 1
                        stack.append(.object(object, key: try parseKey()))
                        continue nextValue
                    }
                    guard bytes[pos] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                    pos += 1
                    complete = .object(object)
                }
            }
            return complete
        }
    }

    /// `"key":` inside an object, with the whitespace around it.
    private mutating func parseKey() throws(JSON.ParseError) -> String {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let key = try parseString()
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
        pos += 1
        skipWhitespace()
        return key
    }

    mutating func literal(_ word: StaticString) throws(JSON.ParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw error("unexpected end of input") }
        let w = word.utf8Start
        for i in 0..<n where bytes[pos + i] != w[i] { throw error("invalid literal") }
        pos += n
    }

    mutating func parseObject(depth: Int) throws(JSON.ParseError) -> Value {
        pos += 1
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(Value.Object()) }
        var object = Value.Object()
        if depth < shapes.count, let shape = shapes[depth] {
            // Keys as the shape has them, values parsed into one array.
            var values = ContiguousArray<Value>()
            values.reserveCapacity(shape.keys.count)
            while true {
                skipWhitespace()
                guard values.count < shape.keys.count, matchKey(shape, values.count) else {
                    object = Value.Object(
                        uncheckedUniqueKeys: shape.keys.elements[0..<values.count], values: values)
                    break
                }
                skipWhitespace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1
                skipWhitespace()
                values.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                guard bytes[pos] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                pos += 1
                if values.count == shape.keys.count {
                    return .object(Value.Object(uncheckedUniqueKeys: shape.keys, values: values))
                }
                object = Value.Object(uncheckedUniqueKeys: shape.keys.elements[0..<values.count], values: values)
                remember(object, depth: depth)
                return .object(object)
            }
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
            pos += 1
            skipWhitespace()
            object[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input in object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                remember(object, depth: depth)
                return .object(object)
            }
            throw error("expected ',' or '}'")
        }
    }

    /// Whether the string at `pos` is exactly the shape's key `index` written without escapes; if so,
    /// moves past its closing quote.
    @inline(__always)
    mutating func matchKey(_ shape: Shape, _ index: Int) -> Bool {
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { return false }
        let start = index == 0 ? 0 : shape.ends[index - 1]
        let length = shape.ends[index] - start
        let first = pos + 1
        guard first + length < bytes.count, bytes[first + length] == UInt8(ascii: "\"") else { return false }
        let same = shape.bytes.withUnsafeBufferPointer { key in
            memcmp(key.baseAddress! + start, bytes.baseAddress! + first, length) == 0
        }
        if same { pos = first + length + 1 }
        return same
    }

    mutating func remember(_ object: Value.Object, depth: Int) {
        guard depth < Shape.levels, object.count > 1 else { return }
        while shapes.count <= depth { shapes.append(nil) }
        shapes[depth] = Shape(object.keys)
    }

    mutating func parseArray(depth: Int) throws(JSON.ParseError) -> Value {
        pos += 1
        var array: [Value] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(array) }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input in array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(array) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSON.ParseError) -> Value {
        let start = pos
        var isDouble = false
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let digitsStart = pos
        while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 { pos += 1 }
        if pos == digitsStart { throw error("expected digits") }
        if bytes[digitsStart] == 48, pos - digitsStart > 1 { throw error("leading zeros are not allowed") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isDouble = true
            pos += 1
            let fracStart = pos
            while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 { pos += 1 }
            if pos == fracStart { throw error("expected digits after '.'") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isDouble = true
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            let expStart = pos
            while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 { pos += 1 }
            if pos == expStart { throw error("expected exponent digits") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        if !isDouble {
            if let i = Int(text) { return .int(i) }
            // Beyond 64 bits: kept exact as its text (JSON allows no leading zeros, so it is canonical).
            return .bigInt(text)
        }
        guard let d = Double(text), d.isFinite else {
            throw JSON.ParseError(message: "number out of range", offset: start)
        }
        return .double(d)
    }

    mutating func parseString() throws(JSON.ParseError) -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes. `high` collects the bytes' top bits: an ASCII string needs no UTF-8 check.
        var high: UInt8 = 0
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let s = UnsafeBufferPointer(rebasing: bytes[start..<pos])
                pos += 1
                return high < 0x80 ? String(decoding: s, as: UTF8.self) : try validated(s, at: start)
            }
            high |= b
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in string") }
            pos += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return try out.withUnsafeBufferPointer { buf throws(JSON.ParseError) in try validated(buf, at: start) }
            }
            if b < 0x20 { throw error("control character in string") }
            if b != UInt8(ascii: "\\") { out.append(b); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "/"): out.append(47)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard pos + 1 < bytes.count, bytes[pos] == 92, bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate")
                    }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid unicode escape") }
                out.append(contentsOf: String(Character(u)).utf8)
            default: throw error("invalid escape")
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws(JSON.ParseError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("short unicode escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = HexDigit.value(bytes[pos]) else { throw error("invalid hex digit") }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    func validated(_ s: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSON.ParseError) -> String {
        guard let string = String(validating: s, as: UTF8.self) else {
            throw JSON.ParseError(message: "invalid UTF-8 in string", offset: offset)
        }
        return string
    }
}
