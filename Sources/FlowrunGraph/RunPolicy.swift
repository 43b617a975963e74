import FlowrunExpression
import FlowrunValue

/// The `run:` policy of a flow, declared once: every setting with its shape, default, range and doc.
/// The checker validates a flow's `run:` against `settings` (shapes and ranges, E210 at the value), the
/// typed `Values` with defaults are read through the same table, and `flowrun docs generate` renders it
/// into `components/run-policy.md`.
public enum RunPolicy {
    /// What a trigger does when it fires while a run of the flow is going on.
    public enum Overlap: String, Sendable, CaseIterable { case skip, allow, queue }
    /// What happens to schedule slots missed while the service was down.
    public enum CatchUp: String, Sendable, CaseIterable { case skip, once }
    /// What a replica does with a run whose lease expired (its node died or froze).
    public enum OnAbandoned: String, Sendable, CaseIterable { case retry, mark }

    /// One `run:` setting.
    public struct Setting: Sendable {
        public enum Kind: Sendable {
            /// An integer from `min` to `max` (no upper bound when nil).
            case int(min: Int, max: Int?)
            /// A number greater than 0 and at most 1.
            case ratio
            /// `true` or `false`.
            case bool
            /// A duration with a unit, from `min` to `max` nanoseconds.
            case duration(min: Int, max: Int)
            case choice([String])
            /// A `<<...>>` template evaluated on the trigger message.
            case template
            /// A mapping of further settings.
            case group([Setting])
        }

        public let name: String
        public let kind: Kind
        /// The default as written in a flow file; nil when unset means "none".
        public let defaultValue: Value?
        public let doc: String
        /// Stores a literal value (already checked against the kind) into the typed values.
        let apply: @Sendable (inout Values, Value) -> Void

        init(
            _ name: String, _ kind: Kind, default defaultValue: Value? = nil, doc: String,
            apply: @escaping @Sendable (inout Values, Value) -> Void = { _, _ in }
        ) {
            self.name = name
            self.kind = kind
            self.defaultValue = defaultValue
            self.doc = doc
            self.apply = apply
        }

        /// An integer setting stored at `path` of the typed values.
        init(
            _ name: String, _ kind: Kind, default defaultValue: Value? = nil, doc: String,
            int path: WritableKeyPath<Values, Int> & Sendable
        ) {
            self.init(name, kind, default: defaultValue, doc: doc) { v, x in
                v[keyPath: path] = x.intValue ?? v[keyPath: path]
            }
        }

        /// The setting's shape, as the checker validates it.
        public var shape: Shape {
            switch kind {
            case .int: .int
            case .ratio: .number
            case .bool: .bool
            case .duration: .duration
            case .choice(let values): .enumeration(values)
            case .template: .string
            case .group(let fields):
                .object(fields.map { FlowrunExpression.Field($0.name, $0.shape, required: false, doc: $0.doc) })
            }
        }

        /// The accepted range in words ("0 to 10", "1s to 24h", "at least 1"); nil for choices and templates.
        public var range: String? {
            switch kind {
            case .int(let min, let max?): "\(min) to \(max)"
            case .int(let min, nil): "at least \(min)"
            case .ratio: "more than 0, at most 1"
            case .duration(let min, let max): "\(Durations.format(min)) to \(Durations.format(max))"
            case .choice(let values): values.joined(separator: ", ")
            case .bool, .template, .group: nil
            }
        }
    }

    static let second = 1_000_000_000

