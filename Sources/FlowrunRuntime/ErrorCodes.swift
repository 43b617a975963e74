/// The `error.code` values that nodes put on their `error` port and in the run record, with whether
/// each is retryable (`error.retryable`). The one list: `components/errors.md` is rendered from it, and
/// a test checks that every code written in Sources is here.
public enum ErrorCodes {
    public struct Entry: Sendable {
        /// The code, or its pattern (`http_<status>`).
        public let code: String
        public let retryable: String
        public let doc: String
    }

    public static let all: [Entry] = [
        Entry(
            code: "http_<status>", retryable: "408, 425, 429 and 5xx: yes; other statuses: no",
            doc: "http-client got this status after its retries (`http_404`, `http_409`, `http_429`)."),
        Entry(
            code: "timeout", retryable: "yes", doc: "http-client: an attempt ran past `timeout` (after its retries)."),
        Entry(
            code: "transport", retryable: "yes",
            doc: "http-client: no HTTP answer (connection refused, DNS, TLS, reset), after its retries."),
        Entry(
            code: "bad_json", retryable: "no",
            doc: "http-client: the response says JSON but does not parse (never turned into null)."),
        Entry(
            code: "bad_request", retryable: "no",
            doc:
                "The message for an http-client or database node is malformed (no `url`, a relative `url` and no `baseUrl`, `parameters` not a list, an upsert without `table`/`key`/`rows`)."
        ),
        Entry(
            code: "bad_input", retryable: "no",
            doc: "An iterator's `array` is not an array; a state node has no key."),
        Entry(
            code: "pg_<SQLSTATE>",
            retryable: "classes 08, 40, 53 and 57P: yes; others (constraints, syntax, 22xxx data errors): no",
            doc:
                "PostgreSQL refused a statement (`pg_23505` unique violation, `pg_22P02` invalid text, `pg_40001` serialization failure)."
        ),
        Entry(
            code: "pg_22021", retryable: "no",
            doc: "A string for PostgreSQL holds a NUL byte, which its text cannot store; refused before sending."),
        Entry(
            code: "postgres", retryable: "when the connection is lost",
            doc: "PostgreSQL failed without a SQLSTATE (the connection broke mid-statement)."),
        Entry(
            code: "connect", retryable: "yes",
            doc: "The database cannot be reached or opened (after the node's retries)."),
        Entry(
            code: "connection", retryable: "yes",
            doc: "A PostgreSQL connection was lost while a statement ran, and running it again could apply it twice."),
        Entry(
            code: "sqlite_<code>", retryable: "5 (busy) and 6 (locked): yes; others: no",
            doc: "SQLite's primary result code (`sqlite_19` constraint, `sqlite_20` type mismatch)."),
        Entry(
            code: "state_store", retryable: "yes", doc: "A dead-letter node could not read or write the state store."),
        Entry(code: "listen", retryable: "no", doc: "An http-server cannot listen on its host and port."),
        Entry(
            code: "E120-E124", retryable: "no",
            doc:
                "An expression failed at run time (type error, division by zero, bad argument, overflow, too deep); `error.location` is its file:line:col (components/diagnostics.md)."
        ),
        Entry(
            code: "component", retryable: "as the message says (state store failures: yes)",
            doc: "Any other failure of a component (the default code)."),
        Entry(
            code: "bad_settings", retryable: "no",
            doc:
                "A node's settings cannot work for this message (paginate: an offset that cannot advance; state: a `lag` of the wrong kind for the cursor)."
        ),
        Entry(
            code: "bad_mapping", retryable: "no",
            doc: "map: a mapping rule without `to`, or with neither `from` nor `transform`."),
        Entry(
            code: "bad_page", retryable: "no",
            doc:
                "paginate: the page's records (at `records`) are not a list, or the body is not what the strategy reads."
        ),
        Entry(
            code: "max_pages", retryable: "no",
            doc:
                "paginate: `maxPages` was reached while the source still had pages; the records after it were not read."
        ),
        Entry(
            code: "repeated_page", retryable: "no",
            doc: "paginate: a page came back identical to an earlier one (the page parameter is probably ignored)."),
        Entry(
            code: "repeated_token", retryable: "no",
            doc: "paginate: the cursor or next-page URL repeats, which would loop forever."),
        Entry(
            code: "source_shifted", retryable: "no",
            doc:
                "paginate with `key`: a record was served twice in one run, so the source shifted and a neighbour may have been skipped; the cursor holds so the next run reads it again."
        ),
        Entry(
            code: "missing_source", retryable: "no",
            doc:
                "http-client: a field named in `required` is null, so the record is not sent (counted `missing_source`)."
        ),
        Entry(code: "unimplemented", retryable: "no", doc: "A component without a runtime implementation."),
    ]

    /// Whether a code written in Sources (a literal, or a prefix like `pg_`) is documented here.
    public static func documents(_ code: String) -> Bool {
        all.contains { entry in
            if entry.code == code { return true }
            if let open = entry.code.firstIndex(of: "<") { return code.hasPrefix(entry.code[..<open]) }
            return false
        }
    }
}
