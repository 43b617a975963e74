import FlowrunHTTP
import Foundation

/// Reads a test file's YAML into a `FlowTestFile`, collecting every problem (with its span) on the way.
struct FlowTestDecoder {
    let source: SourceFile
    var diagnostics: [Diagnostic] = []

    init(source: SourceFile) { self.source = source }

    static let expectKeys = ["run", "sql", "messages", "state", "deadLetters"]
    static let fixtureKeys = ["method", "path", "query", "responses"] + responseKeys
    static let responseKeys = ["status", "headers", "json", "body", "delay"]
    /// Fields of a run record a test may assert on: those of `RunRecord.json`.
    static let runFields = Array(
        (RunRecord(id: "", flow: "", trigger: .manual, startedAt: 0).json.objectValue ?? [:]).keys)

    mutating func error(_ code: DiagnosticCode, _ message: String, _ span: Span, help: String? = nil) {
        diagnostics.append(.error(code, message, at: span, help: help))
    }

    /// Unknown keys of a mapping are reported with a did-you-mean.
    mutating func mapping(_ node: YNode, _ what: String, keys: [String]) -> [(key: YNode, value: YNode)]? {
        guard let entries = node.entries else {
            error(.structure, "\(what) is a mapping, not \(node.kindName)", node.span)
            return nil
        }
        for (k, _) in entries where !keys.contains(k.string ?? "") {
            error(
                .unknownKey, "unknown key '\(k.string ?? "")' in \(what)", k.span,
                help: didYouMean(k.string ?? "", keys) ?? "the keys are \(keys.joined(separator: ", "))")
        }
        return entries
    }

    mutating func value(_ node: YNode) -> Value? {
        guard let v = node.constant else {
            error(.invalidValue, "test files hold data: `<<...>>` templates are not evaluated here", node.span)
            return nil
        }
        return v
    }

    mutating func string(_ node: YNode, _ what: String) -> String? {
        switch node.constant {
        case .string(let s)?: return s
        case .int, .double, .bool:
            return node.constant?.interpolated
        default:
            error(.structure, "\(what) is a string, not \(node.kindName)", node.span)
            return nil
        }
    }

    mutating func file(_ root: YNode) -> FlowTestFile {
        let defaultFlow = Self.defaultFlowPath(source.path)
        guard let entries = mapping(root, "a test file", keys: FlowTestFile.topKeys) else {
            return FlowTestFile(source: source, flowPath: defaultFlow, cases: [])
        }
        var flowPath = defaultFlow
        if let f = root["flow"], let text = string(f, "flow") {
            flowPath = text.hasPrefix("/") ? text : Self.directory(of: source.path) + text
        }
        var cases: [FlowTestCase] = []
        if let list = root["cases"] {
            if let items = list.items, !items.isEmpty {
                for item in items { if let c = testCase(item) { cases.append(c) } }
            } else {
                error(.structure, "cases is a non-empty list of cases", list.span)
            }
        } else {
            error(.missingKey, "the test file has no `cases:`", entries.first?.key.span ?? root.span)
        }
        var names: Set<String> = []
        for c in cases where !names.insert(c.name).inserted {
            error(.duplicateKey, "two cases are named '\(c.name)'", c.span)
        }
        return FlowTestFile(source: source, flowPath: flowPath, cases: cases)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }

    /// `x.test.yaml` tests `x.yaml`.
    static func defaultFlowPath(_ path: String) -> String {
        for suffix in [".test.yaml", ".test.yml"] where path.hasSuffix(suffix) {
            return String(path.dropLast(suffix.count)) + ".yaml"
        }
        return path
    }

