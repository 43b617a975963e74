/// A problem found while loading, checking or evaluating a flow: a stable code, a message, where it
/// is, and optional help. Rendered late (see `render`), so positions are computed only when printed.
public struct Diagnostic: Error, Sendable {
    public enum Severity: String, Sendable, Comparable {
        case error, warning
        public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
    }

    public let severity: Severity
    public let code: DiagnosticCode
    public let message: String
    public let span: Span?
    /// Extra lines after the caret, such as `did you mean 'response'?`.
    public let help: String?

    public init(_ severity: Severity, _ code: DiagnosticCode, _ message: String, at span: Span?, help: String? = nil) {
        self.severity = severity
        self.code = code
        self.message = message
        self.span = span
        self.help = help
    }

    public static func error(_ code: DiagnosticCode, _ message: String, at span: Span?, help: String? = nil)
        -> Diagnostic
    {
        Diagnostic(.error, code, message, at: span, help: help)
    }

    public static func warning(_ code: DiagnosticCode, _ message: String, at span: Span?, help: String? = nil)
        -> Diagnostic
    {
        Diagnostic(.warning, code, message, at: span, help: help)
    }

    /// `file:line:col: error[E123]: message`, the source line, a caret under the span, and the help.
    public func render() -> String {
        var out = ""
        guard let span else {
            out = "\(severity.rawValue)[\(code.rawValue)]: \(message)"
            if let help { out += "\n  = help: \(help)" }
            return out
        }
        let (line, column) = span.location
        out = "\(span.source.path):\(line):\(column): \(severity.rawValue)[\(code.rawValue)]: \(message)\n"
        let source = span.source
        let length = source.lineLength(line)
        let gutter = String(line)
        let pad = String(repeating: " ", count: gutter.count)
        let (endLine, endColumn) = source.location(of: span.end)
        var width = endLine == line ? max(1, endColumn - column) : max(1, length - column + 1)
        // A long line is shown as a window around the caret, so that output stays small however long
        // the line (a one-line template of 100,000 characters), and costs the window, not the line.
        var first = 0
        if length > Self.lineWindow {
            first = max(0, min(column - 1 - Self.lineWindow / 3, length - Self.lineWindow))
        }
        let (window, more) = source.lineSlice(line, fromColumn: first + 1, limit: Self.lineWindow)
        let shown = String(String.UnicodeScalarView(window.map { $0 == "\t" ? " " : $0 }))
        let before = first > 0 ? "..." : "", after = more ? "..." : ""
        let caretStart = before.count + column - 1 - first
        width = min(width, before.count + window.count - caretStart)
        out += "\(pad) |\n\(gutter) | \(before)\(shown)\(after)\n"
        out += "\(pad) | " + String(repeating: " ", count: caretStart) + String(repeating: "^", count: max(1, width))
        if let help { out += "\n\(pad) = help: \(help)" }
        return out
    }

    /// How many characters of a source line `render` shows at most.
    public static let lineWindow = 120

    /// How many diagnostics of one file are rendered at most; `renderAll` says how many more there are.
    public static let renderLimit = 100

    /// Renders the first `limit` diagnostics, each followed by `separator`, then `and N more` when
    /// there are more: one file with thousands of problems prints a screenful, not megabytes.
    public static func renderAll(_ diagnostics: [Diagnostic], limit: Int = renderLimit, separator: String = "\n")
        -> String
    {
        var out = ""
        for d in diagnostics.prefix(limit) { out += d.render() + separator }
        if diagnostics.count > limit {
            let more = diagnostics.count - limit
            out += "and \(more) more diagnostic\(more == 1 ? "" : "s")" + separator
        }
        return out
    }

    /// A JSON-ready description for `--format json`.
    public var fields: [(String, String?)] {
        let location = span?.location
        return [
            ("severity", severity.rawValue), ("code", code.rawValue), ("message", message),
            ("file", span?.source.path), ("line", location.map { String($0.line) }),
            ("column", location.map { String($0.column) }), ("help", help),
        ]
    }
}

/// Suggests the closest candidate for a misspelt name ("did you mean ...?"), or nil when none is close.
/// A candidate spelt the same but for case and `_`/`-` separators (`hasMore` for `has_more`) wins first.
public func closestMatch(to name: String, in candidates: some Sequence<String>) -> String? {
    let folded = foldedName(name)
    if let same = candidates.first(where: { $0 != name && foldedName($0) == folded }) { return same }
    let target = Array(name.lowercased().unicodeScalars)
    var best: (String, Int)?
    for candidate in candidates {
        let d = editDistance(target, Array(candidate.lowercased().unicodeScalars))
        if best == nil || d < best!.1 { best = (candidate, d) }
    }
    guard let (match, distance) = best else { return nil }
    let limit = max(1, min(3, (target.count + 2) / 3))
    return distance <= limit ? match : nil
}

/// A name without case and word separators: `has_more`, `hasMore` and `Has-More` fold alike.
private func foldedName(_ name: String) -> String {
    String(name.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" })
}

/// "did you mean 'x'?" for the closest candidate, if any.
public func didYouMean(_ name: String, _ candidates: some Sequence<String>) -> String? {
    closestMatch(to: name, in: candidates).map { "did you mean '\($0)'?" }
}

private func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
