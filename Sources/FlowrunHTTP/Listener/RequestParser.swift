import Foundation

/// Limits of an HTTP listener: what a client may send before it is answered with an error, and how long
/// it may take. Enforced while reading, so an oversized or slow request costs at most the limit.
public struct ListenerLimits: Sendable, Equatable {
    /// The request line (`GET /path HTTP/1.1`); longer ones get 414.
    public var requestLineBytes = 8 * 1024
    /// All header lines of one request together; more gets 431.
    public var headerBytes = 64 * 1024
    /// Header fields per request; more gets 431.
    public var headerFields = 100
    /// Request bodies; larger ones get 413 (from `Content-Length` before any body is read).
    public var bodyBytes = 1 << 20
    /// Seconds from the first byte of a request (or the connection) until its head is complete.
    public var headerTimeout = 10.0
    /// Seconds a connection may stay silent: between keep-alive requests, or while a body is read.
    public var idleTimeout = 10.0
    /// Seconds a request's body may take in all, however steadily it trickles in; past it the
    /// connection is answered 408 and closed.
    public var bodyTimeout = 60.0
    /// Connections served at once; more are answered 503 and closed.
    public var maxConnections = 256

    public init() {}
}

/// The head of an HTTP/1.x request: everything before the body.
public struct RequestHead: Sendable, Equatable {
    public var method: String
    /// The request target as sent (`/path?query`).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Header fields in the order sent, names as sent.
    public var headers: [(name: String, value: String)]

    public static func == (a: RequestHead, b: RequestHead) -> Bool {
        a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// The first field named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// The path, without the query.
    public var path: String { String(target.prefix { $0 != "?" }) }

    /// Percent-decoded `name=value` pairs of the query, in order.
    public var query: [(name: String, value: String)] {
        guard let mark = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: mark)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // As URLComponents decodes: percent escapes only, a `+` stays a `+` (it is often a time zone).
            func decode(_ s: Substring) -> String { s.removingPercentEncoding ?? String(s) }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Whether the connection stays open after this request (HTTP/1.1 unless `Connection: close`).
    public var keepAlive: Bool {
        let connection = header("Connection")?.lowercased() ?? ""
        return minorVersion >= 1 ? !connection.contains("close") : connection.contains("keep-alive")
    }

    public var expectsContinue: Bool { header("Expect")?.lowercased() == "100-continue" }
}

/// A request that cannot be served, and the status that says why.
public struct RequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int
    public let description: String

    public init(_ status: Int, _ description: String) {
        self.status = status
        self.description = description
    }
}

/// HTTP/1.1 request parsing as a pure state machine: bytes in (`feed`), events out (`next`). Every line
/// is scanned once from where the last scan stopped, so cost is linear in the bytes received, and every
/// limit is checked before more input is asked for. After a `.head` the parser waits for `startBody`:
/// the caller checks routes and credentials first, and no body byte is read for a refused request.
public struct RequestParser: Sendable {
    public enum Event: Equatable, Sendable {
        case head(RequestHead)
        case body([UInt8])
        case end
        case failed(RequestError)
    }

    enum State: Equatable {
        case requestLine
        case headers
        case waitingForBody
        case fixedBody(remaining: Int)
        case bodyDone
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed
    }

    let limits: ListenerLimits
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already handed out.
    private var start = 0
    /// Where the search for the next LF resumes (bytes before it hold none).
    private var scanned = 0
    private var state = State.requestLine
    private var head: RequestHead?
    private var headerBytes = 0
    private var bodyBytes = 0
    private var pendingFraming: Framing = .none

    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    public init(limits: ListenerLimits) { self.limits = limits }

    /// Bytes received and not yet consumed.
    public var buffered: Int { buffer.count - start }
    /// Whether the parser sits between requests (nothing of a next request received yet).
    public var isIdle: Bool { state == .requestLine && buffered == 0 }
    /// Whether the head of the current request is still being read.
    public var isReadingHead: Bool { state == .requestLine || state == .headers }

