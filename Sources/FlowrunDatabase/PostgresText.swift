import FlowrunRuntime
import FlowrunValue

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL text cannot hold a NUL byte, and libpq's text parameters end at one: a string with a NUL
/// would be stored cut short, and two keys that differ after it would collide. Such a request fails
/// before anything is sent, with the error PostgreSQL itself gives for the byte (SQLSTATE 22021), not
/// retryable; a batch that fails so is retried record by record by the flow, and the record goes to its
/// error path (the dead-letter queue in user-sync). JSON values are sent escaped (`\u0000`) and are not
/// affected.
enum PostgresText {
    /// Throws when a string parameter, batch parameter or upsert value holds a NUL byte.
    static func checkNoNUL(_ request: DatabaseRequest) throws(NodeError) {
        for (i, p) in request.parameters.enumerated() where hasNULInParameter(p) {
            throw error("parameter $\(i + 1)")
        }
        for (n, set) in request.batch.enumerated() {
            for (i, p) in set.enumerated() where hasNULInParameter(p) {
                throw error("parameter $\(i + 1) of set \(n + 1)")
            }
        }
        for group in request.upsert?.plan.groups ?? [] {
            for row in group.rows {
                for (i, v) in row.enumerated() where hasNUL(v) { throw error("column '\(group.columns[i])'") }
            }
        }
    }

    /// On the upsert's hot path: `memchr` over the string's own bytes, no copy for native strings.
    static func hasNUL(_ value: Value) -> Bool {
        guard case .string(let s) = value else { return false }
        return s.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false
        } ?? s.utf8.contains(0)
    }

    /// A parameter may be an array sent as an array literal of its elements' text (`PostgresArrays`).
    static func hasNULInParameter(_ value: Value) -> Bool {
        if case .array(let items) = value { return items.contains(where: hasNULInParameter) }
        return hasNUL(value)
    }

    static func error(_ place: String) -> NodeError {
        NodeError(
            "postgres 22021: \(place) holds a NUL byte (\\u0000), which PostgreSQL text cannot store",
            code: "pg_22021", retryable: false)
    }
}
