import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// `flowrun runs` tells dry runs apart, in the table and in JSON.
@Suite struct RunsListCLITests {
    @Test func dryRunsAreMarkedInTheTableAndTheJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-runs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("state.db").path
        let store = try SQLiteStore(path: state)
        for (id, dryRun, startedAt) in [("rlive", false, 1_000), ("rdry", true, 2_000)] {
            var r = RunRecord(id: id, flow: "user-sync", trigger: .manual, startedAt: startedAt)
            r.status = .completed
            r.completedAt = startedAt + 1_000_000
            r.dryRun = dryRun
            try store.save(r)
        }
        let table = try CLITests.run(["runs", "--state", state])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("PROCESSED  FAILED  DRY") == true, "\(table.stdout)")
        #expect(lines.dropFirst().first { $0.hasPrefix("rdry ") }?.hasSuffix("0          0       yes") == true)
        #expect(lines.dropFirst().first { $0.hasPrefix("rlive") }?.hasSuffix("0          0") == true)

        let json = try JSON.parse(try CLITests.run(["runs", "--state", state, "--format", "json"]).stdout)
        #expect(json.arrayValue?.map { $0["dryRun"] } == [true, false])
    }
}
