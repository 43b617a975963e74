import Flowrun
import Testing

@testable import FlowrunService

@Suite struct ClusterMetricsTests {
    @Test func leaseRenewalsRescuesAndFencedCommitsAreCounted() {
        let metrics = ServiceMetrics()
        metrics.cluster(.leaseRenewed, flow: "f")
        metrics.cluster(.leaseRenewed, flow: "f")
        metrics.cluster(.rescued, flow: "f")
        metrics.cluster(.fencedCommit, flow: "g")
        let text = metrics.text()
        #expect(text.contains("flowrun_lease_renewals_total{flow=\"f\"} 2"))
        #expect(text.contains("flowrun_rescues_total{flow=\"f\"} 1"))
        #expect(text.contains("flowrun_fenced_commits_total{flow=\"g\"} 1"))
    }
}
