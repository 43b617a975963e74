/// A text the user wrote (a flow file, or an expression typed on the command line), with the byte
/// offsets of its line starts so that diagnostics can be rendered late as `line:col` plus a caret.
public final class SourceFile: Sendable {
    public let path: String
    public let text: String
    /// The text's UTF-8 bytes; every `Span` indexes into these.
    public let bytes: [UInt8]
    private let lineStarts: [Int]
    /// Whether each line is ASCII, where a column is a byte distance: locating a diagnostic on a long
    /// line then costs no scan, so thousands of them on one line stay linear.
    private let asciiLines: [Bool]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        self.bytes = Array(text.utf8)
        var starts = [0]
        var ascii: [Bool] = []
        var lineIsASCII = true
        for (i, b) in bytes.enumerated() {
            if b >= 0x80 { lineIsASCII = false }
            if b == 0x0A {
                starts.append(i + 1)
                ascii.append(lineIsASCII)
                lineIsASCII = true
            }
        }
        ascii.append(lineIsASCII)
        self.lineStarts = starts
        self.asciiLines = ascii
    }

    /// 1-based line and column (in Unicode scalars) of a byte offset.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        let offset = max(0, min(offset, bytes.count))
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        if asciiLines[lo] { return (lo + 1, offset - lineStarts[lo] + 1) }
        var column = 1
        var i = lineStarts[lo]
        while i < offset {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        // A continuation byte at the offset itself belongs to the previous scalar.
        return (lo + 1, column)
    }

    /// Byte offset of a 1-based line and column counted in Unicode scalars (as libyaml reports them).
    public func offset(line: Int, column: Int) -> Int {
        guard line >= 1 else { return 0 }
        guard line <= lineStarts.count else { return bytes.count }
        var i = lineStarts[line - 1]
        var col = 1
        while col < column, i < bytes.count, bytes[i] != 0x0A {
            i += 1
            while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
            col += 1
        }
        return i
    }

    /// The part of the 1-based line from `column` (1-based, in Unicode scalars) on, at most `limit`
    /// scalars, and whether the line goes on after it. On an ASCII line this costs `limit`, not the
    /// length of the line.
    public func lineSlice(_ line: Int, fromColumn column: Int, limit: Int) -> (text: [Unicode.Scalar], more: Bool) {
        guard line >= 1, line <= lineStarts.count else { return ([], false) }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        if asciiLines[line - 1] {
            let from = min(end, start + max(0, column - 1)), to = min(end, from + limit)
            return (bytes[from..<to].map { Unicode.Scalar($0) }, to < end)
        }
        let scalars = Array(String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars)
        let from = min(scalars.count, max(0, column - 1)), to = min(scalars.count, from + limit)
        return (Array(scalars[from..<to]), to < scalars.count)
    }

    /// The length of the 1-based line in Unicode scalars.
    public func lineLength(_ line: Int) -> Int {
        guard line >= 1, line <= lineStarts.count else { return 0 }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        if asciiLines[line - 1] { return end - start }
        return bytes[start..<end].reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
    }

    /// The text of the 1-based line, without its newline.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = start
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    public func slice(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[max(0, start)..<min(end, bytes.count)], as: UTF8.self)
    }
}

/// A byte range in a source file.
public struct Span: Sendable {
    public let source: SourceFile
    public let start: Int
    public let end: Int

    public init(source: SourceFile, start: Int, end: Int) {
        self.source = source
        self.start = start
        self.end = max(start, end)
    }

    public func to(_ other: Span) -> Span { Span(source: source, start: start, end: max(end, other.end)) }

    public var location: (line: Int, column: Int) { source.location(of: start) }

    /// `path:line:col`
    public var description: String {
        let (line, column) = location
        return "\(source.path):\(line):\(column)"
    }
}
