import FlowrunRuntime

/// The live progress of a run as text: a pure function of the run record and the time, drawn by the
/// CLI on a terminal (`flowrun FLOW --once`) and shown by `flowrun runs ID`.
public enum RunProgress {
    /// `processed 34,100 of 100,000`, or `processed 34,100` when no source announced a total.
    public static func count(_ r: RunRecord) -> String {
        "processed \(grouped(processed(r)))" + (r.total.map { " of \(grouped($0))" } ?? "")
    }

    /// Records processed so far: what the sources handed over, or what writers attempted if more.
    static func processed(_ r: RunRecord) -> Int { max(r[.processed], r[.attempted]) }

    /// One line: run id, elapsed time, the count, the rate, and with a total the percentage and ETA.
    ///
    ///     r1a2b-0c3d  12.0s  processed 34,100 of 100,000  34%  2,842/s  ETA 23s  failed 3
    public static func line(_ r: RunRecord, now: Int) -> String {
        let elapsed = Double(max(0, now - r.startedAt)) / 1e9
        let processed = processed(r)
        let rate = elapsed > 0 ? Double(processed) / elapsed : 0
        var out = "\(r.id)  \(seconds(elapsed))  \(count(r))"
        if let total = r.total, total > 0 {
            out += "  \(min(100, processed * 100 / total))%"
        }
        out += "  \(grouped(Int(rate.rounded())))/s"
        if let total = r.total, total > processed, rate > 0 {
            out += "  ETA \(seconds(Double(total - processed) / rate))"
        }
        if r[.failed] > 0 { out += "  failed \(grouped(r[.failed]))" }
        return out
    }

    /// Short durations: `4.2s` under a minute, `3m05s` under an hour, else `2h07m`.
    static func seconds(_ s: Double) -> String {
        if s < 60 { return "\((s * 10).rounded() / 10)s" }
        let whole = Int(s.rounded())
        if whole < 3600 { return "\(whole / 60)m" + pad(whole % 60) + "s" }
        return "\(whole / 3600)h" + pad(whole % 3600 / 60) + "m"
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Thousands separated by commas: `100,000`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}
