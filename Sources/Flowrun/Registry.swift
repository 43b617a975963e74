import FlowrunComponents
import FlowrunDatabase
import FlowrunGraph
import FlowrunHTTP

extension ComponentRegistry {
    /// Every built-in component: the only list.
    public static let standard = ComponentRegistry([
        Ticker.descriptor, Modify.descriptor, Router.descriptor, Iterator.descriptor, HTTPClient.descriptor,
        Database.descriptor, HTTPServer.descriptor, Log.descriptor, State.descriptor, DeadLetter.descriptor,
        Delay.descriptor, RunEnd.descriptor, References.descriptor, MapRecords.descriptor,
        Paginate.descriptor,
    ])
}
