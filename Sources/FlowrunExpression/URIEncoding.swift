import FlowrunValue

/// `encodeURIComponent`, `encodeURI` and `decodeURIComponent` with JavaScript's character sets: text is
/// percent-encoded as UTF-8, and malformed escapes are an error (JavaScript's URIError), never null.
enum URIEncoding {
    /// Kept as they are by both: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()".utf8)
    /// Kept as they are by `encodeURI` only: `; , / ? : @ & = + $ #`.
    private static let reserved = Set(";,/?:@&=+$#".utf8)
    private static let hex = Array("0123456789ABCDEF".utf8)

    static func encode(_ s: String, keepReserved: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if unreserved.contains(b) || (keepReserved && reserved.contains(b)) {
                out.append(b)
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decodeComponent(_ s: String) throws(BuiltinFailure) -> String {
        let bytes = Array(s.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return s }
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 65...70: c - 55
            case 97...102: c - 87
            default: nil
            }
        }
        func escaped(at i: Int) throws(BuiltinFailure) -> UInt8 {
            guard i + 2 < bytes.count, bytes[i] == UInt8(ascii: "%"), let hi = hexValue(bytes[i + 1]),
                let lo = hexValue(bytes[i + 2])
            else {
                throw BuiltinFailure("decodeURIComponent: malformed escape at \(i) in '\(s)' (% takes two hex digits)")
            }
            return hi << 4 | lo
        }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "%") else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let lead = try escaped(at: i)
            i += 3
            let length =
                lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            guard length > 0 else { throw BuiltinFailure("decodeURIComponent: '\(s)' is not percent-encoded UTF-8") }
            var sequence = [lead]
            for _ in 1..<length {
                sequence.append(try escaped(at: i))
                i += 3
            }
            // Swift's decoder rejects overlong forms, surrogates and bad continuation bytes, as JavaScript does.
            guard length == 1 || String(validating: sequence, as: UTF8.self) != nil else {
                throw BuiltinFailure("decodeURIComponent: '\(s)' is not percent-encoded UTF-8")
            }
            out.append(contentsOf: sequence)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Builtins {
    static let uriFunctions: [FunctionSpec] = [
        FunctionSpec(
            name: "encodeURIComponent", signature: "encodeURIComponent(s: string) -> string",
            doc: "Percent-encodes the UTF-8 bytes of `s` except `A-Z a-z 0-9 - _ . ! ~ * ' ( )`, as JavaScript "
                + "does: for one path segment or query value.", arity: 1...1,
            examples: [
                ("encodeURIComponent('a/b?c#d')", "\"a%2Fb%3Fc%23d\""),
                ("encodeURIComponent('José & co')", "\"Jos%C3%A9%20%26%20co\""),
            ], result: { _ in .string },
            impl: { a, _ throws(BuiltinFailure) in
                .string(URIEncoding.encode(try text(a[0], "encodeURIComponent"), keepReserved: false))
            }),
        FunctionSpec(
            name: "encodeURI", signature: "encodeURI(s: string) -> string",
            doc: "Percent-encodes a whole URL as JavaScript does: like `encodeURIComponent`, but keeps "
                + "`; , / ? : @ & = + $ #`.", arity: 1...1,
            examples: [("encodeURI('https://x.org/a b?q=é#f')", "\"https://x.org/a%20b?q=%C3%A9#f\"")],
            result: { _ in .string },
            impl: { a, _ throws(BuiltinFailure) in
                .string(URIEncoding.encode(try text(a[0], "encodeURI"), keepReserved: true))
            }),
        FunctionSpec(
            name: "decodeURIComponent", signature: "decodeURIComponent(s: string) -> string",
            doc: "Decodes every `%XX` escape; a malformed escape or bytes that are not UTF-8 are an error.",
            arity: 1...1,
            examples: [
                ("decodeURIComponent('a%2Fb%20%C3%A9')", "\"a/b é\""), ("decodeURIComponent('%E2%82%AC')", "\"€\""),
            ],
            result: { _ in .string },
            impl: { a, _ throws(BuiltinFailure) in
                .string(try URIEncoding.decodeComponent(try text(a[0], "decodeURIComponent")))
            }),
    ]
}
