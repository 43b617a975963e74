import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// `flowrun serve`'s listeners as a process: SIGTERM stops a serve that is being sent huge headers, and
/// `--admin` refuses no token off loopback and takes `[::1]:PORT` (issue 13 items 5 and 12).
@Suite(.serialized) struct ListenerServeTests {
    static func flow(port: Int) -> String {
        """
        flow: hook
        nodes:
          api: {component: http-server, settings: {port: \(port)}}
          answer: {component: modify}
        edges:
          - {from: api.request, to: answer.in, data: {requestId: <<$.requestId>>, json: {ok: true}}}
          - {from: answer.out, to: api.response}
        """
    }

    func withFlowDirectory(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-listen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir)
    }

    static func serve(_ arguments: [String]) throws -> Process {
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = ["serve"] + arguments
        p.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Issue 13 item 5: a 10 MB header kept a serve busy for 11 minutes and SIGTERM did not stop it. Four
    /// clients now send 10 MB headers over and over (each refused with 431 after 64 KiB) while SIGTERM
    /// arrives: the process exits 0 within a few seconds.
    @Test func sigtermStopsAServeThatIsSentHugeHeaders() throws {
        try withFlowDirectory { dir in
            let port = freePort()
            try Self.flow(port: port).write(
                to: dir.appendingPathComponent("hook.yaml"), atomically: true, encoding: .utf8)
            let p = try Self.serve([
                dir.path, "--admin", "off", "--grace", "1", "--state", dir.appendingPathComponent("s.db").path,
            ])
            defer { if p.isRunning { p.terminate() } }
            #expect(CLITests.waitFor { (try? RawConnection(port: UInt16(port))) != nil })

            let stop = Stop()
            let senders = DispatchGroup()
            let refused = Counter()
            // Own threads, not the shared global queue: under a loaded parallel suite a queued block could
            // wait there for minutes (CI once measured 107 s here, all of it in `senders.wait()`).
            for _ in 0..<4 {
                senders.enter()
                Thread.detachNewThread {
                    defer { senders.leave() }
                    let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024)
                    while !stop.value {
                        guard let c = try? RawConnection(port: UInt16(port)) else { return }
                        c.send("GET / HTTP/1.1\r\nX-Big: ")
                        for _ in 0..<160 where !stop.value { if !c.send(piece) { break } }
                        if c.response(timeout: 1)?.status == 431 { refused.add() }
                    }
                }
            }
            #expect(CLITests.waitFor { refused.value >= 4 })
            let signalled = Date()
            p.terminate()
            let exited = CLITests.waitFor(10) { !p.isRunning }
            let stoppedAfter = Date().timeIntervalSince(signalled)
            stop.value = true
            senders.wait()
            #expect(exited, "serve still running after SIGTERM")
            #expect(stoppedAfter < 5)
            if exited { #expect(p.terminationStatus == 0) }
        }
    }

    /// Issue 13 item 12: an empty token on a non-loopback address is refused at start-up.
    @Test func anEmptyAdminTokenOffLoopbackIsRefused() throws {
        try withFlowDirectory { dir in
            try Self.flow(port: 1).write(to: dir.appendingPathComponent("hook.yaml"), atomically: true, encoding: .utf8)
            for token in [["--admin-token", ""], []] {
                let r = try CLITests.run(
                    ["serve", dir.path, "--admin", "0.0.0.0:9", "--state", dir.appendingPathComponent("s.db").path]
                        + token, environment: ["PATH": "/usr/bin:/bin"])
                #expect(r.status == 2)
                #expect(r.stderr.contains("needs a non-empty token"), "\(r.stderr)")
            }
        }
    }

    @Test(.enabled(if: ListenerServeTests.ipv6Loopback, "no IPv6 loopback")) func theAdminAPIListensOnIPv6Loopback()
        throws
    {
        try withFlowDirectory { dir in
            let port = freePort()
            try Self.flow(port: freePort()).write(
                to: dir.appendingPathComponent("hook.yaml"), atomically: true, encoding: .utf8)
            let p = try Self.serve([
                dir.path, "--admin", "[::1]:\(port)", "--state", dir.appendingPathComponent("s.db").path,
            ])
            defer { if p.isRunning { p.terminate() } }
            #expect(
                CLITests.waitFor {
                    guard let c = try? RawConnection(port: UInt16(port), host: "::1") else { return false }
                    c.send("GET /readyz HTTP/1.1\r\n\r\n")
                    return c.response()?.status == 200
                })
        }
    }

    static var ipv6Loopback: Bool { RawConnection.canBindIPv6Loopback() }

    final class Stop: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        var value: Bool {
            get { lock.withLock { flag } }
            set { lock.withLock { flag = newValue } }
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func add() { lock.withLock { count += 1 } }
    }
}
