import ArgumentParser
import Flowrun
import FlowrunService

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "List the serve replicas sharing the state store.",
        discussion: """
            Each `flowrun serve` replica publishes its node id (FLOWRUN_NODE_ID), version, last heartbeat and
            the runs it holds in the state store every few seconds; a replica that stopped publishing is shown
            as gone. The admin API answers the same at GET /api/cluster.
            """)

    @OptionGroup var common: Runs.Common

    func run() throws {
        let replicas = try ClusterRegistry.replicas(common.open(), now: Globals.systemClock())
        if common.format == "json" {
            print(JSON.pretty(.array(replicas)))
            return
        }
        if replicas.isEmpty { print("no replicas have published to this state store") }
        for r in replicas {
            let runs = r["runs"].arrayValue?.compactMap(\.stringValue) ?? []
            print(
                "\(r["node"].stringValue ?? "?")  \(r["alive"] == true ? "alive" : "gone")  "
                    + "version \(r["version"].stringValue ?? "?")  last heartbeat \(r["lastHeartbeat"].stringValue ?? "?")  "
                    + "runs held \(runs.count)\(runs.isEmpty ? "" : ": " + runs.joined(separator: ", "))")
        }
    }
}
