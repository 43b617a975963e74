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
        inFlight = registry.makeGauge(name: "flowrun_runs_in_flight", help: "Runs in progress.")
        memory = registry.makeGauge(name: "flowrun_process_resident_memory_bytes", help: "Resident set size.")
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
            name: "flowrun_runs_total", labels: [("flow", r.flow), ("status", r.status.rawValue)],
            help: "Finished runs by flow and status."
        ).increment()
        for c in [Counter.processed, .created, .updated, .unchanged, .skipped, .failed, .deadLettered] where r[c] > 0 {
            registry.makeCounter(
                name: "flowrun_records_total", labels: [("flow", r.flow), ("outcome", c.rawValue)],
                help:
                    "Records by flow and outcome (processed, created, updated, unchanged, skipped, failed, dead_lettered)."
            ).increment(by: Int64(r[c]))
        }
        if r[.deadLettered] > 0 {
            registry.makeCounter(
                name: "flowrun_dead_letters_total", labels: [("flow", r.flow)],
                help: "Items sent to the dead-letter queue."
            ).increment(by: Int64(r[.deadLettered]))
        }
        if let nanos = r.durationNanos {
            registry.makeDurationHistogram(
                name: "flowrun_run_duration_seconds", labels: [("flow", r.flow)],
                buckets: [
                    .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600),
                ],
                help: "Run durations."
            ).recordNanoseconds(Int64(nanos))
        }
        for (node, n) in r.nodeMessages {
            registry.makeCounter(
                name: "flowrun_node_messages_total", labels: [("flow", r.flow), ("node", node)],
                help: "Messages delivered to each node."
            ).increment(by: Int64(n))
        }
    }

    public func httpResponse(flow: String, node: String, status: Int) {
        registry.makeCounter(
            name: "flowrun_http_requests_total",
            labels: [("flow", flow), ("node", node), ("status", status == 0 ? "error" : String(status))],
            help: "HTTP requests sent by http-client nodes, by response status (error: no response)."
        ).increment()
    }

    public func databaseStatement(flow: String, node: String, operation: String, ok: Bool) {
        registry.makeCounter(
            name: "flowrun_database_requests_total",
            labels: [("flow", flow), ("node", node), ("operation", operation), ("result", ok ? "ok" : "error")],
            help: "Database requests (query, execute, batch, upsert) by result."
        ).increment()
    }

    /// The Prometheus text exposition.
    public func text() -> String {
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