    mutating func testCase(_ node: YNode) -> FlowTestCase? {
        guard let entries = mapping(node, "a case", keys: FlowTestCase.keys) else { return nil }
        guard let nameNode = node["name"], let name = string(nameNode, "name") else {
            if node["name"] == nil { error(.missingKey, "a case needs a `name:`", node.span) }
            return nil
        }
        var c = FlowTestCase(name: name, span: nameNode.span)
        for (k, v) in entries {
            switch k.string ?? "" {
            case "clock":
                guard let text = string(v, "clock"), let nanos = Time.parse(text) else {
                    error(.invalidValue, "clock is an RFC 3339 time such as 2024-06-01T12:00:00Z", v.span)
                    continue
                }
                c.clock = nanos
            case "vars":
                for (vk, vv) in mapping(v, "vars", keys: v.entries?.compactMap(\.key.string) ?? []) ?? [] {
                    if let key = vk.string, let value = value(vv) { c.vars[key] = value }
                }
            case "secrets":
                for (sk, sv) in mapping(v, "secrets", keys: v.entries?.compactMap(\.key.string) ?? []) ?? [] {
                    if let key = sk.string, let text = string(sv, "a secret") { c.secrets[key] = text }
                }
            case "env":
                for (ek, ev) in mapping(v, "env", keys: v.entries?.compactMap(\.key.string) ?? []) ?? [] {
                    if let key = ek.string, let text = string(ev, "an environment variable") {
                        c.env[key] = .string(text)
                    }
                }
            case "state":
                for (sk, sv) in mapping(v, "state", keys: v.entries?.compactMap(\.key.string) ?? []) ?? [] {
                    if let key = sk.string, let value = value(sv) { c.state.append((key, value)) }
                }
            case "database":
                if let m = mapping(v, "database", keys: ["seed"]),
                    let seed = m.first(where: { $0.key.string == "seed" })
                {
                    c.seed = string(seed.value, "seed")
                }
            case "http":
                guard let items = v.items else {
                    error(.structure, "http is a list of fixtures {method, path, query, status, json, ...}", v.span)
                    continue
                }
                for item in items { if let f = fixture(item) { c.http.append(f) } }
            case "trigger": c.trigger = string(v, "trigger")
            case "input": c.input = value(v)
            case "entry": c.entry = string(v, "entry")
            case "expect": c.expectations = expectations(v)
            default: break
            }
        }
        if c.trigger != nil, c.input != nil {
            error(
                .invalidValue, "a case fires a `trigger` or delivers an `input`, not both", node.span,
                help: "with `input`, name the node with `entry`")
        }
        if let entry = node["entry"], c.input == nil {
            error(.missingKey, "`entry` names where `input` goes: the case has no `input`", entry.span)
        }
        if c.expectations.isEmpty, node["expect"] == nil {
            error(.missingKey, "case '\(name)' has no `expect:`", nameNode.span)
        }
        return c
    }

    mutating func fixture(_ node: YNode) -> CannedTransport.Fixture? {
        guard let entries = mapping(node, "an http fixture", keys: Self.fixtureKeys) else { return nil }
        guard let pathNode = node["path"], let path = string(pathNode, "path") else {
            if node["path"] == nil { error(.missingKey, "an http fixture needs a `path:` such as /users", node.span) }
            return nil
        }
        var query: [String: String] = [:]
        if let q = node["query"] {
            for (qk, qv) in mapping(q, "query", keys: q.entries?.compactMap(\.key.string) ?? []) ?? [] {
                if let key = qk.string, let text = string(qv, "a query value") { query[key] = text }
            }
        }
        var responses: [CannedTransport.Response] = []
        if let list = node["responses"] {
            if entries.contains(where: { Self.responseKeys.contains($0.key.string ?? "") }) {
                error(.structure, "a fixture has `responses:` or one response's keys, not both", list.span)
            }
            guard let items = list.items, !items.isEmpty else {
                error(.structure, "responses is a non-empty list of {status, headers, json | body, delay}", list.span)
                return nil
            }
            for item in items {
                guard let m = mapping(item, "a response", keys: Self.responseKeys) else { continue }
                if let r = response(item, m) { responses.append(r) }
            }
        } else if let r = response(node, entries) {
            responses.append(r)
        }
        guard !responses.isEmpty else { return nil }
        let method = node["method"].flatMap { string($0, "method") } ?? "GET"
        return CannedTransport.Fixture(method: method, path: path, query: query, responses: responses)
    }

