import FlowrunValue

/// The bound values of one statement as libpq text parameters: each value's text, NUL-terminated, back to
/// back in one buffer, with one pointer per parameter into it (a null pointer for SQL NULL). One buffer per
/// statement instead of a C string allocated and freed per value. (`PostgresText.checkNoNUL` has already
/// refused text with a NUL byte in it.)
struct PostgresParameters {
    /// The values' texts, each followed by a NUL byte.
    private var text: [UInt8] = []
    /// Where each parameter's text starts in `text`; nil for SQL NULL.
    private var starts: [Int?] = []

    /// `sql` is the statement: an array parameter it casts to an array type (`$1::text[]`) is sent as a
    /// PostgreSQL array literal (`PostgresArrays`).
    init(_ values: [Value], sql: String = "") {
        starts.reserveCapacity(values.count)
        text.reserveCapacity(values.count * 16)
        for (i, value) in values.enumerated() { append(value, parameter: i, sql: sql) }
    }

    /// One value as PostgreSQL reads it in text format: bools spelled out, numbers in their canonical text,
    /// objects as JSON, arrays as JSON unless the statement casts the parameter to an array type.
    private mutating func append(_ value: Value, parameter: Int, sql: String) {
        switch value {
        case .null: starts.append(nil)
        case .bool(let b): append(text: b ? "true" : "false")
        case .string(let s): append(text: s)
        case .array(let items):
            append(text: PostgresArrays.literal(items, parameter: parameter, sql: sql) ?? value.interpolated)
        default: append(text: value.interpolated)
        }
    }

    private mutating func append(text s: String) {
        starts.append(text.count)
        // The string's bytes in one copy: appending its `utf8` view went byte by byte (1,200 instructions
        // a row of the user sync).
        var s = s
        s.withUTF8 { text.append(contentsOf: $0) }
        text.append(0)
    }

    /// Calls `body` with the parameter pointers (nil when there are no parameters); they are valid only
    /// during the call.
    func withPointers<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        if starts.isEmpty { return body(nil) }
        return text.withUnsafeBytes { bytes in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: starts.count) { pointers in
                let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                for (i, start) in starts.enumerated() {
                    pointers[i] = start.map { base! + $0 }
                }
                return body(UnsafePointer(pointers.baseAddress!))
            }
        }
    }
}
