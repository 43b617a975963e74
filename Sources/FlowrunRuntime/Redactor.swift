import FlowrunExpression
import FlowrunValue

/// The one place secrets are taken out of what leaves a run: error messages, run records, dead letters,
/// log lines, summaries and the admin API all pass through a `Redactor` (`RedactingStore` and
/// `RedactingLogger` wrap a runtime's store and logger, so no save or log line can bypass it).
///
/// Each declared secret of 3 characters or more is searched in its common encodings: as is, in lower and
/// upper case, URL-encoded, JSON-escaped and Base64 (of the secret and of `secret:`). Base64 of a longer
/// text holding a secret (`base64('user:' + secret)` for Basic auth) is found by decoding every
/// Base64-looking token of at most `maxTokenLength` characters. Values of headers named `Authorization`,
/// `Cookie`, `Set-Cookie`, `Proxy-Authorization` and `X-Api-Key`, in any object, and any header of a
/// `headers` object whose value holds a secret become `***` whole.
public struct Redactor: Sendable {
    public static let mask = "***"
    /// Keys whose values are credentials whatever they hold (compared in lower case).
    public static let sensitiveKeys: Set<String> = [
        "authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key",
    ]
    /// Base64-looking tokens longer than this are not decoded (bounded work per text).
    public static let maxTokenLength = 4096
    /// Shorter secrets would redact ordinary words; they are not searched.
    public static let minSecretLength = 3

    /// Every literal form of every secret, longest first (UTF-8).
    private let needles: [[UInt8]]
    /// The first bytes of the needles, to skip most positions with one look-up.
    private let firstBytes: Set<UInt8>
    /// The secrets (and their case variants) as bytes, searched in decoded Base64 tokens.
    private let secretBytes: [[UInt8]]

    public static let none = Redactor(secrets: [])

    public init(secrets: [String]) {
        var forms = Set<[UInt8]>()
        var raw = Set<[UInt8]>()
        for secret in Set(secrets) where secret.count >= Self.minSecretLength {
            for variant in [secret, secret.lowercased(), secret.uppercased()] {
                let bytes = Array(variant.utf8)
                raw.insert(bytes)
                forms.insert(bytes)
                forms.insert(Self.percentEncoded(bytes, upperHex: true))
                forms.insert(Self.percentEncoded(bytes, upperHex: false))
                forms.insert(Array(JSON.serialize(.string(variant)).utf8.dropFirst().dropLast()))
                for text in [bytes, bytes + [UInt8(ascii: ":")]] {
                    let encoded = Base64.encode(text)
                    forms.insert(Array(encoded.utf8))
                    forms.insert(Array(encoded.utf8.filter { $0 != UInt8(ascii: "=") }))
                }
            }
        }
        needles = forms.filter { !$0.isEmpty }.sorted {
            $0.count > $1.count || ($0.count == $1.count && $0.lexicographicallyPrecedes($1))
        }
        firstBytes = Set(needles.compactMap(\.first))
        secretBytes = raw.sorted { $0.count > $1.count }
    }

    /// Whether there is no secret to look for (header keys are still masked in values).
    public var isEmpty: Bool { needles.isEmpty }

    // MARK: Texts

    /// `text` with every form of every secret, and every Base64 token that decodes to text holding one,
    /// replaced by `***`.
    public func redact(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var changed = false
        let tokensDone = redactBase64Tokens(bytes, &changed)
        let literalsDone = redactLiterals(tokensDone, &changed)
        return changed ? String(decoding: literalsDone, as: UTF8.self) : text
    }

