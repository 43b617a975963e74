import Flowrun
import FlowrunHTTP
import Foundation
import FlowrunTesting
import Testing

@testable import FlowrunService

/// The admin API's listener (issue 13 items 6 and 12): the token guards every call but the health probes
/// and is checked before a body is read; `--admin` takes `[::1]:PORT` and refuses no token off loopback.
@Suite(.serialized) struct AdminListenerTests {
    /// An admin API with token `s3cret` on `host`, port chosen by the system, for the duration of `body`.
    func admin(host: String = "127.0.0.1", token: String? = "s3cret", _ body: (UInt16) throws -> Void) throws {
        let service = Service(store: MemoryStore(), options: .init())
        let server = AdminServer(service: service, token: token)
        try server.start(host: host, port: 0)
        defer { server.stop() }
        try body(server.port)
    }

    static func get(_ port: UInt16, _ path: String, host: String = "127.0.0.1", token: String? = nil) throws -> Int {
        let c = try RawConnection(port: port, host: host)
        c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n" + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n")
        return c.response()?.status ?? 0
    }

    @Test func getEndpointsNeedTheTokenWhenOneIsSet() throws {
        try admin { (port: UInt16) throws in
            for path in ["/api/runs", "/api/flows", "/api/runs/nope", "/metrics"] {
                #expect(try Self.get(port, path) == 401, "\(path)")
                #expect(try Self.get(port, path, token: "wrong") == 401, "\(path)")
            }
            #expect(try Self.get(port, "/api/runs", token: "s3cret") == 200)
            #expect(try Self.get(port, "/api/runs/nope", token: "s3cret") == 404)
            // The probes answer without one.
            #expect(try Self.get(port, "/healthz") == 200)
            #expect(try Self.get(port, "/readyz") == 503)  // no flow loaded
        }
        try admin(token: "") { (port: UInt16) throws in
            // An empty token is no token (allowed on loopback only).
            #expect(try Self.get(port, "/api/runs") == 200)
        }
    }

    /// Issue 13 item 6: the admin API buffered 4 x 250 MB bodies without a token. Now the head is
    /// answered 401 before the body is read, and the connection is closed.
    @Test func anUnauthenticatedBigBodyIsRefusedBeforeReading() throws {
        try admin { (port: UInt16) throws in
            let c = try RawConnection(port: port)
            let started = Date()
            c.send("POST /api/flows/x/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 250000000\r\n\r\n")
            let r = c.response(timeout: 2)
            #expect(r?.status == 401)
            #expect(r?.headers["connection"] == "close")
            #expect(Date().timeIntervalSince(started) < 2)
            // A body over the admin API's limit is refused from its Content-Length, even with the token.
            let big = try RawConnection(port: port)
            big.send(
                "POST /api/flows/x/runs HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nContent-Length: 250000000\r\n\r\n")
            #expect(big.response(timeout: 2)?.status == 413)
        }
    }

    static let ipv6Loopback = RawConnection.canBindIPv6Loopback()

    @Test(.enabled(if: ipv6Loopback, "no IPv6 loopback on this machine")) func listensOnTheIPv6Loopback() throws {
        let address = try #require(try AdminAddress.parse("[::1]:0", token: nil))
        try admin(host: address.host) { (port: UInt16) throws in
            #expect(try Self.get(port, "/healthz", host: "::1") == 200)
            #expect(try Self.get(port, "/api/runs", host: "::1") == 401)
        }
    }

    @Test func adminAddresses() throws {
        #expect(try AdminAddress.parse("[::1]:9090", token: nil) == AdminAddress(host: "::1", port: 9090))
        #expect(try AdminAddress.parse("localhost:9090", token: nil) == AdminAddress(host: "127.0.0.1", port: 9090))
        #expect(try AdminAddress.parse("127.0.0.2:1", token: "") == AdminAddress(host: "127.0.0.2", port: 1))
        #expect(try AdminAddress.parse("0.0.0.0:9090", token: "t") == AdminAddress(host: "0.0.0.0", port: 9090))
        #expect(try AdminAddress.parse("[::]:9090", token: "t") == AdminAddress(host: "::", port: 9090))
        #expect(try AdminAddress.parse("off", token: nil) == nil)
        #expect(AdminAddress(host: "::1", port: 9090).description == "[::1]:9090")
        // Item 12: an empty (or no) token off loopback is refused with a clear error.
        for (text, token) in [("0.0.0.0:9090", ""), ("0.0.0.0:9090", nil), ("[::]:9090", ""), ("10.0.0.1:1", nil)] {
            #expect(throws: AdminAddress.Invalid.self) { try AdminAddress.parse(text, token: token) }
        }
        for text in ["::1:9090", "127.0.0.1", "[::1]9090", ":9090", "127.0.0.1:99999", "[::1"] {
            #expect(throws: AdminAddress.Invalid.self, "\(text)") { try AdminAddress.parse(text, token: "t") }
        }
    }
}
