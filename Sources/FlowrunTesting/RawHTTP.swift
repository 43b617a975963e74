import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A client socket that sends exactly the bytes a test writes, for adversarial HTTP tests (malformed,
/// oversized and slow requests that no well-behaved client library would send).
public final class RawConnection {
    public let fd: Int32

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// One parsed response: status, header fields (names lowercased) and body.
    public struct Response: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: String
    }

    /// Connects to `host:port` (IPv4 or IPv6 literal).
    public init(port: UInt16, host: String = "127.0.0.1") throws {
        var v4 = in_addr()
        var v6 = in6_addr()
        var result: Int32 = -1
        if inet_pton(AF_INET, host, &v4) == 1 {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr = v4
            result = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            guard inet_pton(AF_INET6, host, &v6) == 1 else { throw Failed(description: "bad host \(host)") }
            fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            a.sin6_addr = v6
            result = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failed(description: "connect to \(host):\(port): \(reason)")
        }
        // A send never blocks a test forever: a peer that stops reading (or a frozen process) fails it.
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Whether every byte was sent (false once the peer has closed or reset the connection).
    @discardableResult public func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Whether something (bytes, or the end of the stream) can be read within `timeout` seconds; reads nothing.
    public func readable(timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(timeout * 1000)) > 0
    }

    /// Bytes available within `timeout` seconds: nil on timeout, empty at end of stream or on a reset.
    public func read(timeout: Double) -> [UInt8]? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Whether the peer closes the connection within `timeout` seconds (anything it sends is dropped).
    public func closes(within timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let bytes = read(timeout: max(0.01, deadline.timeIntervalSinceNow)) else { return false }
            if bytes.isEmpty { return true }
        }
        return false
    }

    /// The next response, read within `timeout` seconds; nil when none arrives complete. `toHead`: the
    /// answer to a HEAD request, whose `Content-Length` announces a body that is not sent.
    public func response(timeout: Double = 5, toHead: Bool = false) -> Response? {
        let deadline = Date().addingTimeInterval(timeout)
        var data: [UInt8] = []
        var headEnd: Int?
        var length = 0
        while true {
            if headEnd == nil, let end = Self.find(Array("\r\n\r\n".utf8), in: data) {
                headEnd = end + 4
                let head = String(decoding: data[0..<end], as: UTF8.self)
                length = toHead ? 0 : Self.headers(head)["content-length"].flatMap { Int($0) } ?? 0
            }
            if let headEnd, data.count >= headEnd + length {
                let head = String(decoding: data[0..<headEnd - 4], as: UTF8.self)
                let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                return Response(
                    status: status, headers: Self.headers(head),
                    body: String(decoding: data[headEnd..<headEnd + length], as: UTF8.self))
            }
            guard let more = read(timeout: max(0.01, deadline.timeIntervalSinceNow)), !more.isEmpty else {
                return nil
            }
            data += more
        }
    }

    /// Whether this machine can bind the IPv6 loopback address `::1`.
    public static func canBindIPv6Loopback() -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var a = sockaddr_in6()
        a.sin6_family = sa_family_t(AF_INET6)
        a.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }

    static func headers(_ head: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<i + needle.count]) == needle { return i }
        }
        return nil
    }
}
