import FlowrunDatabase
import Foundation

/// Wiring for the CLI: opening the state store, loading a runtime, printing run summaries.
public enum Running {
    /// The state store path: `--state`, else `FLOWRUN_STATE_URL`, else `.flowrun/state.db` beside the flow.
    public static func statePath(explicit: String?, flowFile: String?) -> String {
        if let explicit { return explicit }
        if let env = ProcessInfo.processInfo.environment["FLOWRUN_STATE_URL"], !env.isEmpty {
            return env.hasPrefix("sqlite:") ? String(env.dropFirst(7)) : env
        }
        let dir = flowFile.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."
        return dir + "/.flowrun/state.db"
    }

    public static func openStore(_ path: String) throws -> any StateStore {
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") { return try PostgresStore(url: path) }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try SQLiteStore(path: path)
    }

    /// Exit status for a run's status: 0 completed, 3 completed with errors, 1 otherwise.
    public static func exitCode(_ status: RunRecord.Status) -> Int32 {
        switch status {
        case .completed: 0
        case .completedWithErrors: 3
        default: 1
        }
    }

    /// Exit status when a run was not started because another run of the flow holds it.
    public static let busyExitCode: Int32 = 4

    public static func duration(_ nanos: Int?) -> String {
        guard let nanos else { return "-" }
        if nanos < 1_000_000 { return "\(nanos / 1000) µs" }
        if nanos < 10_000_000_000 { return String(format: "%.1f ms", Double(nanos) / 1e6) }
        return String(format: "%.1f s", Double(nanos) / 1e9)
    }

    /// The summary printed after `--once`.
    public static func summary(_ r: RunRecord) -> String {
        var out = "run \(r.id)  \(r.flow)  \(r.status.rawValue)  in \(duration(r.durationNanos))"
        if r.dryRun { out += "  (dry run)" }
        if let parent = r.parentID {
            switch r.trigger {
            case .replay: out += "  (replay of a dead letter from \(parent))"
            case .scheduled: out += "  (a slot deferred behind \(parent))"
            default: out += "  (retry of \(parent))"
            }
        }
        out +=
            "\n  processed \(r[.processed])  created \(r[.created])  updated \(r[.updated])  unchanged \(r[.unchanged])"
        out += "  skipped \(r[.skipped])  failed \(r[.failed])"
        for c in [Counter.missingDestination, .missingSource, .conflicts] where r[c] > 0 {
            out += "  \(c.rawValue.replacingOccurrences(of: "_", with: " ")) \(r[c])"
        }
        if r[.pages] > 0 { out += "  pages \(r[.pages])" }
        out += "  messages \(r.messages)"
        if r[.requests] > 0 { out += "  requests \(r[.requests])" }
        if r.dryRun { out += "\n" + dryRunReport(r) }
        if let reason = r.reason { out += "\n  reason: \(reason)" }
        for e in r.errors.prefix(5) {
            out += "\n  error at \(e.node).\(e.port): \(e.location.map { "\($0): " } ?? "")\(e.message)"
        }
        if r.errors.count > 5 { out += "\n  ... \(r.errors.count - 5) more errors (flowrun runs show \(r.id))" }
        return out
    }

    /// The dry-run diagnostics of seed 002: what a live run would have written.
    public static func dryRunReport(_ r: RunRecord) -> String {
        let columns = r.changedColumns.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return """
              dry run, nothing was written:
                would insert (missing in destination)  \(r[.created])
                would update                           \(r[.updated])\(columns.isEmpty ? "" : "  (\(columns))")\(
                    r[.deleted] > 0 ? "\n        would delete                           \(r[.deleted])" : "")
                unchanged                              \(r[.unchanged])
                skipped                                \(r[.skipped])
                failed (missing or bad source data)    \(r[.failed])
            """ + outboundReport(r)
    }

    /// The outbound lines of a dry run (seed 002), shown when an outbound writer reported any of them.
    static func outboundReport(_ r: RunRecord) -> String {
        let lines: [(String, Counter)] = [
            ("missing destination", .missingDestination), ("missing source (required field null)", .missingSource),
            ("conflicts", .conflicts),
        ]
        return lines.filter { r[$0.1] > 0 }.map {
            "\n    \($0.0.padding(toLength: 39, withPad: " ", startingAt: 0))\(r[$0.1])"
        }
        .joined()
    }

    public static func json(_ r: RunRecord) -> Value { r.json }
}
