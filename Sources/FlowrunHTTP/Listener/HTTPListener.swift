import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 listener on plain threads: one accept thread and one thread per connection, at most
/// `limits.maxConnections` of them (more are answered 503 at once). `RequestParser` does the parsing;
/// this shell only moves bytes and keeps the deadlines. Used by http-server nodes and the admin API.
public final class HTTPListener: @unchecked Sendable {
    public struct ListenError: Error, CustomStringConvertible {
        public let description: String
    }

    public let limits: ListenerLimits
    private let lock = NSLock()
    private var socket: Int32 = -1
    private var connections: Set<Int32> = []
    private var stopped = false
    private var acceptDone = DispatchSemaphore(value: 0)
    /// The bound port (useful with port 0).
    public private(set) var port: UInt16 = 0

    public init(limits: ListenerLimits = ListenerLimits()) { self.limits = limits }

    /// Connections being served now.
    public var openConnections: Int { lock.withLock { connections.count } }

    /// Listens on `host:port` (IPv4, IPv6 with or without brackets, or `localhost`) and serves until `stop`.
    public func start(host: String, port: UInt16, handler: RequestHandler) throws(ListenError) {
        let fd = try Self.bind(host: host, port: port)
        var address = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        self.port = withUnsafeBytes(of: &address) { raw in
            // sin_port and sin6_port sit at the same offset, in network order.
            UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
        }
        lock.withLock { socket = fd }
        let thread = Thread { [self] in
            acceptLoop(fd, handler)
            acceptDone.signal()
        }
        thread.name = "flowrun.listener"
        thread.start()
    }

    /// Stops accepting, closes every connection (a handler still running finishes on its own thread and
    /// finds its socket closed) and returns once the listening socket is closed.
    public func stop() {
        let (fd, open) = lock.withLock { () -> (Int32, Set<Int32>) in
            if stopped { return (-1, []) }
            stopped = true
            return (socket, connections)
        }
        guard fd >= 0 else { return }
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        for c in open { _ = Glibc.shutdown(c, Int32(SHUT_RDWR)) }
        acceptDone.wait()
        close(fd)
    }

    /// A new stream socket of `family` (SO_REUSEADDR) and the result of binding it to `address`.
    static func socketBound<Address>(to address: Address, family: Int32) throws(ListenError) -> (Int32, Int32) {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = address
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size))
            }
        }
        return (fd, result)
    }

    static func bind(host: String, port: UInt16) throws(ListenError) -> Int32 {
        var name = host
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" { name = "127.0.0.1" }
        var v4 = in_addr()
        var v6 = in6_addr()
        let fd: Int32
        let result: Int32
        if inet_pton(AF_INET, name, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = v4
            (fd, result) = try socketBound(to: address, family: AF_INET)
        } else if inet_pton(AF_INET6, name, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = v6
            (fd, result) = try socketBound(to: address, family: AF_INET6)
        } else {
            throw ListenError(description: "'\(host)' is not an IPv4 or IPv6 address")
        }
        guard result == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ListenError(description: reason)
        }
        return fd
    }

    private func acceptLoop(_ fd: Int32, _ handler: RequestHandler) {
        while true {
            let c = accept(fd, nil, nil)
            if c >= 0 { _ = fcntl(c, F_SETFD, FD_CLOEXEC) }
            if c < 0 {
                if lock.withLock({ stopped }) { return }
                if errno == EINTR || errno == ECONNABORTED { continue }
                usleep(10_000)  // EMFILE and friends: back off instead of spinning
                continue
            }
            let admitted = lock.withLock { () -> Bool in
                guard !stopped, connections.count < limits.maxConnections else { return false }
                connections.insert(c)
                return true
            }
            guard admitted else {
                let busy = ServerResponse.error(503, "too many connections").serialized(
                    keepAlive: false, includeBody: true)
                _ = busy.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
                close(c)
                continue
            }
            let thread = Thread { [self] in
                Connection(fd: c, limits: limits, handler: handler, isStopped: { [self] in lock.withLock { stopped } })
                    .serve()
                lock.withLock { _ = connections.remove(c) }
                close(c)
            }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }
}