    /// Every `run:` setting. The only list: checks, defaults and docs are derived from it.
    public static let settings: [Setting] = [
        Setting(
            "timeout", .duration(min: second, max: 1440 * 60 * second), default: "60m",
            doc: "Fail the run as `timed_out` after this long."
        ) { v, x in v.timeoutNanos = duration(x) ?? v.timeoutNanos },
        Setting(
            "retries", .int(min: 0, max: 10), default: 3,
            doc: "Whole-run retries of a failed run (each a linked run).", int: \.retries
        ),
        Setting(
            "retryDelay", .duration(min: 0, max: 60 * 60 * second), default: "1s",
            doc: "Delay before the first retry; it doubles for each further retry."
        ) { v, x in
            v.retryDelayNanos = duration(x) ?? v.retryDelayNanos
        },
        Setting(
            "circuitBreaker",
            .group([
                Setting(
                    "minRecords", .int(min: 1, max: nil), default: 10,
                    doc: "Records a run must have attempted (written, compared or failed) before the breaker may trip.",
                    int: \.minRecords
                ),
                Setting(
                    "failureRatio", .ratio, default: 0.5,
                    doc: "Fail the run when more than this share of its records failed."
                ) { v, x in
                    v.failureRatio = x.doubleValue ?? v.failureRatio
                },
            ]), doc: "Stop a run whose records mostly fail."),
        Setting(
            "maxMessages", .int(min: 1, max: nil), default: 10_000_000,
            doc: "Message deliveries per run; a run past it fails (a loop that never ends).", int: \.maxMessages
        ),
        Setting(
            "cursorPolicy", .choice(["hold", "park"]), default: "hold",
            doc:
                "`hold`: checkpoints commit when the run completed without failures, and with failures up to just before the oldest unresolved one (by its dead letter's `version`); `park`: in full also when every failure was parked in the dead-letter queue."
        ) { v, x in v.parkFailures = x.stringValue == "park" },
        Setting(
            "retryParked", .bool, default: false,
            doc:
                "At the start of each run started by a trigger (not a replay, an input run or a dry run), deliver the flow's parked dead-letter items that failed in fewer runs than their `maxAttempts` to their `entry` again; a failure counts one more attempt, then they stay parked for an operator. Useful with `cursorPolicy: park` (under `hold` an item is parked only when its attempts are used up)."
        ) { v, x in v.retryParked = x == true },
        Setting(
            "overlap", .choice(Overlap.allCases.map(\.rawValue)), default: "skip",
            doc:
                "A trigger that fires during a run of the flow: `skip` it (counted), `queue` it (fires once when the run ends) or `allow` runs side by side (each run then holds a lease of its own). A slot skipped because a replica that died still held the flow fires once its run is abandoned."
        ) { v, x in v.overlap = x.stringValue.flatMap(Overlap.init(rawValue:)) ?? v.overlap },
        Setting(
            "catchUp", .choice(CatchUp.allCases.map(\.rawValue)), default: "skip",
            doc: "Schedule slots missed while the service was down: `skip` them, or run `once` at start."
        ) { v, x in
            v.catchUp = x.stringValue.flatMap(CatchUp.init(rawValue:)) ?? v.catchUp
        },
        Setting(
            "health",
            .group([
                Setting(
                    "degradedAfter", .int(min: 1, max: nil), default: 1,
                    doc: "Consecutive failed runs after which the flow is `degraded`.", int: \.health.degradedAfter
                ),
                Setting(
                    "failingAfter", .int(min: 1, max: nil), default: 3,
                    doc: "Consecutive failed runs after which the flow is `failing`.", int: \.health.failingAfter
                ),
                Setting(
                    "degradedFactor", .int(min: 1, max: nil), default: 2,
                    doc: "A degraded flow's schedule is stretched this many times.", int: \.health.degradedFactor
                ),
                Setting(
                    "failingFactor", .int(min: 1, max: nil), default: 10,
                    doc: "A failing flow's schedule is stretched this many times.", int: \.health.failingFactor
                ),
                Setting(
                    "disableAfter", .int(min: 1, max: nil),
                    doc:
                        "After this many consecutive failed runs the service disables the flow (`flowrun flows enable`)."
                ) { v, x in v.health.disableAfter = x.intValue },
            ]), doc: "Health-aware backoff of the schedule under `flowrun serve`."),
        Setting(
            "onAbandoned", .choice(OnAbandoned.allCases.map(\.rawValue)), default: "retry",
            doc:
                "A run whose lease expired (its replica died or froze) is marked `abandoned` by the replica that finds it; `retry` then starts a linked rescue run (for scheduled, retried and rescue runs; manual and webhook runs are only marked) that resumes from the last committed cursor, `mark` only marks it."
        ) { v, x in v.onAbandoned = x.stringValue.flatMap(OnAbandoned.init(rawValue:)) ?? v.onAbandoned },
        Setting(
            "lease",
            .group([
                Setting(
                    "ttl", .duration(min: second, max: 3600 * second), default: "30s",
                    doc: "A run's lease expires this long after its last heartbeat; then any replica may rescue it."
                ) { v, x in
                    v.leaseTTLNanos = duration(x) ?? v.leaseTTLNanos
                    v.leaseSet = true
                },
                Setting(
                    "renewEvery", .duration(min: second / 10, max: 1200 * second), default: "10s",
                    doc: "How often a running run renews its lease (keep it well under `ttl`)."
                ) { v, x in
                    v.leaseRenewNanos = duration(x) ?? v.leaseRenewNanos
                    v.leaseSet = true
                },
            ]),
            doc:
                "Run leases under `flowrun serve` (and every run that shares a store): the lease holds the flow's run lock and its fencing token (`run.fence`). `serve --lease-ttl/--lease-renewal` set them for flows without `run.lease`."
        ),
        Setting(
            "concurrencyKey", .template,
            doc: "A `<<...>>` template on the trigger message; runs with the same key do not run at once."),
    ]

