import Flowrun

/// Helpers for tests against the PostgreSQL cluster that scripts/test starts.
public enum PostgresTesting {
    /// FLOWRUN_TEST_DATABASE_URL, when a cluster is available.
    public static var url: String? { Globals.processEnvironment()["FLOWRUN_TEST_DATABASE_URL"].stringValue }

    /// Creates a database of its own for one test (so counts never depend on other tests) and
    /// returns its URL.
    public static func freshDatabase(prefix: String) throws -> String {
        guard let base = url else { throw FlowHarness.LoadError(description: "no FLOWRUN_TEST_DATABASE_URL") }
        var rng = SystemRandomNumberGenerator()
        let name = prefix + "_" + String(UInt32.random(in: 0...UInt32.max, using: &rng), radix: 16)
        let h = try FlowHarness(
            """
            flow: make-db
            nodes:
              start: {component: ticker, settings: {interval: 1h}}
              db: {component: database, settings: {url: '\(base)'}}
            edges:
              - {from: start.out, to: db.request, data: {query: 'CREATE DATABASE \(name)'}}
            """)
        let record = h.run()
        guard record.status == .completed else {
            throw FlowHarness.LoadError(description: "CREATE DATABASE \(name) failed: \(record.errors)")
        }
        return base.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/"
            + name
    }
}
