import FlowrunComponents
import FlowrunDatabase
import FlowrunHTTP
import FlowrunRuntime

extension ComponentFactories {
    /// The behaviours of the built-in components. I/O components (http-client, database, http-server)
    /// arrive with the connectors.
    public static let standard = ComponentFactories([
        "ticker": Ticker.factory, "modify": Modify.factory, "router": Router.factory, "iterator": Iterator.factory,
        "log": Log.factory, "state": State.factory, "dead-letter": DeadLetter.factory, "delay": Delay.factory,
        "run-end": RunEnd.factory, "references": References.factory,
        "map": MapRecords.factory, "paginate": Paginate.factory,
        "http-client": HTTPClient.factory, "http-server": HTTPServer.factory,
        "database": Database.factory,
    ])
}
