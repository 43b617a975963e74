import Flowrun

/// The page frame: navigation, notice, the asset links; and the small pieces pages share.
enum Layout {
    enum Section: String, CaseIterable {
        case flows = "Flows", runs = "Runs", dlq = "Dead letters", state = "State"

        var path: String {
            switch self {
            case .flows: "/"
            case .runs: "/runs"
            case .dlq: "/dlq"
            case .state: "/state"
            }
        }
    }

    static func page(title: String, section: Section?, context: PageContext?, body: HTML) -> HTML {
        var nav: HTML = ""
        if let context {
            for s in Section.allCases {
                nav += "<a href=\"\(s.path)\"\(s == section ? HTML(" aria-current=\"page\"") : "")>\(s.rawValue)</a>"
            }
            nav +=
                "<form method=\"post\" action=\"/logout\" class=\"inline\">\(context.csrfField)<button class=\"secondary\" type=\"submit\">Log out</button></form>"
        }
        let notice: HTML = context?.notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · flowrun</title>
            <link rel="stylesheet" href="/console.css"><script src="/console.js" defer></script>
            </head><body>
            <header><span class="brand">flowrun</span><nav aria-label="Main">\(nav)</nav></header>
            <main id="main"><h1>\(title)</h1>\(notice)\(body)</main>
            </body></html>
            """
    }

    static func status(_ s: String) -> HTML {
        "<span class=\"badge s-\(s)\">\(s.replacingOccurrences(of: "_", with: " "))</span>"
    }

    static func time(_ nanos: Int?) -> HTML {
        guard let nanos else { return "-" }
        let text = Time.rfc3339(nanos: nanos)
        let short = text.replacingOccurrences(of: "T", with: " ").prefix(19)
        return "<time datetime=\"\(text)\">\(short)</time>"
    }

    static func runLink(_ id: String) -> HTML { "<a href=\"/runs/\(HTML.urlComponent(id))\">\(id)</a>" }

    /// A POST button with the session's CSRF token and optional hidden fields.
    static func button(
        _ label: String, action: String, context: PageContext, fields: [(String, String)] = [], style: String = ""
    ) -> HTML {
        let hidden = HTML.join(fields.map { "<input type=\"hidden\" name=\"\($0.0)\" value=\"\($0.1)\">" })
        return
            "<form method=\"post\" action=\"\(action)\" class=\"inline\">\(context.csrfField)\(hidden)<button type=\"submit\" class=\"\(style)\">\(label)</button></form>"
    }

    /// A run's progress bar: live (refreshed by the script) while it runs, full when it completed.
    static func progress(_ r: RunRecord, now: Int) -> HTML {
        let p = Progress(r, now: now)
        let live: HTML = r.status == .running ? " data-live=\"\(r.id)\"" : ""
        return """
            <div class="progress"\(live) data-status="\(r.status.rawValue)" data-percent="\(p.percent)">\
            <progress max="100" value="\(p.percent)" aria-label="progress of \(r.id)">\(p.percent)%</progress>\
            <div class="text">\(p.text)</div></div>
            """
    }
}

/// A run's progress as the console shows it: a pure function of the record and the time.
struct Progress: Equatable {
    var percent: Int
    var text: String

    init(_ r: RunRecord, now: Int) {
        let processed = max(r[.processed], r[.attempted])
        let end = r.completedAt ?? now
        let elapsed = Double(max(0, end - r.startedAt)) / 1e9
        let rate = elapsed > 0 ? Int((Double(processed) / elapsed).rounded()) : 0
        if r.status == .running {
            percent = r.total.map { $0 > 0 ? min(99, processed * 100 / $0) : 0 } ?? 0
        } else if r.status == .completed || r.status == .completedWithErrors {
            percent = 100
        } else {
            percent = r.total.map { $0 > 0 ? min(100, processed * 100 / $0) : 0 } ?? 0
        }
        text =
            "\(RunProgress.count(r))  \(RunProgress.grouped(rate))/s  \(Self.seconds(elapsed))"
            + (r.status == .running ? "" : "  \(r.status.rawValue.replacingOccurrences(of: "_", with: " "))")
    }

    static func seconds(_ s: Double) -> String {
        if s < 60 { return "\((s * 10).rounded() / 10)s" }
        let whole = Int(s.rounded())
        return whole < 3600 ? "\(whole / 60)m\(whole % 60)s" : "\(whole / 3600)h\(whole % 3600 / 60)m"
    }
}
