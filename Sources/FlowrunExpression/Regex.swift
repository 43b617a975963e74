import CPCRE2
import FlowrunValue
import Synchronization

/// A compiled regular expression with JavaScript's pattern syntax, matched by PCRE2's 16-bit library over
/// UTF-16 code units (as JavaScript matches). Every match is bounded by PCRE2's match, depth and heap
/// limits, so no pattern or subject from data can hang a run: hitting one is an `E129` error.
///
/// In the value model a regex is the object `{source, flags}` (it can travel in messages and serialises as
/// that object); the methods that take a pattern treat exactly such an object as a regex.
final class CompiledRegex: @unchecked Sendable {  // immutable after init; PCRE2 code is safe to share
    let source: String
    /// The flags in JavaScript's canonical order (`gimsuy`).
    let flags: String
    let global: Bool
    let sticky: Bool
    let unicode: Bool
    /// Named groups as `(name, group number)`, in the order of the pattern.
    let names: [(String, Int)]
    let groupCount: Int
    private let code: OpaquePointer
    private let context: OpaquePointer

    /// Backtracking steps one match may take (a catastrophic `(a+)+$` on 30 characters stops in ~10 ms).
    static let matchLimit: UInt32 = 1_000_000
    /// Nested backtracking depth and heap (KiB) of one match.
    static let depthLimit: UInt32 = 1_000_000
    static let heapLimitKiB: UInt32 = 65_536
    static let maxPatternLength = 10_000