    /// The shape of `run:` (every field optional).
    public static let schema = Shape.object(
        settings.map { FlowrunExpression.Field($0.name, $0.shape, required: false, doc: $0.doc) })

    static func duration(_ value: Value) -> Int? {
        if case .string(let text) = value { return Durations.parse(text) }
        return nil
    }

    /// Health-aware backoff (seed 003): consecutive failed runs make a flow `degraded` (its schedule
    /// stretched `degradedFactor` times) and then `failing` (`failingFactor` times); one successful run
    /// makes it `healthy` again. With `disableAfter`, the service disables a flow that failed that often.
    public struct Health: Sendable, Equatable {
        public enum State: String, Sendable { case healthy, degraded, failing, disabled }

        public var degradedAfter = 0
        public var failingAfter = 0
        public var degradedFactor = 0
        public var failingFactor = 0
        public var disableAfter: Int?

        /// The declared defaults.
        public init() { self = Values().health }

        /// A `run.health` mapping read through the declaration (unset or invalid fields keep their defaults).
        public init(_ value: Value) {
            var values = Values()
            RunPolicy.apply(
                value, to: &values, fields: RunPolicy.settings.first { $0.name == "health" }?.children ?? [])
            self = values.health
        }

        init(zero: Void) {}

        public func state(consecutiveFailures n: Int) -> State {
            n >= failingAfter ? .failing : n >= degradedAfter ? .degraded : .healthy
        }

        /// How many schedule slots one step spans in this state.
        public func factor(_ state: State) -> Int {
            switch state {
            case .healthy: 1
            case .degraded: degradedFactor
            case .failing, .disabled: failingFactor
            }
        }
    }

    /// The `run:` policy with defaults applied, read through `settings`.
    public struct Values: Sendable {
        /// Always set (default 60 minutes); optional so that callers can treat "no deadline" uniformly.
        public var timeoutNanos: Int?
        public var retries = 0
        public var retryDelayNanos = 0
        public var minRecords = 0
        public var failureRatio = 0.0
        public var maxMessages = 0
        /// `hold`: checkpoints commit when the run completed without failures, and with failures up to just
        /// before the oldest unresolved one. `park`: in full also when every failure of the run was parked in
        /// the dead-letter queue.
        public var parkFailures = false
        /// `run.retryParked`: parked dead-letter items with attempts left are retried at the start of runs.
        public var retryParked = false
        public var overlap = Overlap.skip
        public var catchUp = CatchUp.skip
        public var health = Health(zero: ())
        public var onAbandoned = OnAbandoned.retry
        public var leaseTTLNanos = 0
        public var leaseRenewNanos = 0
        /// Whether the flow sets `run.lease` itself (a `serve` option does not override it then).
        public var leaseSet = false
        /// `run.concurrencyKey` as written, and compiled (evaluated on the trigger message) by the checker.
        public var concurrencyKeyNode: YNode?
        public var concurrencyKey: ValueTemplate?

        /// The declared defaults.
        public init() {
            RunPolicy.applyDefaults(RunPolicy.settings, to: &self)
            leaseSet = false
        }

        /// The defaults overridden by the literal settings of a `run:` mapping. Values the checker rejects
        /// (out of range, wrong type) keep their defaults; the concurrency key is compiled only by the checker.
        public init(_ node: YNode?) {
            self.init()
            guard let node else { return }
            RunPolicy.apply(node, to: &self, fields: RunPolicy.settings)
            concurrencyKeyNode = node["concurrencyKey"]
        }
    }

    static func applyDefaults(_ fields: [Setting], to values: inout Values) {
        for f in fields {
            if case .group(let children) = f.kind { applyDefaults(children, to: &values) }
            if let d = f.defaultValue { f.apply(&values, d) }
        }
    }

    static func apply(_ node: YNode, to values: inout Values, fields: [Setting]) {
        guard let entries = node.entries else { return }
        for (k, v) in entries {
            guard let f = fields.first(where: { $0.name == k.string }) else { continue }
            if case .group(let children) = f.kind {
                apply(v, to: &values, fields: children)
            } else if let x = v.constant, problem(f, x) == nil {
                f.apply(&values, x)
            }
        }
    }

