import FlowrunTesting
import Foundation
import Testing

/// `ChildProcess` gives the exit status a shell would report, whoever noticed the exit first.
@Suite(.serialized) struct ChildProcessTests {
    static func start(_ script: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        try p.run()
        return p
    }

    @Test func exitCodesAndSignalsAreReported() throws {
        #expect(ChildProcess.exitStatus(try Self.start("exit 0")) == 0)
        #expect(ChildProcess.exitStatus(try Self.start("exit 3")) == 3)
        let killed = try Self.start("sleep 30")
        kill(killed.processIdentifier, SIGKILL)
        #expect([9, 128 + 9].contains(ChildProcess.exitStatus(killed)))
    }

    @Test func aBoundedWaitGivesUpOnAProcessThatKeepsRunning() throws {
        let p = try Self.start("sleep 30")
        defer { kill(p.processIdentifier, SIGKILL) }
        #expect(!ChildProcess.waitForExit(p, within: 0.2))
        kill(p.processIdentifier, SIGKILL)
        #expect(ChildProcess.waitForExit(p, within: 10))
    }

    /// The defect: a child started right after another inherits the socket by which Foundation learns
    /// of the first one's exit, so Foundation calls the first "running" until the second exits
    /// (`waitUntilExit()` hung a CI run so). The helpers see the exit anyway.
    @Test func anExitIsSeenWhileASiblingHoldsFoundationsSocket() throws {
        let first = try Self.start("sleep 30")
        let sibling = try Self.start("sleep 30")
        defer { kill(sibling.processIdentifier, SIGKILL) }
        kill(first.processIdentifier, SIGKILL)
        let started = Date()
        #expect(ChildProcess.exitStatus(first) == 128 + 9)
        #expect(Date().timeIntervalSince(started) < 10)

        let second = try Self.start("sleep 30")
        let another = try Self.start("sleep 30")
        defer { kill(another.processIdentifier, SIGKILL) }
        kill(second.processIdentifier, SIGKILL)
        #expect(ChildProcess.waitForExit(second, within: 10))
    }
}