    init(source: String, flags: String) throws(BuiltinFailure) {
        var options = UInt32(PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF | PCRE2_ALLOW_EMPTY_CLASS)
        options |= UInt32(PCRE2_DOLLAR_ENDONLY)
        var seen = Set<Character>()
        for f in flags {
            guard "gimsuy".contains(f), seen.insert(f).inserted else {
                throw BuiltinFailure(
                    .invalidRegex, "invalid regular expression flags '\(flags)' (each of g i m s u y at most once)")
            }
        }
        if seen.contains("i") { options |= UInt32(PCRE2_CASELESS) }
        if seen.contains("m") { options |= UInt32(PCRE2_MULTILINE) }
        if seen.contains("s") { options |= UInt32(PCRE2_DOTALL) }
        if seen.contains("u") { options |= UInt32(PCRE2_UTF) }
        self.source = source
        self.flags = String("gimsuy".filter { seen.contains($0) })
        (global, sticky, unicode) = (seen.contains("g"), seen.contains("y"), seen.contains("u"))

        let compileContext = pcre2_compile_context_create_16(nil)
        defer { pcre2_compile_context_free_16(compileContext) }
        pcre2_set_compile_extra_options_16(compileContext, UInt32(PCRE2_EXTRA_ALT_BSUX))
        // `.` and `^ $` (with m) stop at CR and LF, as JavaScript's line terminators (not U+2028/9).
        pcre2_set_newline_16(compileContext, UInt32(PCRE2_NEWLINE_ANYCRLF))
        pcre2_set_max_pattern_length_16(compileContext, Self.maxPatternLength)
        pcre2_set_parens_nest_limit_16(compileContext, 100)
        var errorCode: Int32 = 0
        var errorOffset = 0
        let units = Array(source.utf16) + [0]
        let compiled = units.withUnsafeBufferPointer {
            pcre2_compile_16($0.baseAddress, units.count - 1, options, &errorCode, &errorOffset, compileContext)
        }
        guard let compiled else {
            throw BuiltinFailure(
                .invalidRegex,
                "invalid regular expression /\(source)/: \(Self.message(errorCode)) at offset \(errorOffset)")
        }
        code = compiled
        context = pcre2_match_context_create_16(nil)
        pcre2_set_match_limit_16(context, Self.matchLimit)
        pcre2_set_depth_limit_16(context, Self.depthLimit)
        pcre2_set_heap_limit_16(context, Self.heapLimitKiB)

        var captures: UInt32 = 0
        pcre2_pattern_info_16(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        groupCount = Int(captures)
        var count: UInt32 = 0, entrySize: UInt32 = 0
        var table: UnsafePointer<UInt16>? = nil
        pcre2_pattern_info_16(code, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        pcre2_pattern_info_16(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_16(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        var names: [(String, Int)] = []
        if let table {
            for i in 0..<Int(count) {
                let entry = table + i * Int(entrySize)
                var end = 1
                while end < Int(entrySize), entry[end] != 0 { end += 1 }
                let name = String(decoding: UnsafeBufferPointer(start: entry + 1, count: end - 1), as: UTF16.self)
                names.append((name, Int(entry[0])))
            }
        }
        self.names = names.sorted { $0.1 < $1.1 }
    }

    deinit {
        pcre2_code_free_16(code)
        pcre2_match_context_free_16(context)
    }

    private static func message(_ code: Int32) -> String {
        var buffer = [UInt16](repeating: 0, count: 256)
        let n = pcre2_get_error_message_16(code, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF16.self) : "error \(code)"
    }

    /// The ranges of the match and its groups (nil for a group that took no part), one `match` call each;
    /// the match data lives for one operation.
    func withMatcher<T>(
        _ subject: [UInt16], _ body: ((Int) throws(BuiltinFailure) -> [Range<Int>?]?) throws(BuiltinFailure) -> T
    ) throws(BuiltinFailure) -> T {
        let data = pcre2_match_data_create_from_pattern_16(code, nil)
        defer { pcre2_match_data_free_16(data) }
        let padded = subject + [0]  // a valid pointer for the empty subject
        let length = subject.count
        let unset = flowrun_pcre2_unset()
        let options: UInt32 = sticky ? UInt32(PCRE2_ANCHORED) : 0
        return try body { (start: Int) throws(BuiltinFailure) -> [Range<Int>?]? in
            let rc = padded.withUnsafeBufferPointer {
                pcre2_match_16(code, $0.baseAddress, length, start, options, data, context)
            }
            if rc == PCRE2_ERROR_NOMATCH { return nil }
            guard rc > 0 else { throw self.failure(rc, length) }
            let ovector = pcre2_get_ovector_pointer_16(data)!
            var groups: [Range<Int>?] = []
            groups.reserveCapacity(groupCount + 1)
            for g in 0...groupCount {
                let a = ovector[2 * g], b = ovector[2 * g + 1]
                groups.append(g < Int(rc) && a != unset ? a..<b : nil)
            }
            return groups
        }
    }

    private func failure(_ rc: Int32, _ length: Int) -> BuiltinFailure {
        switch rc {
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT:
            BuiltinFailure(
                .regexLimit,
                "regular expression /\(source)/ gave up on a subject of \(length) code units: \(Self.message(rc)) "
                    + "(nested quantifiers such as (a+)+ backtrack exponentially; make the pattern unambiguous)")
        default: BuiltinFailure(.badArgument, "regular expression /\(source)/: \(Self.message(rc))")
        }
    }

    /// Where the search after a match ending at `end` starts: JavaScript moves past an empty match by one
    /// code unit (a code point with the u flag).
    func next(after m: Range<Int>, in subject: [UInt16]) -> Int {
        guard m.isEmpty else { return m.upperBound }
        let i = m.upperBound
        if unicode, i + 1 < subject.count, UTF16.isLeadSurrogate(subject[i]), UTF16.isTrailSurrogate(subject[i + 1]) {
            return i + 2
        }
        return i + 1
    }

    /// Every match from the start, as `String.prototype.match` with the g flag finds them.
    func allMatches(_ subject: [UInt16]) throws(BuiltinFailure) -> [[Range<Int>?]] {
        try withMatcher(subject) { find throws(BuiltinFailure) in
            var out: [[Range<Int>?]] = []
            var start = 0
            while start <= subject.count, let m = try find(start) {
                out.append(m)
                start = next(after: m[0]!, in: subject)
            }
            return out
        }
    }

    func first(_ subject: [UInt16]) throws(BuiltinFailure) -> [Range<Int>?]? {
        try withMatcher(subject) { find throws(BuiltinFailure) in try find(0) }
    }
}

/// The process-wide table of compiled patterns: constant patterns (regex literals) are compiled when
/// their expression is and stay; patterns built at run time share a small table that is emptied when full.
enum RegexCache {
    private struct Key: Hashable {
        let source: String
        let flags: String
    }
    private struct Tables {
        var constant: [Key: CompiledRegex] = [:]
        var dynamic: [Key: CompiledRegex] = [:]
    }
    private static let tables = Mutex(Tables())
    static let dynamicCapacity = 256

    static func compiled(_ source: String, _ flags: String, constant: Bool = false) throws(BuiltinFailure)
        -> CompiledRegex
    {
        let key = Key(source: source, flags: flags)
        if let hit = tables.withLock({ $0.constant[key] ?? $0.dynamic[key] }) { return hit }
        let regex = try CompiledRegex(source: source, flags: flags)
        tables.withLock { t in
            if constant {
                t.constant[key] = regex
            } else {
                if t.dynamic.count >= dynamicCapacity { t.dynamic.removeAll(keepingCapacity: true) }
                t.dynamic[key] = regex
            }
        }
        return regex
    }
}
