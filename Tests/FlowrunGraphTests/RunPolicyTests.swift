import Flowrun
import Testing

/// The `run:` policy: one declaration checked by `flowrun check` (shapes and ranges, with the caret at
/// the value), read into typed values with defaults, and rendered into the docs.
@Suite struct RunPolicyTests {
    static func flow(_ run: String) -> String {
        """
        flow: p
        run:
          \(run)
        nodes:
          t: {component: ticker, settings: {interval: 1h}}
          a: {component: modify}
        edges:
          - {from: t.out, to: a.in}
        """
    }

    static func check(_ run: String) -> FlowChecker.Report {
        FlowChecker.check(path: "p.yaml", text: flow(run), registry: .standard)
    }

    /// Each out-of-range setting is an E210 error at the value (line 3, after the key).
    @Test(arguments: [
        ("retries: 50", 12), ("retries: -4", 12), ("timeout: 3000m", 12), ("timeout: 500ms", 12),
        ("retryDelay: -1s", 15), ("maxMessages: 0", 16), ("circuitBreaker: {failureRatio: 0}", 34),
        ("circuitBreaker: {failureRatio: 1.5}", 34), ("circuitBreaker: {minRecords: 0}", 32),
        ("health: {degradedFactor: 0}", 28), ("health: {failingAfter: 0}", 26), ("health: {disableAfter: 0}", 26),
    ])
    func outOfRangeSettingsAreErrorsAtTheValue(run: String, column: Int) throws {
        let report = Self.check(run)
        #expect(report.flow == nil, "\(run) passed check")
        let d = try #require(report.diagnostics.first)
        #expect(d.code == .invalidValue, "\(d.render())")
        let (line, col) = try #require(d.span).location
        #expect("\(line):\(col)" == "3:\(column)", "\(d.render())")
        #expect(report.diagnostics.count == 1, "\(report.diagnostics.map { $0.render() })")
    }

    @Test(arguments: [
        "retries: 0", "retries: 10", "timeout: 1s", "timeout: 1440m",
        "circuitBreaker: {failureRatio: 1, minRecords: 1}",
        "health: {degradedAfter: 1, failingAfter: 3, degradedFactor: 2, failingFactor: 10}",
        "health: {disableAfter: 5}", "overlap: queue", "catchUp: once", "concurrencyKey: <<$.userId>>",
    ])
    func settingsInRangePass(run: String) {
        let report = Self.check(run)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics.map { $0.render() })")
    }

    @Test func aConcurrencyKeyIsATemplateOnTheTriggerMessage() throws {
        let report = Self.check("concurrencyKey: <<$.userId.nope(>>")
        #expect(report.flow == nil)
        #expect(report.diagnostics.first?.code == .syntax)
    }

    @Test func runSettingsOtherThanTheConcurrencyKeyAreLiterals() throws {
        let report = Self.check("retries: <<1 + 1>>")
        #expect(report.flow == nil)
        #expect(report.diagnostics.first?.code == .invalidValue)
    }

    @Test func valuesCarryTheDeclaredDefaults() throws {
        let flow = try #require(Self.check("cursorPolicy: hold").flow)
        let v = flow.policy
        #expect(v.timeoutNanos == 60 * 60 * 1_000_000_000)
        #expect(v.retries == 3)
        #expect(v.retryDelayNanos == 1_000_000_000)
        #expect(v.minRecords == 10 && v.failureRatio == 0.5)
        #expect(v.maxMessages == 10_000_000)
        #expect(!v.parkFailures)
        #expect(v.overlap == .skip && v.catchUp == .skip)
        #expect(v.health == RunPolicy.Health())
        #expect(v.health.degradedAfter == 1 && v.health.failingAfter == 3)
        #expect(v.health.degradedFactor == 2 && v.health.failingFactor == 10 && v.health.disableAfter == nil)
        #expect(v.concurrencyKey == nil)
        #expect(RunPolicy.Values().retries == 3)
    }

    @Test func valuesReadWhatTheFileSays() throws {
        let flow = try #require(
            Self.check(
                "{timeout: 90s, retries: 0, retryDelay: 2s, circuitBreaker: {minRecords: 5, failureRatio: 0.25}, "
                    + "maxMessages: 99, cursorPolicy: park, overlap: queue, catchUp: once, "
                    + "health: {failingAfter: 4, failingFactor: 20, disableAfter: 6}, concurrencyKey: 'k-<<$.id>>'}"
            ).flow)
        let v = flow.policy
        #expect(v.timeoutNanos == 90_000_000_000 && v.retries == 0 && v.retryDelayNanos == 2_000_000_000)
        #expect(v.minRecords == 5 && v.failureRatio == 0.25 && v.maxMessages == 99 && v.parkFailures)
        #expect(v.overlap == .queue && v.catchUp == .once)
        #expect(v.health.failingAfter == 4 && v.health.failingFactor == 20 && v.health.disableAfter == 6)
        #expect(v.health.degradedFactor == 2)
        let key = try #require(v.concurrencyKey)
        #expect(try key.evaluate(["id": 7], Globals()) == "k-7")
    }

    @Test func theDocsListEverySettingWithItsRangeAndDefault() {
        let page = RunPolicy.markdown()
        for line in [
            "| `retries` | int | `3` | 0 to 10 |", "| `timeout` | duration | `60m` | 1s to 24h |",
            "| `circuitBreaker.failureRatio` | number | `0.5` | more than 0, at most 1 |",
            "| `health.disableAfter` | int | none | at least 1 |",
        ] {
            #expect(page.contains(line), "\(line) not in\n\(page)")
        }
    }
}
