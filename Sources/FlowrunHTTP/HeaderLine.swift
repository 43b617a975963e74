/// One line of a response head as libcurl hands it to the header callback, read at the byte level (this
/// runs for every header of every response).
enum HeaderLine: Equatable {
    /// A status line (`HTTP/1.1 200 OK`): a new response begins (after a redirect or 100-continue).
    case status
    /// `name: value`, the name lower-cased, both without the surrounding spaces and tabs (and the line end).
    case field(name: String, value: String)
    /// Anything else (the blank line ending the head).
    case other

    init(_ line: UnsafeRawBufferPointer) {
        let bytes = line.bindMemory(to: UInt8.self)
        if bytes.starts(with: "HTTP/".utf8) {
            self = .status
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            self = .other
            return
        }
        let name = String(decoding: Self.trimmed(bytes[..<colon]), as: UTF8.self).lowercased()
        let value = String(decoding: Self.trimmed(bytes[(colon + 1)...]), as: UTF8.self)
        self = .field(name: name, value: value)
    }

    /// `bytes` without leading and trailing spaces, tabs, carriage returns and line feeds.
    static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }
}
