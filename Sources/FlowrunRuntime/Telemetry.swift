/// Process-wide I/O events for metrics (`flowrun serve` installs a sink; otherwise nothing happens).
public protocol TelemetrySink: Sendable {
    func httpResponse(flow: String, node: String, status: Int)
    func databaseStatement(flow: String, node: String, operation: String, ok: Bool)
    /// A cluster event of a flow: a lease renewed, a run rescued, a commit refused by its fence.
    func cluster(_ event: ClusterEvent, flow: String)
    /// A run record could not be saved to the state store (each failed try).
    func runRecordSaveFailed(flow: String)
}

public enum ClusterEvent: String, Sendable, CaseIterable {
    case leaseRenewed = "lease_renewals"
    case rescued = "rescues"
    case fencedCommit = "fenced_commits"
}

extension TelemetrySink {
    public func cluster(_ event: ClusterEvent, flow: String) {}
    public func runRecordSaveFailed(flow: String) {}
}

public enum Telemetry {
    nonisolated(unsafe) private static var installed: (any TelemetrySink)?
    private static let lock = NSLockLite()

    /// Installs the sink; called once when a service starts.
    public static func install(_ sink: any TelemetrySink) { lock.withLock { installed = sink } }

    public static var sink: (any TelemetrySink)? { lock.withLock { installed } }
}
