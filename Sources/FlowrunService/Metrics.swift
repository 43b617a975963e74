import Flowrun
import Foundation
import Prometheus

/// The service's Prometheus metrics (swift-prometheus): runs, records, durations, HTTP requests,
/// database statements, dead letters, messages per node, in-flight runs and process memory.
public final class ServiceMetrics: TelemetrySink, @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let inFlight: Gauge
    private let memory: Gauge
    private let lock = NSLock()
    private var running = 0

    public init() {
        inFlight = registry.makeGauge(descriptor: Self.name("runs_in_flight", "", "Runs in progress."))
        memory = registry.makeGauge(
            descriptor: Self.name("process_resident_memory", "bytes", "Resident set size."))
    }

    public func runStarted() {
        lock.withLock { running += 1 }
        inFlight.set(Double(lock.withLock { running }))
    }

    /// Records a finished run: status, counters, duration and messages per node.
    public func runFinished(_ r: RunRecord) {
        lock.withLock { running -= 1 }
        inFlight.set(Double(lock.withLock { running }))
        registry.makeCounter(
            descriptor: Self.name("runs", "total", "Finished runs by flow and status."),
            labels: [("flow", r.flow), ("status", r.status.rawValue)]
        ).increment()
        for c in [Counter.processed, .created, .updated, .unchanged, .skipped, .failed, .deadLettered] where r[c] > 0 {
            registry.makeCounter(
                descriptor: Self.name(
                    "records", "total",
                    "Records by flow and outcome (processed, created, updated, unchanged, skipped, failed, dead_lettered)."
                ),
                labels: [("flow", r.flow), ("outcome", c.rawValue)]
            ).increment(by: Int64(r[c]))
        }
        if r[.deadLettered] > 0 {
            registry.makeCounter(
                descriptor: Self.name("dead_letters", "total", "Items sent to the dead-letter queue."),
                labels: [("flow", r.flow)]
            ).increment(by: Int64(r[.deadLettered]))
        }
        if let nanos = r.durationNanos {
            registry.makeDurationHistogram(
                descriptor: Self.name("run_duration", "seconds", "Run durations."), labels: [("flow", r.flow)],
                buckets: [
                    .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600),
                ]
            ).recordNanoseconds(Int64(nanos))
        }
        for (node, n) in r.nodeMessages {
            registry.makeCounter(
                descriptor: Self.name("node_messages", "total", "Messages delivered to each node."),
                labels: [("flow", r.flow), ("node", node)]
            ).increment(by: Int64(n))
        }
    }

    /// Lease renewals, rescues and commits refused by a fencing token, by flow.
    public func cluster(_ event: ClusterEvent, flow: String) {
        let help =
            switch event {
            case .leaseRenewed: "Run lease renewals (heartbeats) by flow."
            case .rescued: "Rescue runs started for runs whose lease expired, by flow."
            case .fencedCommit: "Commits refused because the run had lost its lease (fencing token), by flow."
            }
        registry.makeCounter(descriptor: Self.name(event.rawValue, "total", help), labels: [("flow", flow)])
            .increment()
    }

    public func httpResponse(flow: String, node: String, status: Int) {
        registry.makeCounter(
            descriptor: Self.name(
                "http_requests", "total",
                "HTTP requests sent by http-client nodes, by response status (error: no response)."),
            labels: [("flow", flow), ("node", node), ("status", status == 0 ? "error" : String(status))]
        ).increment()
    }

    public func runRecordSaveFailed(flow: String) {
        registry.makeCounter(
            descriptor: Self.name(
                "run_record_save_failures", "total",
                "Tries to save a run record to the state store that failed (retried, or kept until it is back)."),
            labels: [("flow", flow)]
        ).increment()
    }

    public func databaseStatement(flow: String, node: String, operation: String, ok: Bool) {
        registry.makeCounter(
            descriptor: Self.name(
                "database_requests", "total", "Database requests (query, execute, batch, upsert) by result."),
            labels: [("flow", flow), ("node", node), ("operation", operation), ("result", ok ? "ok" : "error")]
        ).increment()
    }

    /// `flowrun_<name>_<unit>`.
    static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "flowrun", metricName: name, unitName: unit, helpText: help)
    }

    /// Label sets of in-flight gauges set before (they read 0 once their flow has no run in progress).
    private var inFlightLabels = Set<[String]>()
    static let inFlightCounters: [FlowrunRuntime.Counter] = [
        .processed, .created, .updated, .unchanged, .skipped, .failed,
    ]

    /// Sets `flowrun_run_in_flight_records{flow, counter}` from the live saves of the runs in progress:
    /// their counters summed per flow, and `total` where a source announced one.
    public func updateInFlight(_ records: [RunRecord]) {
        var values: [[String]: Int] = [:]
        for r in records {
            for c in Self.inFlightCounters { values[[r.flow, c.rawValue], default: 0] += r[c] }
            if let total = r.total { values[[r.flow, "total"], default: 0] += total }
        }
        let labels = lock.withLock {
            inFlightLabels.formUnion(values.keys)
            return inFlightLabels
        }
        for key in labels {
            registry.makeGauge(
                descriptor: Self.name(
                    "run_in_flight", "records",
                    "Records of runs in progress by flow and counter (processed, created, updated, unchanged, skipped, failed, total), from their live saves."
                ),
                labels: [("flow", key[0]), ("counter", key[1])]
            ).set(Double(values[key] ?? 0))
        }
    }

    /// The Prometheus text exposition, with the in-flight gauges of `inFlight` (live run records).
    public func text(inFlight: [RunRecord]? = nil) -> String {
        if let inFlight { updateInFlight(inFlight) }
        memory.set(Double(Self.residentBytes()))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Resident set size from /proc/self/statm.
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
