import FlowrunValue

/// JavaScript's string operations over UTF-16 code units (issue 15), for the string methods and
/// builtins. Swift measures strings in grapheme clusters (`"a\r\nb".count == 3`, JavaScript 4).
///
/// Positions are UTF-16 code units. Searching runs over UTF-8 bytes: for valid strings a match of
/// code units is a match of bytes (both encodings are self-synchronising), and an ASCII string
/// (UTF-8 count == UTF-16 count) has the same offsets in both, so ASCII stays on byte fast paths.
/// Swift strings cannot hold lone surrogates: a piece that cuts a surrogate pair in half gets
/// U+FFFD for the orphaned half (difference `lone-surrogate`).
enum JSString {
    /// `.length`: UTF-16 code units.
    @inline(__always)
    static func length(_ s: String) -> Int { s.utf16.count }

    @inline(__always)
    static func isASCII(_ s: String) -> Bool { s.utf8.count == s.utf16.count }

    /// The code units `lo..<hi` (already clamped to `0...length`) as a string.
    static func slice(_ s: String, _ lo: Int, _ hi: Int) -> String {
        guard lo < hi else { return "" }
        if isASCII(s) {
            let u = s.utf8
            let a = u.index(u.startIndex, offsetBy: lo), b = u.index(u.startIndex, offsetBy: hi)
            return String(Substring(u[a..<b]))
        }
        let units = Array(s.utf16)
        return String(decoding: units[lo..<hi], as: UTF16.self)
    }

    /// `s[i]`: the code unit at `i` as a one-unit string (U+FFFD for half a surrogate pair), nil out of range.
    static func unit(_ s: String, at i: Int) -> String? {
        let n = length(s)
        guard i >= 0, i < n else { return nil }
        return slice(s, i, i + 1)
    }

    /// The code-unit offset of the first occurrence of `needle` at or after `from`, or -1.
    static func indexOf(_ s: String, _ needle: String, from: Int = 0) -> Int {
        let start = min(max(from, 0), length(s))
        let ascii = isASCII(s)
        let startByte = ascii ? start : byteOffset(s, unitOffset: start)
        guard let at = search(s, needle, fromByte: startByte, last: false) else { return -1 }
        return ascii ? at : unitOffset(s, byteOffset: at)
    }

    /// The code-unit offset of the last occurrence of `needle`, or -1.
    static func lastIndexOf(_ s: String, _ needle: String) -> Int {
        guard let at = search(s, needle, fromByte: 0, last: true) else { return -1 }
        return isASCII(s) ? at : unitOffset(s, byteOffset: at)
    }

    static func includes(_ s: String, _ needle: String) -> Bool {
        search(s, needle, fromByte: 0, last: false) != nil
    }

    static func startsWith(_ s: String, _ prefix: String) -> Bool { s.utf8.starts(with: prefix.utf8) }