/// One connection: reads requests through a `RequestParser` under the listener's deadlines.
struct Connection {
    let fd: Int32
    let limits: ListenerLimits
    let handler: RequestHandler
    let isStopped: () -> Bool

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func serve() {
        var parser = RequestParser(limits: limits)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var headDeadline = Self.now() + limits.headerTimeout
        var idleDeadline = headDeadline
        var first = true
        while !isStopped() {
            // The head: bounded by the parser's limits and by the header deadline.
            var head: RequestHead?
            while head == nil {
                switch parser.next() {
                case .head(let h): head = h
                case .failed(let error):
                    return refuse(ServerResponse.error(error.status, error.description), method: nil)
                case .body, .end: return
                case nil:
                    let idle = parser.isIdle && !first
                    guard let n = receive(&buffer, until: idle ? idleDeadline : headDeadline) else {
                        if !parser.isIdle {
                            refuse(ServerResponse.error(408, "request head not received in time"), method: nil)
                        }
                        return
                    }
                    if idle { headDeadline = Self.now() + limits.headerTimeout }
                    parser.feed(buffer[0..<n])
                }
            }
            first = false
            guard let head else { return }
            if let refused = handler.admit(head) { return refuse(refused, method: head.method) }
            var body: [UInt8] = []
            var event = parser.startBody(limit: limits.bodyBytes)
            let bodyDeadline = Self.now() + limits.bodyTimeout
            if event == nil {
                if head.expectsContinue && parser.buffered == 0 {
                    guard write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
                }
                event = parser.next()
            }
            while event != .end {
                switch event {
                case .body(let bytes): body += bytes
                case .failed(let error):
                    return refuse(ServerResponse.error(error.status, error.description), method: head.method)
                case .head, .end: break
                case nil:
                    guard let n = receive(&buffer, until: min(bodyDeadline, Self.now() + limits.idleTimeout)) else {
                        if Self.now() >= bodyDeadline {
                            refuse(.error(408, "request body not received in time"), method: head.method)
                        }
                        return
                    }
                    parser.feed(buffer[0..<n])
                }
                event = parser.next()
            }
            let response = handler.respond(ServerRequest(head: head, body: body))
            let keepAlive = head.keepAlive && !isStopped()
            guard write(response.serialized(keepAlive: keepAlive, includeBody: head.method != "HEAD")), keepAlive else {
                return
            }
            // A pipelined next request may be buffered already: its head gets a full header timeout too.
            idleDeadline = Self.now() + limits.idleTimeout
            headDeadline = Self.now() + limits.headerTimeout
        }
    }

    /// Answers and ends the connection: what the client still sends is read and dropped for a moment
    /// (at most 256 KiB or half a second), so it sees the answer rather than a reset.
    func refuse(_ response: ServerResponse, method: String?) {
        guard write(response.serialized(keepAlive: false, includeBody: method != "HEAD")) else { return }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        let deadline = Self.now() + min(0.5, limits.idleTimeout)
        var drained = 0
        while drained < 256 * 1024, let n = receive(&scratch, until: deadline) { drained += n }
    }

    /// Bytes received into `buffer`, or nil at end of stream, on an error, or at `deadline`.
    func receive(_ buffer: inout [UInt8], until deadline: Double) -> Int? {
        while true {
            let left = deadline - Self.now()
            guard left > 0 else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left * 1000 + 1, 60_000)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else {
                if ready == 0 { continue }
                return nil
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return n > 0 ? n : nil
        }
    }

    /// Whether all of `bytes` were sent before the idle deadline.
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        let deadline = Self.now() + limits.idleTimeout
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                sent += n
                continue
            }
            guard n < 0, errno == EAGAIN || errno == EINTR else { return false }
            let left = deadline - Self.now()
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, Int32(left * 1000 + 1))
        }
        return true
    }
}