    public mutating func feed(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The body of the request whose head was the last event: refused with 413 when its declared length
    /// exceeds `limit`, otherwise read by the following `next()` calls (chunked bodies stop at the limit).
    public mutating func startBody(limit: Int) -> Event? {
        guard state == .waitingForBody else { return nil }
        bodyBytes = limit
        switch pendingFraming {
        case .none:
            state = .requestLine
            return .end
        case .length(let n):
            if n > limit {
                state = .failed
                return .failed(RequestError(413, "request body of \(n) bytes is larger than \(limit) bytes"))
            }
            if n == 0 {
                state = .requestLine
                return .end
            }
            state = .fixedBody(remaining: n)
        case .chunked:
            state = .chunkSize
        }
        return nil
    }

    /// The next event, or nil when more bytes are needed. After `.failed` there are no more events.
    public mutating func next() -> Event? {
        do throws(RequestError) { return try step() } catch {
            state = .failed
            return .failed(error)
        }
    }

    private mutating func step() throws(RequestError) -> Event? {
        while true {
            switch state {
            case .failed, .waitingForBody:
                return nil
            case .requestLine:
                guard
                    let line = try takeLine(
                        limit: limits.requestLineBytes, tooLong: RequestError(414, "request line too long"))
                else { return nil }
                if line.isEmpty { continue }  // empty lines before a request are ignored (RFC 9112 2.2)
                head = try Self.parseRequestLine(line)
                headerBytes = 0
                state = .headers
            case .headers:
                guard let line = try takeHeaderLine("request headers too large") else { return nil }
                if line.isEmpty { return try finishHead() }
                if head!.headers.count >= limits.headerFields {
                    throw RequestError(431, "more than \(limits.headerFields) header fields")
                }
                head!.headers.append(try Self.parseHeader(line))
            case .fixedBody(let remaining):
                guard buffered > 0 else { return nil }
                let chunk = take(min(remaining, buffered))
                state = chunk.count == remaining ? .bodyDone : .fixedBody(remaining: remaining - chunk.count)
                return .body(chunk)
            case .bodyDone:
                state = .requestLine
                return .end
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, tooLong: RequestError(400, "chunk size line too long"))
                else {
                    return nil
                }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }
                // Hex digits only: `Int(_:radix:)` also takes a sign, and `-5` would be a negative length.
                guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(Self.isHexDigit),
                    let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
                else { throw RequestError(400, "invalid chunk size") }
                if size == 0 {
                    headerBytes = 0
                    state = .trailers
                    continue
                }
                if size > bodyBytes { throw RequestError(413, "request body larger than the limit") }
                bodyBytes -= size
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffered > 0 else { return nil }
                let chunk = take(min(remaining, buffered))
                state = chunk.count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - chunk.count)
                return .body(chunk)
            case .chunkDataEnd:
                guard buffered >= 2 else { return nil }
                guard buffer[start] == 13, buffer[start + 1] == 10 else {
                    throw RequestError(400, "chunk not ended by CRLF")
                }
                _ = take(2)
                state = .chunkSize
            case .trailers:
                guard let line = try takeHeaderLine("trailer fields too large") else { return nil }
                if line.isEmpty {
                    state = .requestLine
                    return .end
                }
                _ = try Self.parseHeader(line)
            }
        }
    }

    /// The next `n` buffered bytes.
    private mutating func take(_ n: Int) -> [UInt8] {
        let bytes = Array(buffer[start..<start + n])
        start += n
        scanned = max(scanned, start)
        return bytes
    }

    /// A header or trailer line, counted against the head's byte limit.
    private mutating func takeHeaderLine(_ tooLarge: String) throws(RequestError) -> ArraySlice<UInt8>? {
        let room = max(0, limits.headerBytes - headerBytes)
        guard let line = try takeLine(limit: room, tooLong: RequestError(431, tooLarge)) else { return nil }
        headerBytes += line.count + 2
        return line
    }

    /// The next line without its CRLF, nil when none is complete yet. Each byte is searched once: the
    /// search resumes where the last one stopped. A line (complete or not) longer than `limit` throws
    /// `tooLong`; a line ended by a bare LF is a 400.
    private mutating func takeLine(limit: Int, tooLong: RequestError) throws(RequestError) -> ArraySlice<UInt8>? {
        let end = buffer.count
        let from = scanned
        let i =
            from == end
            ? end
            : buffer.withUnsafeBytes { raw in
                memchr(raw.baseAddress! + from, 10, end - from).map { raw.baseAddress!.distance(to: $0) } ?? end
            }
        if i == end {
            scanned = end
            if end - start > limit + 1 { throw tooLong }
            return nil
        }
        guard i > start, buffer[i - 1] == 13 else { throw RequestError(400, "line ended by a bare LF") }
        if i - 1 - start > limit { throw tooLong }
        let line = buffer[start..<i - 1]
        start = i + 1
        scanned = start
        return line
    }

    private mutating func finishHead() throws(RequestError) -> Event {
        let head = self.head!
        let lengths = head.headers.filter { $0.name.caseInsensitiveEquals("Content-Length") }.map(\.value)
        let encodings = head.headers.filter { $0.name.caseInsensitiveEquals("Transfer-Encoding") }.map(\.value)
        if !encodings.isEmpty && !lengths.isEmpty {
            throw RequestError(400, "both Content-Length and Transfer-Encoding")
        }
        if !encodings.isEmpty {
            // One field, exactly `chunked`: anything else could frame the body differently elsewhere.
            let encoding = encodings.joined(separator: ", ")
            guard encoding.lowercased() == "chunked" else {
                throw RequestError(501, "unsupported Transfer-Encoding '\(encoding.prefix(40))'")
            }
            pendingFraming = .chunked
        } else if let first = lengths.first {
            guard Set(lengths).count == 1, !first.isEmpty, first.count <= 18, first.utf8.allSatisfy(Self.isDigit),
                let n = Int(first)
            else { throw RequestError(400, "invalid Content-Length") }
            pendingFraming = .length(n)
        } else {
            pendingFraming = .none
        }
        state = .waitingForBody
        return .head(head)
    }

    // MARK: Grammar (RFC 9112)

    /// request-line = method SP request-target SP HTTP-version
    static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(RequestError) -> RequestHead {
        let parts = line.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw RequestError(400, "malformed request line") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenChar) else { throw RequestError(400, "invalid method") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw RequestError(400, "invalid request target")
        }
        let version = Array(parts[2])
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), isDigit(version[5]),
            version[6] == UInt8(ascii: "."), isDigit(version[7])
        else { throw RequestError(400, "invalid HTTP version") }
        guard version[5] == UInt8(ascii: "1") else { throw RequestError(505, "HTTP version not supported") }
        return RequestHead(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: Int(version[7] - UInt8(ascii: "0")), headers: [])
    }

    /// field-line = field-name ":" OWS field-value OWS (obs-fold is refused)
    static func parseHeader(_ line: ArraySlice<UInt8>) throws(RequestError) -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw RequestError(400, line.first == 32 || line.first == 9 ? "obsolete line folding" : "malformed header")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenChar) else {
            throw RequestError(
                400, line.first == 32 || line.first == 9 ? "obsolete line folding" : "invalid header name")
        }
        var value = line[(colon + 1)...]
        while let f = value.first, f == 32 || f == 9 { value.removeFirst() }
        while let l = value.last, l == 32 || l == 9 { value.removeLast() }
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else {
            throw RequestError(400, "invalid character in a header value")
        }
        guard let text = String(validating: value, as: UTF8.self) else {
            throw RequestError(400, "a header value is not valid UTF-8")
        }
        return (String(decoding: name, as: UTF8.self), text)
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func isHexDigit(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 97 && c | 0x20 <= 102) }

    /// tchar (RFC 9110 5.6.2)
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), 48...57: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && lowercased() == other.lowercased()
    }
}
