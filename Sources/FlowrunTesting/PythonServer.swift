import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A Python HTTP server for a test (scripts/lib/contacts_api.py, Tests/FlowrunTests/example_apis.py, a
/// `-c` program): run by FLOWRUN_TEST_PYTHON with a port from `freePort()` as its last argument, ready once
/// that port accepts a connection (polled up to a deadline), its output in a log file that `log` reads for
/// the message of a failed check, and stopped with SIGKILL (a child of the test process may not get
/// SIGTERM, and http.server's threads outlive one) when the test lets go of it. Its standard input is a pipe
/// this process holds open, so a server that reads it to the end (test_server.py) also exits with the test
/// process when nothing stops it (one kept in a `static let` for a whole suite).
public final class PythonServer: @unchecked Sendable {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// FLOWRUN_TEST_PYTHON (scripts/test sets it up), nil when it is unset or empty.
    public static var python: String? {
        ProcessInfo.processInfo.environment["FLOWRUN_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Why a test that needs a Python server is skipped.
    public static let skipReason = "needs FLOWRUN_TEST_PYTHON (scripts/test sets it) to run a Python test server"

    public let port: Int
    /// The server's standard output and error.
    public let logFile: URL
    private let process = Process()
    private let input = Pipe()
    private let lock = NSLock()
    private var stopped = false

    public var base: String { "http://127.0.0.1:\(port)" }

    /// Runs `python ARGUMENTS PORT` and returns once the port accepts connections; throws (with the log)
    /// when FLOWRUN_TEST_PYTHON is unset, or the server exits or is not listening within `timeout` seconds.
    public init(_ arguments: [String], timeout: Double = 10) throws {
        guard let python = Self.python else { throw Failed(description: Self.skipReason) }
        port = freePort()
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "flowrun-python-\(port)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: logFile)
        defer { try? output.close() }
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments + [String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while (try? RawConnection(port: UInt16(port))) == nil {
            guard process.isRunning, Date() < deadline else {
                let why = process.isRunning ? "is not listening after \(timeout) s" : "exited"
                stop()
                throw Failed(
                    description: "python \(arguments.first ?? "") on port \(port) \(why); its log:\n\(self.log)")
            }
            usleep(20_000)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: logFile)
    }

    /// Kills the server (SIGKILL) and reaps it; again is a no-op.
    public func stop() {
        // A process that never started has pid 0, and kill(0, ...) would signal the whole process group.
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first, process.processIdentifier > 0 else { return }
        kill(process.processIdentifier, SIGKILL)
        // Reaped within seconds either way (`ChildProcess`: Foundation may not see the exit while a
        // sibling process holds the socket it watches).
        ChildProcess.waitForExit(process, within: 10)
    }

    /// The last 40 lines of the server's log, for the message of a failed check.
    public var log: String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
    }
}
