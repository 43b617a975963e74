import FlowrunValue

/// Retention for the state store (`flowrun prune`, `flowrun serve --retention`): run records and closed
/// dead-letter items older than a cutoff are deleted. Running runs, open and parked items, cursors and
/// every other key stay.
public enum Housekeeping {
    /// Dead-letter statuses of items that are done with: replayed, skipped, or resolved.
    public static let closedStatuses: Swift.Set<String> = ["replayed", "skipped", "resolved"]

    public struct Report: Sendable, Equatable {
        /// Run records deleted.
        public var runs = 0
        /// Dead-letter items deleted, as (flow, id).
        public var deadLetters: [DeadLetter] = []

        public struct DeadLetter: Sendable, Equatable {
            public var flow: String
            public var id: String
            public var status: String
        }

        public var summary: String {
            "pruned \(runs) run record\(runs == 1 ? "" : "s") and \(deadLetters.count) closed dead-letter item"
                + (deadLetters.count == 1 ? "" : "s")
        }
    }

    /// Deletes the run records started before `cutoff` (Unix nanoseconds) that are not running, and the
    /// closed dead-letter items last updated before it. An item that changes while this runs (it failed
    /// again) is kept: each is deleted by compare-and-set against the value read.
    public static func prune(_ store: any StateStore, before cutoff: Int) throws -> Report {
        var report = Report()
        report.runs = try store.deleteRuns(olderThan: cutoff)
        for entry in try store.entries(flow: nil, prefix: DeadLetterQueue.prefix) {
            // Read the raw status: a status this build does not know (`resolved`) still counts.
            guard let status = entry.value["status"].stringValue, closedStatuses.contains(status),
                let updatedAt = entry.value["updatedAt"].intValue, updatedAt < cutoff
            else { continue }
            if try store.compareAndSet(flow: entry.flow, key: entry.key, expected: entry.value, new: nil) {
                let id = entry.value["id"].stringValue ?? String(entry.key.dropFirst(DeadLetterQueue.prefix.count))
                report.deadLetters.append(.init(flow: entry.flow, id: id, status: status))
            }
        }
        return report
    }
}
