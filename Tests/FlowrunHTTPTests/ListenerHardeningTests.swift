import Foundation
import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunHTTP

/// Hostile input against a real http-server node listener: oversized lines, heads and bodies, slow and
/// malformed requests, too many connections (issue 13 items 5-7). Sent byte for byte with `RawConnection`.
@Suite(.serialized) struct ListenerHardeningTests {
    let port = Int.random(in: 20_000...40_000)

    static let flow = """
        flow: hardened
        secrets: {token: {default: s3cret}}
        nodes:
          api:
            component: http-server
            settings:
              port: <<int(env.PORT)>>
              timeout: 2s
              maxBodyBytes: 1024
              headerTimeout: 300ms
              maxConnections: 4
              routes: [{method: POST, path: /hook}, {method: GET, path: /ping}, {method: HEAD, path: /ping}]
              auth: {bearer: <<secrets.token>>}
          answer: {component: modify}
        edges:
          - from: api.request
            to: answer.in
            data: {requestId: <<$.requestId>>, json: {bytes: <<len($.body)>>}}
          - {from: answer.out, to: api.response}
        """

    /// Serves `flow`'s `api` node for the duration of `body`.
    func serve(_ body: () throws -> Void) throws {
        let h = try FlowHarness(Self.flow, env: ["PORT": .string(String(port))])
        let index = try #require(h.runtime.program.nodeIndex("api"))
        let server = try #require(h.runtime.program.nodes[index].component as? ServingComponent)
        let runtime = h.runtime
        try server.serve(settings: try runtime.standingSettings(of: "api")) { message in
            do throws(RunLock.Busy) {
                _ = try runtime.run(.input(message, node: "api", port: nil), trigger: .webhook)
                return nil
            } catch { return error.description }
        }
        defer { server.stopServing() }
        try body()
    }

    func connect() throws -> RawConnection { try RawConnection(port: UInt16(port)) }

    let auth = "Authorization: Bearer s3cret\r\n"

    @Test func servesAGoodRequest() throws {
        try serve {
            let c = try connect()
            c.send("POST /hook HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 5\r\n\r\nhello")
            let r = try #require(c.response())
            #expect(r.status == 200)
            #expect(r.body == #"{"bytes":5}"#)
        }
    }
}
