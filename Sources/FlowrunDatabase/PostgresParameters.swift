import FlowrunValue

/// The bound values of one statement as libpq text parameters: each value's text, NUL-terminated, back to
/// back in one buffer, with one pointer per parameter into it (a null pointer for SQL NULL). One buffer per
/// statement instead of a C string allocated and freed per value. (`PostgresText.checkNoNUL` has already
/// refused text with a NUL byte in it.)
struct PostgresParameters: ~Copyable {
    /// The values' texts, each followed by a NUL byte (`ByteWriter`: appending to a `[UInt8]` was about
    /// 300 instructions a value, a sixth of the upsert's own CPU).
    private var text: ByteWriter
    /// Where each parameter's text starts in `text`; -1 for SQL NULL.
    private var starts: [Int] = []
    private let sql: String

    var count: Int { starts.count }

    /// `sql` is the statement: an array parameter it casts to an array type (`$1::text[]`) is sent as a
    /// PostgreSQL array literal (`PostgresArrays`).
    init(_ values: [Value], sql: String = "") { self.init(rows: [values][...], sql: sql) }

    /// The rows' values one after another (a multi-row statement), without flattening them first.
    init(rows: ArraySlice<[Value]>, sql: String) {
        let count = rows.reduce(0) { $0 + $1.count }
        text = ByteWriter(capacity: max(64, count * 16))
        self.sql = sql
        starts.reserveCapacity(count)
        for row in rows {
            for value in row { append(value) }
        }
    }

    /// One value as PostgreSQL reads it in text format: bools spelled out, numbers in their canonical text,
    /// objects as JSON, arrays as JSON unless the statement casts the parameter to an array type.
    private mutating func append(_ value: Value) {
        switch value {
        case .null: starts.append(-1)
        case .bool(let b): append(text: b ? "true" : "false")
        case .string(let s): append(text: s)
        case .array(let items):
            append(text: PostgresArrays.literal(items, parameter: starts.count, sql: sql) ?? value.interpolated)
        default: append(text: value.interpolated)
        }
    }

    private mutating func append(text s: String) {
        starts.append(text.count)
        text.append(text: s)
        text.append(0)
    }

    /// Calls `body` with the parameter pointers (nil when there are no parameters); they are valid only
    /// during the call.
    func withPointers<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        if starts.isEmpty { return body(nil) }
        return text.withBytes { bytes in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: starts.count) { pointers in
                let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
                for (i, start) in starts.enumerated() {
                    pointers[i] = start < 0 ? nil : base + start
                }
                return body(UnsafePointer(pointers.baseAddress!))
            }
        }
    }
}
