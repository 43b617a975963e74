import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Waiting for a test's child processes without trusting Foundation to notice their exit. On Linux it
/// learns of an exit when a socket the child holds closes, and a child spawned at the same moment by
/// another test can inherit that socket and keep it open: the exited process stays "running" (a
/// zombie) until that other child exits too. A CI run waited forever in `waitUntilExit()` so.
/// These helpers reap the zombie themselves when Foundation has not noticed within a second.
public enum ChildProcess {
    /// The exit status of `process` once it has exited (a child ended by a signal gets 128 + the
    /// signal, as a shell reports it); -1 when it was reaped elsewhere and Foundation still calls it
    /// running ten seconds later.
    public static func exitStatus(_ process: Process) -> Int32 {
        var waiter = Waiter(process)
        while true {
            if let status = waiter.poll() { return status }
            usleep(5_000)
        }
    }

    /// Polls until `process` has exited or `seconds` have passed; whether it exited.
    @discardableResult
    public static func waitForExit(_ process: Process, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var waiter = Waiter(process)
        while waiter.poll() == nil {
            if Date() > deadline { return false }
            usleep(5_000)
        }
        return true
    }

    private struct Waiter {
        let process: Process
        var polls = 0
        var goneSince: Int?
        var reaped: Int32?

        init(_ process: Process) { self.process = process }

        /// The exit status once the process has exited, nil while it runs.
        mutating func poll() -> Int32? {
            if let reaped { return reaped }
            if !process.isRunning { return process.terminationStatus }
            polls += 1
            // Foundation gets a second (200 polls) to see the exit; after that the zombie is reaped here.
            guard polls > 200 else { return nil }
            var status: Int32 = 0
            let pid = process.processIdentifier
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let signal = status & 0x7F
                reaped = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
                return reaped
            }
            if result < 0 && errno == ECHILD {
                if goneSince == nil { goneSince = polls }
                if let since = goneSince, polls - since > 2_000 { return -1 }
            }
            return nil
        }
    }
}