    static func apply(_ value: Value, to values: inout Values, fields: [Setting]) {
        guard case .object(let o) = value else { return }
        for (key, x) in o {
            guard let f = fields.first(where: { $0.name == key }) else { continue }
            if case .group(let children) = f.kind {
                apply(x, to: &values, fields: children)
            } else if problem(f, x) == nil {
                f.apply(&values, x)
            }
        }
    }

    /// Why a literal value of the right shape is not acceptable for `field`, or nil.
    static func problem(_ field: Setting, _ value: Value) -> String? {
        switch field.kind {
        case .int(let min, let max):
            guard let n = value.intValue else { return nil }
            if n < min || max.map({ n > $0 }) == true {
                return "must be \(max == nil ? "" : "from ")\(field.range ?? ""), not \(n)"
            }
        case .ratio:
            guard let r = value.doubleValue else { return nil }
            if !(r > 0 && r <= 1) { return "must be more than 0 and at most 1, not \(JSON.serialize(value))" }
        case .duration(let min, let max):
            guard case .string(let text) = value else { return "is a duration with a unit, like 30s or 5m" }
            guard let n = Durations.parse(text) else { return nil }  // reported by the shape check
            if n < min || n > max { return "must be from \(field.range ?? ""), not \(text)" }
        case .bool, .choice, .template, .group:
            return nil
        }
        return nil
    }

    /// Range problems and templates where a literal belongs, for a `run:` mapping whose shapes were
    /// checked against `schema`. Each is an E210 at the value.
    public static func rangeDiagnostics(_ node: YNode, fields: [Setting] = settings, path: String = "run")
        -> [Diagnostic]
    {
        guard let entries = node.entries else { return [] }
        var out: [Diagnostic] = []
        for (k, v) in entries {
            guard let f = fields.first(where: { $0.name == k.string }) else { continue }
            let what = "\(path).\(f.name)"
            switch f.kind {
            case .template: continue
            case .group(let children): out += rangeDiagnostics(v, fields: children, path: what)
            default:
                if v.hasTemplates {
                    out.append(
                        .error(
                            .invalidValue, "\(what) is a literal value, not a template", at: v.span,
                            help: "only run.concurrencyKey is evaluated; write the value itself"))
                } else if let x = v.constant, let problem = problem(f, x) {
                    out.append(.error(.invalidValue, "\(what) \(problem)", at: v.span, help: "default: \(def(f))"))
                }
            }
        }
        return out
    }

    static func def(_ f: Setting) -> String {
        guard let d = f.defaultValue else { return "none" }
        return d.stringValue ?? JSON.serialize(d)
    }

    /// The reference page: every setting with its type, default, range and doc.
    public static func markdown() -> String {
        var out = """
            # The `run:` policy

            Settings of a whole flow, written under `run:` at the top of the flow file. Every one is
            optional; `flowrun check` reports a value outside its range as E210 at the value.

            ```yaml
            run:
              timeout: 60m
              retries: 3
              retryDelay: 1s
              circuitBreaker: {minRecords: 10, failureRatio: 0.5}
              overlap: skip
              health: {degradedAfter: 1, failingAfter: 3, degradedFactor: 2, failingFactor: 10}
            ```

            | setting | type | default | range | description |
            |---|---|---|---|---|

            """
        func rows(_ fields: [Setting], prefix: String) {
            for f in fields {
                if case .group(let children) = f.kind {
                    out += "| `\(prefix)\(f.name)` | mapping | | | \(f.doc) |\n"
                    rows(children, prefix: "\(prefix)\(f.name).")
                    continue
                }
                let type =
                    switch f.kind {
                    case .int: "int"
                    case .ratio: "number"
                    case .bool: "bool"
                    case .duration: "duration"
                    case .choice: "string"
                    case .template: "template"
                    case .group: "mapping"
                    }
                let d = f.defaultValue == nil ? "none" : "`\(def(f))`"
                let doc = f.doc.replacingOccurrences(of: "|", with: "\\|")
                out += "| `\(prefix)\(f.name)` | \(type) | \(d) | \(f.range ?? "") | \(doc) |\n"
            }
        }
        rows(settings, prefix: "")
        return out
    }
}

extension RunPolicy.Setting {
    var children: [RunPolicy.Setting] {
        if case .group(let c) = kind { return c }
        return []
    }
}
