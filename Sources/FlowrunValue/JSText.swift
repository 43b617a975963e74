/// Strings and numbers as JavaScript has them (issue 15): equality and ordering by UTF-16 code
/// units, and Number::toString.
///
/// Swift's `String ==` and `<` use canonical equivalence (`"e\u{301}" == "\u{e9}"`); JavaScript
/// compares code units. For valid strings equal UTF-8 bytes mean equal UTF-16 code units, so
/// equality compares bytes; ordering compares bytes up to the first difference and only then looks
/// at the two scalars there (UTF-8 byte order is code point order, which differs from UTF-16 order
/// only between U+E000...U+FFFF and the supplementary planes).
public enum JSText {
    /// `a === b` for strings: the same code units.
    @inline(__always)
    public static func equal(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in x.count == y.count && x.elementsEqual(y) }
        }
        if let fast, let result = fast { return result }
        return a.utf8.elementsEqual(b.utf8)
    }

    /// -1, 0 or 1: JavaScript's `<` on strings (UTF-16 code unit order).
    public static func compare(_ a: String, _ b: String) -> Int {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) }
        }
        if let fast, let result = fast { return result }
        return Array(a.utf8).withUnsafeBufferPointer { x in
            Array(b.utf8).withUnsafeBufferPointer { y in compare(x, y) }
        }
    }

    private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 0
        let n = min(x.count, y.count)
        while i < n, x[i] == y[i] { i += 1 }
        if i == n { return x.count == y.count ? 0 : x.count < y.count ? -1 : 1 }
        // Back to the start of the scalar in which the strings differ (continuation bytes are 10xxxxxx).
        while i > 0, x[i] & 0xC0 == 0x80 { i -= 1 }
        let p = firstUnit(x, i), q = firstUnit(y, i)
        if p != q { return p < q ? -1 : 1 }
        // The same high surrogate: the scalars' order is the low surrogates' order.
        return x[i...].lexicographicallyPrecedes(y[i...]) ? -1 : 1
    }

    /// The first UTF-16 code unit of the scalar whose UTF-8 encoding starts at `bytes[i]`.
    private static func firstUnit(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        let lead = UInt32(bytes[i])
        func cont(_ k: Int) -> UInt32 { UInt32(bytes[i + k] & 0x3F) }
        if lead < 0x80 { return lead }
        if lead < 0xE0 { return (lead & 0x1F) << 6 | cont(1) }
        if lead < 0xF0 { return (lead & 0x0F) << 12 | cont(1) << 6 | cont(2) }
        let scalar = (lead & 0x07) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3)
        return 0xD800 + ((scalar - 0x10000) >> 10)
    }

    /// JavaScript's Number::toString(10): the shortest digits that round-trip, positional notation
    /// from 1e-7 up to below 1e21, exponent form (`1e+21`, `1.5e-7`) outside; `-0` is `"0"`.
    public static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return "0" }
        // Integral values below 2^53 print as the integer (the common case, no digit parsing).
        if d.rounded(.towardZero) == d, Swift.abs(d) < 0x1p53 { return String(Int(d)) }
        // Swift's description has the shortest round-tripping digits (closest when several are shortest,
        // as ECMAScript asks); re-lay them out by ECMAScript's rules.
        var text = Substring(d.description)
        let negative = text.first == "-"
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = text[..<e]
        }
        var digits = ""
        var pointAt = text.count
        for (i, c) in text.enumerated() {
            if c == "." { pointAt = i } else { digits.append(c) }
        }
        // value = 0.<digits> * 10^n after dropping leading zeros; trailing zeros carry no information.
        var n = pointAt + exponent
        while digits.first == "0" {
            digits.removeFirst()
            n -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count
        var out = negative ? "-" : ""
        if k <= n && n <= 21 {
            out += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            out += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            out += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            out += String(digits.first!)
            if k > 1 { out += "." + digits.dropFirst() }
            out += "e" + (e >= 0 ? "+" : "-") + String(Swift.abs(e))
        }
        return out
    }
}
