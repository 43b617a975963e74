import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Waiting for a test's child processes without trusting one SIGCHLD: Foundation notices a child's exit
/// from the signal, and a CI run once waited forever on a `flowrun --once` that had exited (a zombie
/// nobody reaped) after another child was reaped in the same signal.
public enum ChildProcess {
    /// The exit status of `process` once it has exited: Foundation's, or, when Foundation has not
    /// noticed within a moment of the child closing its output, the status reaped here (a child that
    /// exited by a signal gets 128 + the signal, as a shell reports it).
    /// -1 when the child was reaped elsewhere and Foundation still calls it running after 10 s more.
    public static func exitStatus(_ process: Process) -> Int32 {
        let pid = process.processIdentifier
        var polls = 0
        var goneSince: Int?
        while process.isRunning {
            polls += 1
            // Foundation gets a second to see the exit; after that the zombie is reaped here.
            if polls > 200 {
                var status: Int32 = 0
                let reaped = waitpid(pid, &status, WNOHANG)
                if reaped == pid {
                    let signal = status & 0x7F
                    return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
                }
                if reaped < 0 && errno == ECHILD {
                    if goneSince == nil { goneSince = polls }
                    if let since = goneSince, polls - since > 2_000 { return -1 }
                }
            }
            usleep(5_000)
        }
        return process.terminationStatus
    }

    /// Polls until `process` has exited or `seconds` have passed; whether it exited.
    @discardableResult
    public static func waitForExit(_ process: Process, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(5_000)
        }
        return true
    }
}
