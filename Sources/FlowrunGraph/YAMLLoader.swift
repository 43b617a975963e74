import FlowrunExpression
import FlowrunValue
import Yams

/// Reads YAML-ish flow files: every `<<...>>` span is set aside before libyaml sees the text (so a
/// template may hold `: `, ` #`, braces and commas unquoted), replaced by a short placeholder, and
/// restored with its exact original byte range afterwards. Positions reported by libyaml are mapped
/// back to the original text, so every diagnostic points at what the user wrote.
public enum YAMLLoader {
    public static let maxBytes = 4 << 20
    public static let maxDepth = 64
    public static let maxNodes = 100_000
    /// Yams's resolver: none (`.basic`, every scalar a string to Yams), since `resolvePlain` types plain
    /// scalars itself; the default one costs ICU regular expressions at every start (see `run`).
    static let resolver = Resolver.basic

    private static let open: Unicode.Scalar = "\u{E000}"
    private static let close: Unicode.Scalar = "\u{E001}"
    private static let escapedOpen: Unicode.Scalar = "\u{E002}"

    /// Parses a flow file into positioned nodes, or returns diagnostics.
    public static func load(_ source: SourceFile) -> Result<YNode, Diagnostics> {
        var loader = Loading(source: source)
        return loader.run()
    }

    public struct Diagnostics: Error, Sendable {
        public let items: [Diagnostic]
        /// The document, when it could still be read despite the problems (so checking can go on).
        public var partial: YNode? = nil
    }

    private struct Segment {
        let tStart: Int
        let oStart: Int
        let tLength: Int
        let oLength: Int
    }

    private struct Loading {
        let source: SourceFile
        var segments: [Segment] = []
        var templates: [(outer: Range<Int>, inner: Range<Int>)] = []
        var transformed: SourceFile!
        var nodeCount = 0

        init(source: SourceFile) { self.source = source }

        func span(_ start: Int, _ end: Int) -> Span { Span(source: source, start: start, end: end) }

        mutating func run() -> Result<YNode, Diagnostics> {
            if let problem = preflight() { return .failure(Diagnostics(items: [problem])) }
            let scanDiagnostics = protectTemplates()
            let node: Node?
            do {
                // `.basic`: no tag resolution. `resolvePlain` types plain scalars (YAML 1.2 core schema); Yams's
                // default resolver would compile seven NSRegularExpressions (ICU) per process and match every
                // scalar against them: 18% of `flowrun check flows/user-sync.yaml` (issue 19, bench/README.md).
                node = try Yams.compose(yaml: transformed.text, YAMLLoader.resolver)
            } catch let error as YamlError {
                return .failure(Diagnostics(items: scanDiagnostics + [diagnostic(for: error)]))
            } catch {
                return .failure(Diagnostics(items: [.error(.yamlSyntax, "\(error)", at: span(0, 0))]))
            }
            guard let node else {
                return .failure(Diagnostics(items: [.error(.structure, "the flow file is empty", at: span(0, 0))]))
            }
            do {
                let root = try convert(node, depth: 0)
                return scanDiagnostics.isEmpty
                    ? .success(root) : .failure(Diagnostics(items: scanDiagnostics, partial: root))
            } catch {
                return .failure(Diagnostics(items: scanDiagnostics + [error]))
            }
        }

