/// What a statement of `operation: query` may do, for the driver's safe retry: a read is sent again on a
/// new connection when the connection broke under it; a statement that may write is not (the server may
/// have committed it before the session ended). Pure, from the SQL text.
enum StatementKind {
    /// Keywords that make a statement write (outside literals, quoted identifiers and comments): a
    /// data-modifying CTE (`WITH x AS (INSERT ...) SELECT ...`), `SELECT ... INTO` (creates a table),
    /// `MERGE`, `COPY`, `CALL`, `DO`, and `FOR UPDATE`/`FOR SHARE` (locks; not retried, to be safe).
    static let writeWords: Set<String> = [
        "insert", "update", "delete", "merge", "into", "copy", "call", "do", "truncate", "share", "lock",
        "create", "drop", "alter", "grant", "revoke", "vacuum", "refresh", "notify", "listen",
    ]

    /// Statements that start with one of these and contain no write word are reads.
    static let readStarts: Set<String> = ["select", "with", "values", "table", "show"]

    /// Whether running `sql` twice cannot write twice. Functions with side effects called from a SELECT
    /// (`SELECT nextval(...)`, a user function that writes) cannot be seen here: such a query is retried
    /// like any read (use `operation: execute` for it).
    static func isRead(_ sql: String) -> Bool {
        let words = words(sql)
        let statements = words.split(separator: ";")
        guard statements.count == 1, let first = statements[0].first, readStarts.contains(first) else { return false }
        return !words.contains { writeWords.contains($0) }
    }

    /// The lower-cased keywords and identifiers of `sql`, and `;` between statements, skipping string
    /// literals (`'...'`, `E'...'`, dollar-quoted), quoted identifiers and comments.
    static func words(_ sql: String) -> [String] {
        var out: [String] = []
        let b = Array(sql.utf8)
        var i = 0
        var word: [UInt8] = []
        func flush() {
            if !word.isEmpty { out.append(String(decoding: word, as: UTF8.self).lowercased()) }
            word.removeAll()
        }
        while i < b.count {
            let c = b[i]
            if c == 39 || c == 34 {  // ' or ": skip to the closing quote (doubled quotes stay inside)
                flush()
                i += 1
                while i < b.count {
                    if b[i] == c {
                        if i + 1 < b.count, b[i + 1] == c {
                            i += 2
                            continue
                        }
                        break
                    }
                    if b[i] == 92, c == 39, i + 1 < b.count { i += 1 }  // E'...\'...'
                    i += 1
                }
                i += 1
            } else if c == 45, i + 1 < b.count, b[i + 1] == 45 {  // -- comment
                flush()
                while i < b.count, b[i] != 10 { i += 1 }
            } else if c == 47, i + 1 < b.count, b[i + 1] == 42 {  // /* comment */ (nested)
                flush()
                var depth = 0
                while i < b.count {
                    if b[i] == 47, i + 1 < b.count, b[i + 1] == 42 {
                        depth += 1
                        i += 2
                    } else if b[i] == 42, i + 1 < b.count, b[i + 1] == 47 {
                        depth -= 1
                        i += 2
                        if depth == 0 { break }
                    } else {
                        i += 1
                    }
                }
            } else if c == 36, let end = dollarQuoteEnd(b, from: i) {  // $tag$ ... $tag$
                flush()
                i = end
            } else if (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || (c >= 48 && c <= 57) || c >= 128 {
                word.append(c)
                i += 1
            } else {
                flush()
                if c == 59 { out.append(";") }
                i += 1
            }
        }
        flush()
        return out
    }

    /// The index just past a dollar-quoted string starting at `start` (`$$...$$`, `$tag$...$tag$`); nil
    /// when `$` starts no such quote (a parameter such as `$1`).
    static func dollarQuoteEnd(_ b: [UInt8], from start: Int) -> Int? {
        var j = start + 1
        while j < b.count, (b[j] >= 65 && b[j] <= 90) || (b[j] >= 97 && b[j] <= 122) || b[j] == 95 { j += 1 }
        guard j < b.count, b[j] == 36 else { return nil }
        let tag = Array(b[start...j])
        var k = j + 1
        while k + tag.count <= b.count {
            if Array(b[k..<(k + tag.count)]) == tag { return k + tag.count }
            k += 1
        }
        return b.count
    }
}
