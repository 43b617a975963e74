import ArgumentParser
import Dispatch
import Flowrun
import FlowrunConsole
import FlowrunService
import Foundation
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run flows as a long-running service: schedules, webhooks and the admin API.",
        discussion: """
            Loads and checks every flow (a flow that fails `check` is reported and not started; the others run),
            fires tickers and cron schedules, serves http-server nodes and the admin API (GET /healthz, /readyz,
            /metrics, /api/flows, /api/cluster, /api/runs, /api/runs/{id}; POST /api/flows/{name}/runs, /api/runs/{id}/cancel;
            with a token every call but /healthz and /readyz needs it) and the operator console on / (with a token, a login form) until SIGTERM/SIGINT. SIGHUP (or --watch) reloads changed flow files. Exit 0 after a graceful stop.
            """)

    @Argument(help: "Flow files or directories of them.") var paths: [String]
    @Option(help: "Admin API address host:port or [ipv6]:port ('off' to disable); off loopback a token is required.")
    var admin = "127.0.0.1:9090"
    @Option(help: "Bearer token for every admin API call but /healthz and /readyz (default: FLOWRUN_ADMIN_TOKEN).")
    var adminToken: String?
    @Option(help: "State store (default: FLOWRUN_STATE_URL, else .flowrun/state.db beside the first flow).") var state:
        String?
    @Option(help: "Seconds in-flight runs may finish after SIGTERM before they are cancelled.") var grace: Double = 30
    @Option(help: "Log format: text or json.") var logFormat: String = "text"
    @Flag(help: "Reload flow files when they change (as SIGHUP does).") var watch = false
    @Option(
        help:
            "Prune run records and closed dead letters older than this (e.g. 30d) at start-up and once a day.")
    var retention: String?
    @Option(help: "Run leases expire this long after their last heartbeat (flows with run.lease keep theirs).")
    var leaseTtl = "30s"
    @Option(help: "How often a running run renews its lease.") var leaseRenewal = "10s"

    func run() throws {
        guard let format = ConsoleLogger.Format(rawValue: logFormat) else {
            throw UsageError("--log-format is text or json")
        }
        let retentionNanos = try retention.map { text in
            guard let n = Durations.parse(text), n > 0 else {
                throw UsageError("--retention takes a duration such as 30d, not '\(text)'")
            }
            return n
        }
        let files = Service.expand(paths)
        guard !files.isEmpty else { throw UsageError("no flow files in \(paths.joined(separator: " "))") }
        let token = adminToken ?? ProcessInfo.processInfo.environment["FLOWRUN_ADMIN_TOKEN"]
        let adminAddress: AdminAddress?
        do throws(AdminAddress.Invalid) { adminAddress = try AdminAddress.parse(admin, token: token) } catch {
            throw UsageError(error.description)
        }
        let store: any StateStore
        do { store = try Running.openStore(Running.statePath(explicit: state, flowFile: files[0])) } catch {
            FileHandleOutput.stderr("\(error)\n")
            throw ExitCode(1)
        }
        var options = Service.Options()
        // A replica's lines carry its node id (FLOWRUN_NODE_ID) as `node_id` metadata.
        let nodeID = ProcessInfo.processInfo.environment["FLOWRUN_NODE_ID"].flatMap { $0.isEmpty ? nil : $0 }
        options.logger = ConsoleLogger(format: format, metadata: nodeID.map { ["node_id": .string($0)] } ?? [:])
        options.retention = retentionNanos
        guard let ttl = Durations.parse(leaseTtl), ttl >= 1_000_000_000 else {
            throw UsageError("--lease-ttl takes a duration of at least 1s, such as 30s, not '\(leaseTtl)'")
        }
        guard let renew = Durations.parse(leaseRenewal), renew > 0, renew < ttl else {
            throw UsageError("--lease-renewal takes a duration shorter than --lease-ttl, not '\(leaseRenewal)'")
        }
        options.leaseTiming = LeaseTiming(ttl: ttl, renewEvery: renew)
        options.version = FlowrunCommand.configuration.version
        let service = Service(store: store, options: options)
        service.load(paths)
        guard !service.flows.isEmpty else {
            FileHandleOutput.stderr("flowrun serve: no flow could be loaded\n")
            throw ExitCode(2)
        }
        let adminServer = adminAddress.map { _ in
            AdminServer(service: service, token: token, pages: Console(service: service, token: token))
        }
        if let adminAddress {
            do { try adminServer?.start(host: adminAddress.host, port: adminAddress.port) } catch {
                FileHandleOutput.stderr("\(error)\n")
                throw ExitCode(1)
            }
        }
        options.logger.log(
            .info,
            "serving \(service.flows.map(\.name).joined(separator: ", "))"
                + (adminAddress.map { ", admin API on \($0.description)" } ?? ""),
            flow: "serve", node: nil, run: nil)

        let queue = DispatchQueue(label: "flowrun.serve.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if sig == SIGHUP {
                    service.reload()
                    return
                }
                options.logger.log(.info, "stopping (grace \(Int(grace))s)", flow: "serve", node: nil, run: nil)
                DispatchQueue.global().async {
                    service.stop(grace: grace)
                    adminServer?.stop()
                    Foundation.exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
        var timer: DispatchSourceTimer?
        if watch {
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.schedule(deadline: .now() + 2, repeating: 2)
            t.setEventHandler { service.reload() }
            t.resume()
            timer = t
        }
        withExtendedLifetime((sources, timer)) {
            service.runLoop()
            // runLoop returns once stop() began; the signal handler exits when the runs are over.
            while true { sleep(60) }
        }
    }
}