    mutating func response(_ node: YNode, _ entries: [(key: YNode, value: YNode)]) -> CannedTransport.Response? {
        var r = CannedTransport.Response()
        if let s = node["status"] {
            guard case .int(let status)? = s.constant, (100...599).contains(status) else {
                error(.invalidValue, "status is an HTTP status from 100 to 599", s.span)
                return nil
            }
            r.status = status
        }
        if let h = node["headers"] {
            for (hk, hv) in mapping(h, "headers", keys: h.entries?.compactMap(\.key.string) ?? []) ?? [] {
                if let key = hk.string, let text = string(hv, "a header value") {
                    r.headers.append((key.lowercased(), text))
                }
            }
        }
        if let j = node["json"], let body = value(j) {
            if node["body"] != nil { error(.structure, "a response has `json:` or `body:`, not both", j.span) }
            r.body = Array(JSON.serialize(body).utf8)
            if !r.headers.contains(where: { $0.0 == "content-type" }) {
                r.headers.append(("content-type", "application/json"))
            }
        } else if let b = node["body"], let text = string(b, "body") {
            r.body = Array(text.utf8)
        }
        if let d = node["delay"] {
            guard let text = string(d, "delay"), let nanos = Durations.parse(text) else {
                error(.invalidValue, "delay is a duration such as 50ms", d.span)
                return nil
            }
            r.delayNanos = nanos
        }
        return r
    }

    mutating func expectations(_ node: YNode) -> [FlowTestExpectation] {
        guard let entries = mapping(node, "expect", keys: Self.expectKeys) else { return [] }
        var out: [FlowTestExpectation] = []
        for (k, v) in entries {
            switch k.string ?? "" {
            case "run":
                for (fk, fv) in mapping(v, "expect.run", keys: Self.runFields) ?? [] {
                    if let field = fk.string, let expected = value(fv) {
                        out.append(FlowTestExpectation(kind: .run(field: field, expected: expected), span: fk.span))
                    }
                }
            case "sql":
                guard let items = v.items else {
                    error(.structure, "sql is a list of {query, rows}", v.span)
                    continue
                }
                for item in items {
                    guard mapping(item, "an sql assertion", keys: ["query", "rows"]) != nil else { continue }
                    guard let q = item["query"], let query = string(q, "query"), let r = item["rows"] else {
                        error(.missingKey, "an sql assertion needs `query:` and `rows:`", item.span)
                        continue
                    }
                    guard r.items != nil, let rows = value(r) else {
                        error(.structure, "rows is a list of rows (objects keyed by column)", r.span)
                        continue
                    }
                    out.append(FlowTestExpectation(kind: .rows(query: query, expected: rows), span: q.span))
                }
            case "messages":
                for (pk, pv) in mapping(v, "expect.messages", keys: v.entries?.compactMap(\.key.string) ?? []) ?? [] {
                    guard let port = pk.string, port.split(separator: ".").count == 2 else {
                        error(.endpoint, "messages are keyed by node.port", pk.span)
                        continue
                    }
                    if let m = pv.entries {
                        guard m.count == 1, m[0].key.string == "count", case .int(let n)? = m[0].value.constant else {
                            error(.structure, "messages on a port are a list of messages, or {count: N}", pv.span)
                            continue
                        }
                        out.append(
                            FlowTestExpectation(
                                kind: .messages(port: port, expected: .int(n), countOnly: true), span: pk.span))
                    } else if pv.items != nil, let list = value(pv) {
                        out.append(
                            FlowTestExpectation(
                                kind: .messages(port: port, expected: list, countOnly: false), span: pk.span))
                    } else {
                        error(.structure, "messages on a port are a list of messages, or {count: N}", pv.span)
                    }
                }
            case "state":
                for (sk, sv) in mapping(v, "expect.state", keys: v.entries?.compactMap(\.key.string) ?? []) ?? [] {
                    if let key = sk.string, let expected = value(sv) {
                        out.append(FlowTestExpectation(kind: .state(key: key, expected: expected), span: sk.span))
                    }
                }
            case "deadLetters":
                guard v.items != nil, let expected = value(v) else {
                    error(.structure, "deadLetters is a list of items ({key, status, attempts, ...})", v.span)
                    continue
                }
                out.append(FlowTestExpectation(kind: .deadLetters(expected: expected), span: k.span))
            default: break
            }
        }
        return out
    }
}
