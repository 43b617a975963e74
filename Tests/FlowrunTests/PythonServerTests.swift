import FlowrunTesting
import Foundation
import Testing

/// `PythonServer`, the one way tests run a Python HTTP server: ready when its port answers, stopped with
/// SIGKILL (a server that ignores SIGTERM stops too), and a server that exits or never listens fails the
/// start with its log.
@Suite(.enabled(if: PythonServer.python != nil, "\(PythonServer.skipReason)"))
struct PythonServerTests {
    /// Listens on its last argument and ignores SIGTERM.
    static let stubborn = """
        import http.server, signal, sys
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("serving", flush=True)
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.BaseHTTPRequestHandler).serve_forever()
        """

    @Test func itAnswersOnceStartedAndStopsEvenIgnoringSIGTERM() throws {
        let server = try PythonServer(["-c", Self.stubborn])
        #expect((try? RawConnection(port: UInt16(server.port))) != nil)
        #expect(server.base == "http://127.0.0.1:\(server.port)")
        #expect(server.log.contains("serving"), "\(server.log)")
        server.stop()
        #expect((try? RawConnection(port: UInt16(server.port))) == nil)
        server.stop()  // again: nothing to do
    }

    @Test func aServerThatExitsFailsTheStartWithItsLog() {
        let error = #expect(throws: PythonServer.Failed.self) {
            _ = try PythonServer(["-c", "import sys; sys.exit('no such data file: ' + sys.argv[1])"])
        }
        #expect(error?.description.contains("exited") == true, "\(String(describing: error))")
        #expect(error?.description.contains("no such data file: ") == true, "\(String(describing: error))")
    }

    @Test func aServerThatNeverListensFailsAfterTheDeadline() {
        let started = Date()
        let error = #expect(throws: PythonServer.Failed.self) {
            _ = try PythonServer(["-c", "import time; print('thinking', flush=True); time.sleep(60)"], timeout: 0.5)
        }
        #expect(error?.description.contains("is not listening after 0.5 s") == true, "\(String(describing: error))")
        #expect(error?.description.contains("thinking") == true, "\(String(describing: error))")
        #expect(Date().timeIntervalSince(started) < 10)  // killed, not waited for
    }
}
