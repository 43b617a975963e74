import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on 127.0.0.1 for a test's listener: nothing listens on it now, no other call in this process
/// has handed it out, and it lies below Linux's ephemeral range (32768-60999), so an outgoing connection
/// of any process cannot take it between this call and the listener's bind. (Ports the kernel chose with
/// bind-to-0 were ephemeral ones, and once in a long CI run an outgoing connection got the same port
/// first: "Address already in use".)
public func freePort() -> Int {
    PortPool.shared.next()
}

final class PortPool: @unchecked Sendable {
    static let shared = PortPool()
    private let lock = NSLock()
    private var handedOut: Set<Int> = []
    private static let range = 20000..<32000

    func next() -> Int {
        lock.withLock {
            for _ in 0..<1000 {
                let port = Int.random(in: Self.range)
                guard !handedOut.contains(port), Self.canBind(port) else { continue }
                handedOut.insert(port)
                return port
            }
            preconditionFailure("no free port in \(Self.range)")
        }
    }

    /// Whether a listener could bind 127.0.0.1:`port` right now.
    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