    private func redactLiterals(_ bytes: [UInt8], _ changed: inout Bool) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        var copiedUpTo = 0
        while i < bytes.count {
            if firstBytes.contains(bytes[i]), let n = needles.first(where: { Self.matches(bytes, at: i, $0) }) {
                if out.isEmpty { out.reserveCapacity(bytes.count) }
                out += bytes[copiedUpTo..<i]
                out += Self.maskBytes
                i += n.count
                copiedUpTo = i
                changed = true
            } else {
                i += 1
            }
        }
        guard copiedUpTo > 0 else { return bytes }
        out += bytes[copiedUpTo...]
        return out
    }

    /// Decodes each run of Base64 characters (with its `=` padding) and masks the run when the decoded bytes
    /// hold a secret in any case.
    private func redactBase64Tokens(_ bytes: [UInt8], _ changed: inout Bool) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        var copiedUpTo = 0
        while i < bytes.count {
            guard Self.isBase64Character(bytes[i]) else {
                i += 1
                continue
            }
            var end = i
            while end < bytes.count, Self.isBase64Character(bytes[end]) { end += 1 }
            let runEnd = end
            while end < bytes.count, end - runEnd < 2, bytes[end] == UInt8(ascii: "=") { end += 1 }
            let length = runEnd - i
            if length >= 4, length <= Self.maxTokenLength,
                let decoded = Base64.decode(String(decoding: bytes[i..<runEnd], as: UTF8.self)),
                containsSecret(decoded)
            {
                out += bytes[copiedUpTo..<i]
                out += Self.maskBytes
                copiedUpTo = end
                changed = true
            }
            i = end
        }
        guard copiedUpTo > 0 else { return bytes }
        out += bytes[copiedUpTo...]
        return out
    }

    private func containsSecret(_ decoded: [UInt8]) -> Bool {
        guard decoded.count >= Self.minSecretLength else { return false }
        let lowered = decoded.map { (65...90).contains($0) ? $0 + 32 : $0 }
        return secretBytes.contains { s in
            Self.contains(decoded, s) || Self.contains(lowered, s)
        }
    }

    // MARK: Values and records

    /// `value` with every string redacted, credential keys masked, and headers holding a secret masked whole.
    public func redact(_ value: Value) -> Value {
        switch value {
        case .string(let s): return isEmpty ? value : .string(redact(s))
        case .array(let items): return .array(items.map { redact($0) })
        case .object(let fields):
            var out = Value.Object()
            for (key, field) in fields {
                let lower = key.lowercased()
                if Self.sensitiveKeys.contains(lower), !field.isNull {
                    out[key] = .string(Self.mask)
                } else if lower == "headers", case .object(let headers) = field {
                    var masked = Value.Object()
                    for (name, v) in headers {
                        let sensitive = Self.sensitiveKeys.contains(name.lowercased()) && !v.isNull
                        masked[name] = sensitive || redact(v) != v ? .string(Self.mask) : v
                    }
                    out[key] = .object(masked)
                } else {
                    out[key] = redact(field)
                }
            }
            return .object(out)
        default: return value
        }
    }

    /// The record with its reason, notes, error messages, error inputs and trigger input redacted.
    public func redact(_ record: RunRecord) -> RunRecord {
        var r = record
        r.reason = r.reason.map { redact($0) }
        r.retryNote = r.retryNote.map { redact($0) }
        r.input = redact(r.input)
        r.errors = r.errors.map { e in
            var e = e
            e.message = redact(e.message)
            e.location = e.location.map { redact($0) }
            e.input = redact(e.input)
            return e
        }
        return r
    }

    /// A JSON preview of `value`, redacted before it is cut to `limit` characters (a cut never splits a
    /// secret into a visible half).
    public func preview(_ value: Value, limit: Int = 1000) -> String {
        let text = redact(JSON.serialize(redact(value)))
        return text.count > limit ? String(text.prefix(limit)) + "..." : text
    }

    // MARK: Byte helpers

    private static let maskBytes = Array(mask.utf8)

    private static func matches(_ bytes: [UInt8], at i: Int, _ needle: [UInt8]) -> Bool {
        guard i + needle.count <= bytes.count else { return false }
        var j = 0
        while j < needle.count {
            if bytes[i + j] != needle[j] { return false }
            j += 1
        }
        return true
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for i in 0...(haystack.count - needle.count) where matches(haystack, at: i, needle) { return true }
        return false
    }

    private static func isBase64Character(_ c: UInt8) -> Bool {
        switch c {
        case 65...90, 97...122, 48...57, UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default: return false
        }
    }

    private static func percentEncoded(_ bytes: [UInt8], upperHex: Bool) -> [UInt8] {
        let digits = Array((upperHex ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        for b in bytes {
            switch b {
            case 65...90, 97...122, 48...57, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(b)
            default: out += [UInt8(ascii: "%"), digits[Int(b >> 4)], digits[Int(b & 15)]]
            }
        }
        return out
    }
}

/// A state store whose run records and dead-letter items are redacted on their way in (a runtime's
/// store: every save of a run, every dead letter). Other keys (cursors, user state) are stored as given.
public final class RedactingStore: StateStore, @unchecked Sendable {
    public let base: any StateStore
    public let redactor: Redactor

    public init(_ base: any StateStore, redactor: Redactor) {
        self.base = base
        self.redactor = redactor
    }

    func redacted(_ key: String, _ value: Value) -> Value {
        key.hasPrefix(DeadLetterQueue.prefix) ? redactor.redact(value) : value
    }

    public func get(flow: String, key: String) throws -> Value? { try base.get(flow: flow, key: key) }
    public func set(flow: String, key: String, value: Value) throws {
        try base.set(flow: flow, key: key, value: redacted(key, value))
    }
    public func delete(flow: String, key: String) throws { try base.delete(flow: flow, key: key) }
    public func compareAndSet(flow: String, key: String, expected: Value?, new: Value?) throws -> Bool {
        try base.compareAndSet(flow: flow, key: key, expected: expected, new: new.map { redacted(key, $0) })
    }
    public func claim(flow: String, key: String, due: Int) throws -> Bool {
        try base.claim(flow: flow, key: key, due: due)
    }
    public func entries(flow: String?, prefix: String) throws -> [(flow: String, key: String, value: Value)] {
        try base.entries(flow: flow, prefix: prefix)
    }
    public func references(namespace: String, ids: [String], by side: ExternalReference.Side) throws
        -> [ExternalReference]
    { try base.references(namespace: namespace, ids: ids, by: side) }
    public func storeReferences(
        flow: String, namespace: String, _ references: [ExternalReference], fence: Fence?
    ) throws -> Bool { try base.storeReferences(flow: flow, namespace: namespace, references, fence: fence) }
    public func save(_ record: RunRecord) throws { try base.save(redactor.redact(record)) }
    public func runs(flow: String?, limit: Int) throws -> [RunRecord] { try base.runs(flow: flow, limit: limit) }
    public func run(id: String) throws -> RunRecord? { try base.run(id: id) }
    public func deleteRuns(olderThan: Int) throws -> Int { try base.deleteRuns(olderThan: olderThan) }
    /// The base store's own fenced commit (one transaction), with the values and the record redacted.
    public func commit(
        flow: String, fence: Fence, keys: [String], record: RunRecord?,
        update: ([String: Value]) -> [String: Value?]
    ) throws -> Bool {
        try base.commit(flow: flow, fence: fence, keys: keys, record: record.map(redactor.redact)) { current in
            var out: [String: Value?] = [:]
            for (key, value) in update(current) { out[key] = value.map { redacted(key, $0) } }
            return out
        }
    }
}

/// A logger whose every message is redacted before the wrapped logger (text or JSON) formats it.
public struct RedactingLogger: RunLogger {
    public let base: any RunLogger
    public let redactor: Redactor

    public init(_ base: any RunLogger, redactor: Redactor) {
        self.base = base
        self.redactor = redactor
    }

    public func enabled(_ level: LogLevel) -> Bool { base.enabled(level) }

    public func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
        base.log(level, redactor.redact(message), flow: flow, node: node, run: run)
    }
}
