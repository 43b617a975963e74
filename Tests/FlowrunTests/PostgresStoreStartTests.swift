import Dispatch
import FlowrunDatabase
import FlowrunTesting
import Foundation
import Testing

/// Regression (issue 14 soak): replicas starting at the same instant on a fresh PostgreSQL state store
/// raced in `CREATE TABLE IF NOT EXISTS` ("duplicate key value violates unique constraint
/// pg_type_typname_nsp_index") and one of them exited. Creating and migrating the tables is serialized by
/// an advisory lock.
@Suite(.enabled(if: PostgresTesting.url != nil, "needs FLOWRUN_TEST_DATABASE_URL"))
struct PostgresStoreStartTests {
    @Test func storesOpenedAtOnceOnAFreshDatabaseAllStart() throws {
        for _ in 0..<3 {
            let url = try PostgresTesting.freshDatabase(prefix: "startrace")
            final class Failures: @unchecked Sendable {
                let lock = NSLock()
                var errors: [String] = []
            }
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { _ = try PostgresStore(url: url) } catch {
                    failures.lock.withLock { failures.errors.append("\(error)") }
                }
            }
            #expect(failures.errors.isEmpty, "\(failures.errors)")
            #expect(try PostgresStore(url: url).runs(flow: nil, limit: 1).isEmpty)
        }
    }
}
