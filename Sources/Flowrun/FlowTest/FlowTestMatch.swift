/// How `flowrun test` compares what a case expects with what the run did, and the diff it prints.
/// Pure functions of two values.
///
/// Objects match as subsets (fields the test does not write are not compared), arrays match exactly
/// (same length, element by element, in order), scalars by `==` (so `1 == 1.0`; a string never equals a
/// number).
public enum FlowTestMatch {
    public static func matches(_ expected: Value, _ actual: Value) -> Bool {
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            return e.allSatisfy { key, value in a[key].map { matches(value, $0) } ?? false }
        case (.array(let e), .array(let a)):
            return e.count == a.count && zip(e, a).allSatisfy { matches($0, $1) }
        default:
            return expected == actual
        }
    }

    /// `actual` cut down to the fields `expected` mentions, so that a diff shows only what was compared.
    public static func projected(_ actual: Value, onto expected: Value) -> Value {
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            var out = Value.Object()
            for (key, value) in e { if let v = a[key] { out[key] = projected(v, onto: value) } }
            return .object(out)
        case (.array(let e), .array(let a)):
            return .array(a.enumerated().map { i, v in i < e.count ? projected(v, onto: e[i]) : v })
        default:
            return actual
        }
    }

    /// A line diff of the two values as pretty JSON: `-` lines are expected only, `+` lines actual only.
    public static func diff(expected: Value, actual: Value) -> String {
        let a = JSON.pretty(expected).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = JSON.pretty(projected(actual, onto: expected)).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        return lineDiff(a, b).joined(separator: "\n")
    }

    /// The lines of `a` and `b` marked `  ` (both), `- ` (a only) and `+ ` (b only), by their longest
    /// common subsequence. Long inputs (over 2,000 lines a side) are shown whole, one after the other.
    static func lineDiff(_ a: [String], _ b: [String]) -> [String] {
        guard a.count <= 2000, b.count <= 2000 else { return a.map { "- " + $0 } + b.map { "+ " + $0 } }
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                out.append("  " + a[i])
                i += 1
                j += 1
            } else if i < a.count, j == b.count || lcs[i + 1][j] >= lcs[i][j + 1] {
                out.append("- " + a[i])
                i += 1
            } else {
                out.append("+ " + b[j])
                j += 1
            }
        }
        return out
    }
}
