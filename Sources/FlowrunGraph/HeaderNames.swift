import FlowrunExpression

/// Response header names are lower-case (`$.response.headers.link`), as HTTP/2 sends them and as
/// http-client stores them. A template that reads `response.headers.Link` or `response.headers['Link']`
/// would read null and, in a pagination loop, stop after the first page while the run completes; the
/// checker warns (W403) with the lower-case name. A warning, not an error: the flow still runs, and the
/// read is legal (it is null).
extension Checking {
    mutating func checkHeaderNames() {
        var spans: [Span] = edges.compactMap { $0.decl.data?.span }
        for name in order { spans += bound[name]?.decl.settings.map(\.value.span) ?? [] }
        for span in spans {
            for (name, at) in Self.headerReads(span.source.bytes, from: span.start, to: span.end)
            where name != name.lowercased() {
                diagnostics.append(
                    .warning(
                        .headerCase, "response header names are lower-case: '\(name)' reads null",
                        at: Span(
                            source: span.source, start: at, end: at + name.utf8.count),
                        help: "did you mean '\(name.lowercased())'?"))
            }
        }
    }

    /// Header names read as `response.headers.NAME` or `response.headers['NAME']` (or `"NAME"`), with
    /// the byte offset of each name.
    static func headerReads(_ bytes: [UInt8], from start: Int, to end: Int) -> [(String, Int)] {
        let marker = Array("response.headers".utf8)
        var out: [(String, Int)] = []
        var i = start
        while i + marker.count < end {
            guard bytes[i] == marker[0], Array(bytes[i..<i + marker.count]) == marker else {
                i += 1
                continue
            }
            var j = i + marker.count
            if j < end, bytes[j] == UInt8(ascii: "?") { j += 1 }
            if j < end, bytes[j] == UInt8(ascii: ".") {
                j += 1
                let nameStart = j
                while j < end, isNameByte(bytes[j]) { j += 1 }
                if j > nameStart { out.append((String(decoding: bytes[nameStart..<j], as: UTF8.self), nameStart)) }
            } else if j + 1 < end, bytes[j] == UInt8(ascii: "["),
                bytes[j + 1] == UInt8(ascii: "'") || bytes[j + 1] == UInt8(ascii: "\"")
            {
                let quote = bytes[j + 1]
                let nameStart = j + 2
                var k = nameStart
                while k < end, bytes[k] != quote, bytes[k] != 0x0A { k += 1 }
                if k < end, bytes[k] == quote, k > nameStart {
                    out.append((String(decoding: bytes[nameStart..<k], as: UTF8.self), nameStart))
                }
                j = k
            }
            i = max(j, i + 1)
        }
        return out
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "_")
    }
}
