import FlowrunExpression
import FlowrunValue

/// The dead-letter queue, kept in the state store under `dlq/<id>` per flow: one item per failed key
/// with its payload, last error, the runs it failed in and its status. `open` items have failed in
/// fewer than `maxAttempts` runs; `parked` ones are listed by `flowrun dlq` for replay or skip.
public struct DeadLetterQueue {
    public enum Status: String, Sendable, CaseIterable { case open, parked, replayed, skipped }

    public struct Item: Sendable, Equatable {
        public var id: String
        public var flow: String
        public var key: String
        public var payload: Value
        public var error: Value
        public var attempts: Int
        public var status: Status
        /// `node.port` a replay delivers the payload to.
        public var entry: String?
        /// The flow file that parked it, for replay.
        public var flowFile: String?
        public var firstRun: String
        public var lastRun: String
        public var updatedAt: Int

        var value: Value {
            [
                "id": .string(id), "flow": .string(flow), "key": .string(key), "payload": payload, "error": error,
                "attempts": .int(attempts), "status": .string(status.rawValue),
                "entry": entry.map { .string($0) } ?? .null, "flowFile": flowFile.map { .string($0) } ?? .null,
                "firstRun": .string(firstRun), "lastRun": .string(lastRun), "updatedAt": .int(updatedAt),
            ]
        }

        init?(_ v: Value) {
            guard let id = v["id"].stringValue, let flow = v["flow"].stringValue, let key = v["key"].stringValue
            else { return nil }
            self.id = id
            self.flow = flow
            self.key = key
            payload = v["payload"]
            error = v["error"]
            attempts = v["attempts"].intValue ?? 1
            status = Status(rawValue: v["status"].stringValue ?? "") ?? .open
            entry = v["entry"].stringValue
            flowFile = v["flowFile"].stringValue
            firstRun = v["firstRun"].stringValue ?? ""
            lastRun = v["lastRun"].stringValue ?? ""
            updatedAt = v["updatedAt"].intValue ?? 0
        }

        init(id: String, flow: String, key: String, runID: String, now: Int) {
            self.id = id
            self.flow = flow
            self.key = key
            payload = nil
            error = nil
            attempts = 0
            status = .open
            firstRun = runID
            lastRun = runID
            updatedAt = now
        }
    }

    public let store: any StateStore
    static let prefix = "dlq/"

    public init(store: any StateStore) { self.store = store }

    /// A short stable id for a flow's key: `d` and 12 hex digits of SHA-256.
    public static func id(flow: String, key: String) -> String {
        "d" + Digest.hex(Array(Digest.sha256(Array((flow + "\u{0}" + key).utf8)).prefix(6)))
    }

    /// Records one failure of `key`. Failures in the same run count once; the item is parked when it
    /// has failed in `maxAttempts` runs; a new failure after a skip or replay parks it again.
    @discardableResult
    public func record(
        flow: String, key: String, payload: Value, error: Value, runID: String, entry: String?, flowFile: String?,
        maxAttempts: Int, now: Int
    ) throws -> Item {
        let id = Self.id(flow: flow, key: key)
        var item =
            try store.get(flow: flow, key: Self.prefix + id).flatMap(Item.init)
            ?? Item(id: id, flow: flow, key: key, runID: runID, now: now)
        if item.attempts == 0 || item.lastRun != runID { item.attempts += 1 }
        item.payload = payload
        item.error = error
        item.lastRun = runID
        item.entry = entry ?? item.entry
        item.flowFile = flowFile ?? item.flowFile
        item.updatedAt = now
        item.status = item.attempts >= max(1, maxAttempts) ? .parked : .open
        try store.set(flow: flow, key: Self.prefix + id, value: item.value)
        return item
    }

    /// Items, newest first: parked ones, or every item with `all`.
    public func list(flow: String? = nil, all: Bool = false) throws -> [Item] {
        try store.entries(flow: flow, prefix: Self.prefix).compactMap { Item($0.value) }
            .filter { all || $0.status == .parked }
            .sorted { ($0.updatedAt, $0.id) > ($1.updatedAt, $1.id) }
    }

    public func item(id: String) throws -> Item? {
        try store.entries(flow: nil, prefix: Self.prefix + id).compactMap { Item($0.value) }.first { $0.id == id }
    }

    public func setStatus(_ item: Item, _ status: Status, now: Int) throws {
        var item = item
        item.status = status
        item.updatedAt = now
        try store.set(flow: item.flow, key: Self.prefix + item.id, value: item.value)
    }
}