        /// Rejects input that would be slow or dangerous to hand to libyaml: too large, deeply nested, tabs.
        func preflight() -> Diagnostic? {
            let bytes = source.bytes
            if bytes.count > YAMLLoader.maxBytes {
                return .error(.nestingTooDeep, "the flow file is larger than 4 MiB", at: span(0, 0))
            }
            var depth = 0
            var quote: UInt8? = nil
            var lineStart = true
            var indent = 0
            var i = 0
            while i < bytes.count {
                let c = bytes[i]
                if c == 0x0A { lineStart = true; indent = 0; quote = nil; i += 1; continue }
                if lineStart {
                    if c == 0x20 {
                        indent += 1
                    } else if c == 0x09 {
                        // A tab before the first character of a line is indentation, which YAML forbids.
                        var j = i
                        while j < bytes.count, bytes[j] == 0x09 || bytes[j] == 0x20 { j += 1 }
                        if j < bytes.count, bytes[j] != 0x0A, bytes[j] != 0x23 {
                            return .error(
                                .tabIndent, "a tab is used for indentation", at: span(i, i + 1),
                                help: "YAML allows only spaces for indentation")
                        }
                    } else {
                        lineStart = false
                        if indent > 2 * YAMLLoader.maxDepth {
                            return .error(
                                .nestingTooDeep,
                                "the flow file is indented more than \(2 * YAMLLoader.maxDepth) columns",
                                at: span(i, i + 1))
                        }
                    }
                }
                if let q = quote {
                    if c == q { quote = nil }
                } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    depth += 1
                    if depth > YAMLLoader.maxDepth {
                        return .error(
                            .nestingTooDeep, "brackets nest more than \(YAMLLoader.maxDepth) levels deep",
                            at: span(i, i + 1))
                    }
                } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    depth = max(0, depth - 1)
                } else if c == UInt8(ascii: "\"") {
                    quote = c
                }
                i += 1
            }
            return nil
        }

        /// Replaces every template with a placeholder and every `\<<` with a marker, recording where each came from.
        mutating func protectTemplates() -> [Diagnostic] {
            // Full-line comments are blanked for the scan so that a stray `<<` in a comment is not an error.
            var masked = source.bytes
            var i = 0
            var atLineStart = true
            while i < masked.count {
                if masked[i] == 0x0A { atLineStart = true; i += 1; continue }
                if atLineStart, masked[i] == UInt8(ascii: "#") {
                    while i < masked.count, masked[i] != 0x0A { masked[i] = 0x20; i += 1 }
                    continue
                }
                if masked[i] != 0x20 { atLineStart = false }
                i += 1
            }
            let scanSource = SourceFile(path: source.path, text: String(decoding: masked, as: UTF8.self))
            let (pieces, scanned) = TemplateScanner.scan(scanSource, 0..<masked.count)
            let diagnostics = scanned.map { d in
                Diagnostic(
                    d.severity, d.code, d.message,
                    at: d.span.map { Span(source: source, start: $0.start, end: $0.end) }, help: d.help)
            }
            var out: [UInt8] = []
            out.reserveCapacity(source.bytes.count)
            for piece in pieces {
                switch piece {
                case .text(let r):
                    segments.append(
                        Segment(tStart: out.count, oStart: r.lowerBound, tLength: r.count, oLength: r.count))
                    out.append(contentsOf: source.bytes[r])
                case .escape(let r):
                    let marker = Array(String(YAMLLoader.escapedOpen).utf8)
                    segments.append(
                        Segment(tStart: out.count, oStart: r.lowerBound, tLength: marker.count, oLength: r.count))
                    out.append(contentsOf: marker)
                case .template(let outer, let inner):
                    let placeholder = Array("\(YAMLLoader.open)\(templates.count)\(YAMLLoader.close)".utf8)
                    templates.append((outer, inner))
                    segments.append(
                        Segment(
                            tStart: out.count, oStart: outer.lowerBound, tLength: placeholder.count,
                            oLength: outer.count))
                    out.append(contentsOf: placeholder)
                }
            }
            transformed = SourceFile(path: source.path, text: String(decoding: out, as: UTF8.self))
            return diagnostics
        }

        /// Maps a byte offset in the transformed text back to the original.
        func original(_ t: Int) -> Int {
            var lo = 0, hi = segments.count - 1
            guard hi >= 0 else { return t }
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if segments[mid].tStart <= t { lo = mid } else { hi = mid - 1 }
            }
            let s = segments[lo]
            if s.tLength != s.oLength { return s.oStart }
            return s.oStart + min(t - s.tStart, s.oLength)
        }

        func offset(_ mark: Mark?) -> Int {
            guard let mark else { return 0 }
            return original(transformed.offset(line: mark.line, column: mark.column))
        }

        func diagnostic(for error: YamlError) -> Diagnostic {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                let o = offset(mark)
                var message = problem
                if let context { message += " (\(context.text))" }
                var help: String?
                if o < source.bytes.count, source.bytes[o] == 0x09 {
                    help = "YAML does not allow tabs here; use spaces"
                }
                if problem.contains("mapping values are not allowed") {
                    help = "quote the value, or wrap an expression in <<...>>"
                }
                return .error(.yamlSyntax, message, at: span(o, o + 1), help: help)
            case .duplicatedKeysInMapping(let duplicates, let context):
                let o = secondOccurrence(of: duplicates.first ?? "", after: offset(context.mark))
                return .error(
                    .duplicateKey, "duplicate key '\(duplicates.joined(separator: "', '"))' in a mapping",
                    at: span(o, o + max(1, duplicates.first?.utf8.count ?? 1)),
                    help: "YAML keeps only one of them; remove or rename the other")
            default:
                return .error(.yamlSyntax, "\(error)", at: span(0, 0))
            }
        }

        /// libyaml names the first of two duplicate keys; point at the later one, which is the surprise.
        func secondOccurrence(of key: String, after first: Int) -> Int {
            let b = source.bytes
            var lineStart = first
            while lineStart > 0, b[lineStart - 1] != 0x0A { lineStart -= 1 }
            let indent = first - lineStart
            let needle = Array(key.utf8) + [UInt8(ascii: ":")]
            var i = first + 1
            while i < b.count {
                if b[i - 1] == 0x0A {
                    var j = i
                    while j < b.count, b[j] == 0x20 { j += 1 }
                    if j - i == indent, j + needle.count <= b.count, Array(b[j..<j + needle.count]) == needle {
                        return j
                    }
                }
                i += 1
            }
            return first
        }

        /// End of a scalar that starts at `o`: the rest of its line, less trailing spaces and comments.
        func scalarEnd(_ o: Int, length: Int) -> Int {
            let b = source.bytes
            var e = o
            let limit = min(b.count, o + max(length, 1))
            while e < limit, b[e] != 0x0A { e += 1 }
            return max(e, o + 1)
        }

        mutating func convert(_ node: Node, depth: Int) throws(Diagnostic) -> YNode {
            nodeCount += 1
            let start = offset(node.mark)
            if nodeCount > YAMLLoader.maxNodes {
                throw .error(
                    .aliasBomb,
                    "the flow file expands to more than \(YAMLLoader.maxNodes) YAML nodes (anchors and aliases?)",
                    at: span(start, start + 1))
            }
            if depth > YAMLLoader.maxDepth {
                throw .error(
                    .nestingTooDeep, "the flow file nests more than \(YAMLLoader.maxDepth) levels deep",
                    at: span(start, start + 1))
            }
            switch node {
            case .scalar(let scalar):
                return try convertScalar(scalar, start: start)
            case .sequence(let seq):
                var items: [YNode] = []
                for child in seq { items.append(try convert(child, depth: depth + 1)) }
                return YNode(kind: .sequence(items), span: span(start, items.last?.span.end ?? start + 1))
            case .mapping(let map):
                var pairs: [(key: YNode, value: YNode)] = []
                for (k, v) in map {
                    if case .scalar(let ks) = k, ks.string == "<<", ks.style == .plain {
                        // YAML merge key: bring in the referenced mapping(s)' keys that are not set here.
                        let sources = v.sequence.map { Array($0) } ?? [v]
                        for src in sources {
                            let merged = try convert(src, depth: depth + 1)
                            guard let entries = merged.entries else {
                                throw .error(
                                    .structure, "a merge key (<<:) needs a mapping or a list of mappings",
                                    at: merged.span)
                            }
                            for e in entries
                            where !pairs.contains(where: { $0.key.string == e.key.string })
                                && !map.contains(where: { $0.key.string == e.key.string })
                            {
                                pairs.append(e)
                            }
                        }
                        continue
                    }
                    let key = try convert(k, depth: depth + 1)
                    if case .scalar(.template) = key.kind {
                        throw .error(.structure, "templates are not allowed in keys", at: key.span)
                    }
                    if key.string == nil, case .scalar = key.kind {
                        // Keys such as `1` or `true` are read as their text.
                    } else if key.string == nil {
                        throw .error(.structure, "keys must be plain strings", at: key.span)
                    }
                    let textKey = key.string ?? keyText(key)
                    if pairs.contains(where: { $0.key.string == textKey }) {
                        throw .error(
                            .duplicateKey, "duplicate key '\(textKey)' in a mapping", at: key.span,
                            help: "YAML keeps only one of them; remove or rename the other")
                    }
                    let value = try convert(v, depth: depth + 1)
                    pairs.append((YNode(kind: .scalar(.string(textKey)), span: key.span), value))
                }
                return YNode(kind: .mapping(pairs), span: span(start, pairs.last?.value.span.end ?? start + 1))
            case .alias:
                throw .error(.structure, "unresolved alias", at: span(start, start + 1))
            }
        }

        func keyText(_ key: YNode) -> String {
            switch key.kind {
            case .scalar(.int(let i)): String(i)
            case .scalar(.bool(let b)): b ? "true" : "false"
            case .scalar(.double(let d)): Value.canonical(d)
            case .scalar(.null): "null"
            default: ""
            }
        }

        func convertScalar(_ scalar: Node.Scalar, start: Int) throws(Diagnostic) -> YNode {
            let text = scalar.string
            guard text.unicodeScalars.contains(where: { $0 == YAMLLoader.open || $0 == YAMLLoader.escapedOpen }) else {
                let s = span(start, scalarEnd(start, length: text.utf8.count + (scalar.style == .plain ? 0 : 2)))
                guard scalar.style == .plain else {
                    return YNode(kind: .scalar(.string(text)), span: s)
                }
                return YNode(kind: .scalar(resolvePlain(text)), span: s)
            }
            var pieces: [YNode.TemplatePiece] = []
            var buffer = ""
            var first: Int?
            var last = start + 1
            var iterator = text.unicodeScalars.makeIterator()
            while let u = iterator.next() {
                if u == YAMLLoader.escapedOpen {
                    buffer += "<<"
                } else if u == YAMLLoader.open {
                    var digits = ""
                    while let d = iterator.next(), d != YAMLLoader.close { digits.unicodeScalars.append(d) }
                    guard let id = Int(digits), templates.indices.contains(id) else { continue }
                    if !buffer.isEmpty { pieces.append(.text(buffer)); buffer = "" }
                    let t = templates[id]
                    pieces.append(.expression(t.inner))
                    if first == nil { first = t.outer.lowerBound }
                    last = t.outer.upperBound
                } else {
                    buffer.unicodeScalars.append(u)
                }
            }
            if !buffer.isEmpty { pieces.append(.text(buffer)) }
            let hasExpression = pieces.contains { if case .expression = $0 { true } else { false } }
            if !hasExpression {
                return YNode(
                    kind: .scalar(.string(buffer)), span: span(start, scalarEnd(start, length: text.utf8.count)))
            }
            let s = span(min(start, first ?? start), max(last, start + 1))
            return YNode(kind: .scalar(.template(pieces)), span: s)
        }

        /// YAML 1.2 core schema for plain scalars: null, bools, ints, floats; everything else is a string.
        func resolvePlain(_ text: String) -> YNode.Scalar {
            switch text {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            let first = text.utf8.first!
            let numeric =
                (first >= 48 && first <= 57) || first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || first == UInt8(ascii: ".")
            guard numeric else { return .string(text) }
            if let i = Int(text) { return .int(i) }
            if text.hasPrefix("0x"), let i = Int(text.dropFirst(2), radix: 16) { return .int(i) }
            if text.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }), text.dropFirst().allSatisfy(\.isNumber) {
                // Digits only but too large for an int: keep the text rather than silently losing precision.
                return .string(text)
            }
            if let d = Double(text), d.isFinite, text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                return .double(d)
            }
            return .string(text)
        }
    }
}
