import FlowrunValue

/// What the expression language does with a regex: `regex()`, `test()`, `.test .match .matchAll .search`, and
/// the regex forms of `.replace .replaceAll .split` (JavaScript's semantics, offsets in UTF-16 code units).
enum RegexOps {
    /// The shape of a regex value.
    static let shape = Shape.object([Field("source", .string), Field("flags", .string)])

    static func value(_ r: CompiledRegex) -> Value {
        .object(["source": .string(r.source), "flags": .string(r.flags)])
    }

    /// The compiled regex a value stands for, or nil when the value is not a regex (`{source, flags}`).
    static func regex(_ v: Value) throws(BuiltinFailure) -> CompiledRegex? {
        guard case .object(let o) = v, o.count == 2, case .string(let source)? = o["source"],
            case .string(let flags)? = o["flags"]
        else { return nil }
        return try RegexCache.compiled(source, flags)
    }

    static func required(_ v: Value, _ fn: String) throws(BuiltinFailure) -> CompiledRegex {
        guard let r = try regex(v) else { throw .type(fn, "a regular expression", v) }
        return r
    }

    private static func text(_ units: [UInt16], _ r: Range<Int>?) -> Value {
        guard let r else { return .null }
        return .string(String(decoding: units[r], as: UTF16.self))
    }

    private static func groups(_ re: CompiledRegex, _ units: [UInt16], _ m: [Range<Int>?]) -> Value {
        guard !re.names.isEmpty else { return .null }
        var o = Value.Object()
        for (name, number) in re.names { o[name] = text(units, m[number]) }
        return .object(o)
    }

    static func test(_ re: CompiledRegex, _ s: String) throws(BuiltinFailure) -> Value {
        .bool(try re.first(Array(s.utf16)) != nil)
    }

    static func search(_ re: CompiledRegex, _ s: String) throws(BuiltinFailure) -> Value {
        .int(try re.first(Array(s.utf16))?[0]?.lowerBound ?? -1)
    }

    /// `s.match(re)`: without g the match and its groups `[match, g1, ...]`; with g every match; null for none.
    static func match(_ re: CompiledRegex, _ s: String) throws(BuiltinFailure) -> Value {
        let units = Array(s.utf16)
        if re.global {
            let all = try re.allMatches(units)
            return all.isEmpty ? .null : .array(all.map { text(units, $0[0]) })
        }
        guard let m = try re.first(units) else { return .null }
        return .array(m.map { text(units, $0) })
    }

    /// `s.matchAll(re)`: an object `{match, index, captures, groups}` per match (needs the g flag, as in JS).
    static func matchAll(_ re: CompiledRegex, _ s: String) throws(BuiltinFailure) -> Value {
        guard re.global else {
            throw BuiltinFailure(.typeError, "matchAll needs a regular expression with the g flag")
        }
        let units = Array(s.utf16)
        return .array(
            try re.allMatches(units).map { m in
                .object([
                    "match": text(units, m[0]), "index": .int(m[0]!.lowerBound),
                    "captures": .array(m.dropFirst().map { text(units, $0) }), "groups": groups(re, units, m),
                ])
            })
    }

    /// `s.replace(re, with)` (every match when `re` has the g flag) and `s.replaceAll(re, with)` (g required).
    static func replace(_ re: CompiledRegex, _ s: String, _ replacement: String, all: Bool) throws(BuiltinFailure)
        -> Value
    {
        if all, !re.global {
            throw BuiltinFailure(.typeError, "replaceAll needs a regular expression with the g flag")
        }
        let units = Array(s.utf16)
        let matches = re.global ? try re.allMatches(units) : (try re.first(units)).map { [$0] } ?? []
        guard !matches.isEmpty else { return .string(s) }
        let template = Array(replacement.utf16)
        var out: [UInt16] = []
        out.reserveCapacity(units.count)
        var last = 0
        for m in matches {
            let whole = m[0]!
            out.append(contentsOf: units[last..<whole.lowerBound])
            expand(template, m, units, re, into: &out)
            last = whole.upperBound
        }
        out.append(contentsOf: units[last...])
        return .string(String(decoding: out, as: UTF16.self))
    }

    /// JavaScript's GetSubstitution: `$$ $& $\` $' $n $nn $<name>`; anything else is literal.
    static func expand(
        _ template: [UInt16], _ m: [Range<Int>?], _ units: [UInt16], _ re: CompiledRegex, into out: inout [UInt16]
    ) {
        let dollar = UInt16(UInt8(ascii: "$"))
        guard template.contains(dollar) else { return out.append(contentsOf: template) }
        func digit(_ i: Int) -> Int? {
            guard i < template.count, template[i] >= 48, template[i] <= 57 else { return nil }
            return Int(template[i]) - 48
        }
        func group(_ n: Int) { if let r = m[n] { out.append(contentsOf: units[r]) } }
        var i = 0
        while i < template.count {
            let c = template[i]
            guard c == dollar, i + 1 < template.count else {
                out.append(c)
                i += 1
                continue
            }
            let n = template[i + 1]
            switch n {
            case dollar:
                out.append(dollar)
                i += 2
            case UInt16(UInt8(ascii: "&")):
                group(0)
                i += 2
            case UInt16(UInt8(ascii: "`")):
                out.append(contentsOf: units[..<m[0]!.lowerBound])
                i += 2
            case UInt16(UInt8(ascii: "'")):
                out.append(contentsOf: units[m[0]!.upperBound...])
                i += 2
            case UInt16(UInt8(ascii: "<")) where !re.names.isEmpty:
                guard let close = template[(i + 2)...].firstIndex(of: UInt16(UInt8(ascii: ">"))) else {
                    out.append(c)
                    i += 1
                    continue
                }
                let name = String(decoding: template[(i + 2)..<close], as: UTF16.self)
                if let number = re.names.first(where: { $0.0 == name })?.1 { group(number) }
                i = close + 1
            default:
                if let d1 = digit(i + 1) {
                    if let d2 = digit(i + 2), (1...re.groupCount).contains(d1 * 10 + d2) {
                        group(d1 * 10 + d2)
                        i += 3
                        continue
                    }
                    if d1 >= 1, d1 <= re.groupCount {
                        group(d1)
                        i += 2
                        continue
                    }
                }
                out.append(c)
                i += 1
            }
        }
    }

    /// `s.split(re)`: the text between matches, with the groups of each match spliced in (JavaScript's
    /// @@split: an empty match where the previous piece ended does not split).
    static func split(_ re: CompiledRegex, _ s: String) throws(BuiltinFailure) -> Value {
        let units = Array(s.utf16)
        return try re.withMatcher(units) { find throws(BuiltinFailure) -> Value in
            if units.isEmpty { return try find(0) != nil ? .array([]) : .array([.string(s)]) }
            var out: [Value] = []
            var p = 0, q = 0
            while q < units.count {
                guard let m = try find(q), let whole = m[0], whole.lowerBound < units.count else { break }
                let e = min(whole.upperBound, units.count)
                if e == p {
                    q = re.next(after: p..<p, in: units)
                    continue
                }
                out.append(text(units, p..<whole.lowerBound))
                for g in m.dropFirst() { out.append(text(units, g)) }
                p = e
                q = p
            }
            out.append(text(units, p..<units.count))
            return .array(out)
        }
    }
}
