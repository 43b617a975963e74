import FlowrunRuntime
import FlowrunValue

extension Database {
    /// The connection settings a substitution replaces (whatever else a node sets is kept).
    static let connectionSettings: Set<String> = [
        "driver", "url", "host", "port", "database", "username", "password", "sslMode", "connection",
    ]

    /// Database nodes that talk to the SQLite file at `path` whatever their connection settings say:
    /// `flowrun test` gives each case a fresh database this way. Retries, upserts and dry runs behave
    /// as with any SQLite database.
    public static func factory(substitutingSQLite path: String) -> ComponentFactory {
        { _ in Substitute(path: path) }
    }

    final class Substitute: AsyncComponent, @unchecked Sendable {
        let inner = Instance()
        let path: String

        init(path: String) { self.path = path }

        func start(
            _ message: Value, on port: String, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            var settings = context.settings.filter { !Database.connectionSettings.contains($0.key) }
            settings["driver"] = "sqlite"
            settings["url"] = .string("sqlite:" + path)
            inner.start(message, on: port, context.replacingSettings(settings), done: done)
        }
    }
}