    static func endsWith(_ s: String, _ suffix: String) -> Bool {
        s.utf8.count >= suffix.utf8.count && s.utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// `s.split(separator)`: an empty separator splits into code units.
    static func split(_ s: String, _ separator: String) -> [String] {
        if separator.isEmpty {
            if isASCII(s) { return s.utf8.map { String(UnicodeScalar($0)) } }
            return s.utf16.map { String(decoding: [$0], as: UTF16.self) }
        }
        var parts: [String] = []
        var pieceStart = 0
        let sepCount = separator.utf8.count
        let bytes = Array(s.utf8)
        while let at = search(bytes, Array(separator.utf8), from: pieceStart, last: false) {
            parts.append(String(decoding: bytes[pieceStart..<at], as: UTF8.self))
            pieceStart = at + sepCount
        }
        parts.append(String(decoding: bytes[pieceStart...], as: UTF8.self))
        return parts
    }

    /// `s.replace(pattern, replacement)` / `replaceAll` with a string pattern: JavaScript's
    /// replacement patterns (`$$`, `$&`, `` $` ``, `$'`); an empty pattern matches before the first code
    /// unit (`replace`) or around every code unit (`replaceAll`). A regular-expression pattern has
    /// its own entry point.
    static func replace(_ s: String, _ pattern: String, _ replacement: String, all: Bool) -> String {
        let bytes = Array(s.utf8), pat = Array(pattern.utf8)
        var matches: [Int] = []
        if pat.isEmpty {
            if all {
                // Between every code unit: UTF-8 offsets of each scalar (an astral scalar's two code units
                // cannot be separated in a Swift string, so it counts as one position: see `lone-surrogate`).
                var offset = 0
                for scalar in s.unicodeScalars {
                    matches.append(offset)
                    offset += UTF8.width(scalar)
                }
                matches.append(offset)
            } else {
                matches = [0]
            }
        } else {
            var from = 0
            while let at = search(bytes, pat, from: from, last: false) {
                matches.append(at)
                if !all { break }
                from = at + pat.count
            }
        }
        if matches.isEmpty { return s }
        let hasPatterns = replacement.utf8.contains(UInt8(ascii: "$"))
        let rep = Array(replacement.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + matches.count * rep.count)
        var copied = 0
        for at in matches {
            out.append(contentsOf: bytes[copied..<at])
            let end = at + pat.count
            if hasPatterns { expand(rep, bytes, at, end, into: &out) } else { out.append(contentsOf: rep) }
            copied = end
        }
        out.append(contentsOf: bytes[copied...])
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `replacement` with `$$ $& $\` $'` expanded for the match `bytes[at..<end]`; any other
    /// `$` (including `$1`: a string pattern has no groups) stays as written.
    static func expand(_ replacement: [UInt8], _ bytes: [UInt8], _ at: Int, _ end: Int, into out: inout [UInt8]) {
        var i = 0
        while i < replacement.count {
            let c = replacement[i]
            if c == UInt8(ascii: "$"), i + 1 < replacement.count {
                switch replacement[i + 1] {
                case UInt8(ascii: "$"): out.append(c)
                case UInt8(ascii: "&"): out.append(contentsOf: bytes[at..<end])
                case UInt8(ascii: "`"): out.append(contentsOf: bytes[..<at])
                case UInt8(ascii: "'"): out.append(contentsOf: bytes[end...])
                default:
                    out.append(c)
                    i += 1
                    continue
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
    }

    /// `padStart`/`padEnd`: pads with `filler` repeated (and cut) up to `target` code units.
    static func pad(_ s: String, _ target: Int, _ filler: String, atStart: Bool) -> String {
        let n = length(s)
        guard target > n, !filler.isEmpty else { return s }
        let need = target - n
        var units: [UInt16] = []
        units.reserveCapacity(need)
        let f = Array(filler.utf16)
        while units.count < need { units.append(f[units.count % f.count]) }
        let padding = String(decoding: units, as: UTF16.self)
        return atStart ? padding + s : s + padding
    }

    // MARK: Whitespace and case

    /// ECMAScript's WhiteSpace and LineTerminator: TAB VT FF SP NBSP ZWNBSP (U+FEFF), the Zs category,
    /// LF CR LS PS. Not U+0085 (NEL) nor U+180E.
    static func isJSWhitespace(_ v: Unicode.Scalar) -> Bool {
        switch v.value {
        case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0xFEFF, 0x2028, 0x2029: return true
        case 0..<0x80: return false
        default: return v.properties.generalCategory == .spaceSeparator
        }
    }

    /// `trim`, `trimStart`, `trimEnd`.
    static func trim(_ s: String, start: Bool = true, end: Bool = true) -> String {
        let scalars = s.unicodeScalars
        var lo = scalars.startIndex, hi = scalars.endIndex
        if start { while lo < hi, isJSWhitespace(scalars[lo]) { lo = scalars.index(after: lo) } }
        if end {
            while hi > lo, isJSWhitespace(scalars[scalars.index(before: hi)]) { hi = scalars.index(before: hi) }
        }
        if lo == scalars.startIndex, hi == scalars.endIndex { return s }
        return String(scalars[lo..<hi])
    }

    /// `toLowerCase`: Unicode's full default lower-case mapping with the one context rule JavaScript
    /// applies, Final_Sigma (`'ΟΔΟΣ'` → `"οδος"`).
    static func lowercased(_ s: String) -> String {
        if isASCII(s) || !s.unicodeScalars.contains("\u{3A3}") { return s.lowercased() }
        let scalars = Array(s.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, v) in scalars.enumerated() {
            if v == "\u{3A3}", isFinalSigma(scalars, i) {
                out.append("\u{3C2}")
            } else {
                out.append(contentsOf: v.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// Final_Sigma (Unicode 3.13, table 3-17): a cased letter before (skipping case-ignorables), and no
    /// cased letter after.
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, scalars[j].properties.isCased else { return false }
        var k = i + 1
        while k < scalars.count, scalars[k].properties.isCaseIgnorable { k += 1 }
        return !(k < scalars.count && scalars[k].properties.isCased)
    }

    // MARK: Offsets and search

    private static func byteOffset(_ s: String, unitOffset: Int) -> Int {
        let i = s.utf16.index(s.utf16.startIndex, offsetBy: unitOffset)
        return s.utf8.distance(from: s.utf8.startIndex, to: i)
    }

    private static func unitOffset(_ s: String, byteOffset: Int) -> Int {
        let i = s.utf8.index(s.utf8.startIndex, offsetBy: byteOffset)
        return s.utf16.distance(from: s.utf16.startIndex, to: i)
    }

    private static func search(_ s: String, _ needle: String, fromByte: Int, last: Bool) -> Int? {
        let fast = s.utf8.withContiguousStorageIfAvailable { h in
            needle.utf8.withContiguousStorageIfAvailable { n in search(h, n, from: fromByte, last: last) }
        }
        if let fast, let result = fast { return result }
        return search(Array(s.utf8), Array(needle.utf8), from: fromByte, last: last)
    }

    private static func search(_ h: [UInt8], _ n: [UInt8], from: Int, last: Bool) -> Int? {
        h.withUnsafeBufferPointer { h in n.withUnsafeBufferPointer { n in search(h, n, from: from, last: last) } }
    }

    /// The byte offset of the first (or last) occurrence of `n` in `h` at or after `from`.
    private static func search(
        _ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>, from: Int, last: Bool
    ) -> Int? {
        if n.isEmpty { return last ? h.count : from }
        guard h.count >= n.count, from <= h.count - n.count else { return nil }
        let first = n[0]
        let positions = stride(
            from: last ? h.count - n.count : from, through: last ? from : h.count - n.count,
            by: last ? -1 : 1)
        for i in positions where h[i] == first {
            var k = 1
            while k < n.count, h[i + k] == n[k] { k += 1 }
            if k == n.count { return i }
        }
        return nil
    }
}
