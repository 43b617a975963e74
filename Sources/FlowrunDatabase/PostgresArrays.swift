import FlowrunValue

/// JSON arrays bound to PostgreSQL parameters that the statement casts to an array type.
///
/// A parameter written `$1::text[]` (or `CAST($1 AS bigint[])`, any element type, any number of `[]`)
/// and bound to a JSON array is sent as a PostgreSQL array literal, so `SELECT * FROM unnest($1::text[],
/// $2::jsonb[])` takes flowrun arrays as they are. Elements: null is SQL NULL, strings are quoted with
/// `"` and `\` escaped, numbers and booleans as their text, objects as JSON text (for `jsonb[]`), nested
/// arrays as nested literals (PostgreSQL wants them rectangular). An array bound to any other parameter
/// (`$1::jsonb`, `$1`) is sent as JSON text, as before. Only array values pay for the scan of the SQL.
enum PostgresArrays {
    /// The text a parameter is sent as: an array literal when `sql` casts parameter `index` (0-based) to an
    /// array type, else `nil` (the caller sends the value's usual text).
    static func literal(_ items: [Value], parameter index: Int, sql: String) -> String? {
        guard castsToArray(sql, parameter: index + 1) else { return nil }
        var out = ""
        append(items, to: &out)
        return out
    }

    static func append(_ items: [Value], to out: inout String) {
        out += "{"
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            switch item {
            case .null: out += "NULL"
            case .array(let nested): append(nested, to: &out)
            case .string(let s): quote(s, to: &out)
            default: quote(item.interpolated, to: &out)
            }
        }
        out += "}"
    }

    static func quote(_ s: String, to out: inout String) {
        out += "\""
        for ch in s.unicodeScalars {
            if ch == "\"" || ch == "\\" { out += "\\" }
            out.unicodeScalars.append(ch)
        }
        out += "\""
    }

    /// Does `sql` cast `$n` to an array type: `$n::type[]` or `CAST($n AS type[])`? (The type may be
    /// qualified, quoted or have a modifier: `$1::public."my type"[]`, `$2::varchar(20)[]`.)
    static func castsToArray(_ sql: String, parameter n: Int) -> Bool {
        let bytes = Array(sql.utf8)
        let marker = Array("$\(n)".utf8)
        var i = 0
        while i + marker.count <= bytes.count {
            guard bytes[i] == UInt8(ascii: "$"), Array(bytes[i..<i + marker.count]) == marker,
                i + marker.count == bytes.count || !isDigit(bytes[i + marker.count])
            else {
                i += 1
                continue
            }
            var j = skipSpaces(bytes, i + marker.count)
            let isCastOperator =
                j + 1 < bytes.count && bytes[j] == UInt8(ascii: ":") && bytes[j + 1] == UInt8(ascii: ":")
            if isCastOperator {
                j += 2
            } else if isCastCall(bytes, before: i) {
                // CAST($n AS type[]): skip `AS`.
                guard j + 2 <= bytes.count, bytes[j] | 0x20 == UInt8(ascii: "a"),
                    bytes[j + 1] | 0x20 == UInt8(ascii: "s")
                else {
                    i += 1
                    continue
                }
                j += 2
            } else {
                i += 1
                continue
            }
            if typeIsArray(bytes, from: j) { return true }
            i += 1
        }
        return false
    }

    /// Reads a type name from `j` and says whether it ends in `[]`.
    static func typeIsArray(_ bytes: [UInt8], from start: Int) -> Bool {
        var j = skipSpaces(bytes, start)
        var depth = 0
        var quoted = false
        while j < bytes.count {
            let b = bytes[j]
            if quoted {
                if b == UInt8(ascii: "\"") { quoted = false }
            } else if b == UInt8(ascii: "\"") {
                quoted = true
            } else if b == UInt8(ascii: "(") {
                depth += 1
            } else if b == UInt8(ascii: ")") {
                if depth == 0 { return false }
                depth -= 1
            } else if b == UInt8(ascii: "[") && depth == 0 {
                return true
            } else if depth == 0 && !(isWordByte(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: " ")) {
                return false
            } else if depth == 0 && b == UInt8(ascii: " ") {
                // `double precision[]`, `timestamp with time zone[]`: words go on; anything else ends the type.
                let next = skipSpaces(bytes, j)
                if next < bytes.count, bytes[next] == UInt8(ascii: "[") { return true }
                if next < bytes.count, !isWordByte(bytes[next]) { return false }
                j = next
                continue
            }
            j += 1
        }
        return false
    }

    /// Is the parameter at `i` the first argument of `CAST(`?
    static func isCastCall(_ bytes: [UInt8], before i: Int) -> Bool {
        var k = i - 1
        while k >= 0, bytes[k] == UInt8(ascii: " ") || bytes[k] == UInt8(ascii: "\n") { k -= 1 }
        guard k >= 4, bytes[k] == UInt8(ascii: "(") else { return false }
        var e = k - 1
        while e >= 0, bytes[e] == UInt8(ascii: " ") { e -= 1 }
        guard e >= 3 else { return false }
        return String(decoding: bytes[(e - 3)...e], as: UTF8.self).lowercased() == "cast"
    }

    static func skipSpaces(_ bytes: [UInt8], _ start: Int) -> Int {
        var j = start
        while j < bytes.count,
            bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\n")
                || bytes[j] == UInt8(ascii: "\t") || bytes[j] == UInt8(ascii: "\r")
        {
            j += 1
        }
        return j
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    static func isWordByte(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "_") || b >= 0x80
    }
}
