import FlowrunValue

/// A page of the run history: filters and a keyset position, answered by the store in SQL (the console's
/// runs table stays fast with 100,000 runs: no record is read that the page does not show).
public struct RunQuery: Sendable, Equatable {
    public var flow: String?
    public var status: RunRecord.Status?
    public var trigger: RunRecord.Trigger?
    /// Only runs older than this position (newest first): the last row of the previous page.
    public var before: Position?
    public var limit: Int

    /// Where a page ends: runs are ordered by start time, then id, newest first.
    public struct Position: Sendable, Equatable {
        public var startedAt: Int
        public var id: String

        public init(startedAt: Int, id: String) {
            self.startedAt = startedAt
            self.id = id
        }

        /// `startedAt.id`, as a page link carries it; nil when the text is not one.
        public init?(token: String) {
            guard let dot = token.firstIndex(of: "."), let at = Int(token[..<dot]) else { return nil }
            startedAt = at
            id = String(token[token.index(after: dot)...])
        }

        public var token: String { "\(startedAt).\(id)" }
    }

    public init(
        flow: String? = nil, status: RunRecord.Status? = nil, trigger: RunRecord.Trigger? = nil,
        before: Position? = nil, limit: Int = 50
    ) {
        self.flow = flow
        self.status = status
        self.trigger = trigger
        self.before = before
        self.limit = limit
    }

    /// Whether a record is on this query's pages (the in-memory stores filter with it).
    public func matches(_ r: RunRecord) -> Bool {
        (flow == nil || r.flow == flow) && (status == nil || r.status == status)
            && (trigger == nil || r.trigger == trigger)
            && (before.map { (r.startedAt, r.id) < ($0.startedAt, $0.id) } ?? true)
    }

    /// The WHERE clause (empty, or starting with ` WHERE`) and its bound values, for both SQL stores:
    /// `placeholder(n)` spells the n-th parameter (`?` in SQLite, `$n` in PostgreSQL). Values are bound,
    /// never spliced.
    public func whereClause(placeholder: (Int) -> String) -> (sql: String, values: [Value]) {
        var conditions: [String] = []
        var values: [Value] = []
        func bind(_ v: Value) -> String {
            values.append(v)
            return placeholder(values.count)
        }
        if let flow { conditions.append("flow = \(bind(.string(flow)))") }
        if let status { conditions.append("status = \(bind(.string(status.rawValue)))") }
        if let trigger { conditions.append("trigger = \(bind(.string(trigger.rawValue)))") }
        if let before {  // a row value: both stores read it as a range of the (started_at, id) index
            let at = bind(.int(before.startedAt))
            conditions.append("(started_at, id) < (\(at), \(bind(.string(before.id))))")
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), values)
    }

    /// The ORDER BY and LIMIT every store uses.
    public func orderAndLimit(placeholder: String) -> String {
        " ORDER BY started_at DESC, id DESC LIMIT \(placeholder)"
    }
}

extension StateStore {
    /// Filters the newest runs in memory: for stores that wrap another one in tests. `MemoryStore`,
    /// `SQLiteStore` and `PostgresStore` answer in their own way (SQL with LIMIT).
    public func runs(matching query: RunQuery) throws -> [RunRecord] {
        Array(try runs(flow: query.flow, limit: Int.max).filter(query.matches).prefix(query.limit))
    }
}
