import Foundation
import FlowrunRuntime
import FlowrunExpression
import FlowrunGraph
import FlowrunValue

/// Emits its `payload` every `interval` or on a `cron` schedule; each emission starts a new run.
public enum Ticker {
    public static let descriptor = ComponentDescriptor(
        name: "ticker",
        summary: "Emits a payload on an interval or a cron schedule; each emission starts a run.",
        doc: """
            Set either `interval` (a duration) or `cron` (5 fields: minute hour day-of-month month day-of-week,
            evaluated in `timezone`). Interval slots lie on a grid anchored at the Unix epoch (`1s` fires on whole
            seconds, `1h` on the hour), so `serve` replicas sharing a store agree on each slot and fire it once.
            `emitOnStart` emits once as soon as the flow starts (under `serve` replicas sharing a store: once per
            start of the cluster, on one replica; a replica joining a running cluster does not). `maxEmissions`
            stops after that many emissions (0 = unlimited). With `autoStart: false` the ticker waits for a
            `{start: true}` message on `control`; `{start: false}` pauses it.
            """,
        isTrigger: true,
        settings: [
            SettingDescriptor("interval", .duration, doc: "Time between emissions.", example: "1h"),
            SettingDescriptor(
                "cron", .string, doc: "5-field cron expression, instead of `interval`.", example: "'0 * * * *'"),
            SettingDescriptor(
                "timezone", .string, default: "UTC", doc: "IANA time zone for `cron`.", example: "Europe/Berlin"),
            SettingDescriptor(
                "emitOnStart", .bool, default: false, doc: "Emit once when the flow starts.", example: "true"),
            SettingDescriptor(
                "maxEmissions", .int, default: 0, doc: "Stop after this many emissions; 0 = unlimited.", example: "1"),
            SettingDescriptor(
                "autoStart", .bool, default: true, doc: "Start ticking without a `control` message.", example: "false"),
            SettingDescriptor(
                "payload", .any, default: [:], doc: "The message emitted on `out`.", example: "{syncType: full}"),
            SettingDescriptor(
                "catchUp", .enumeration(["skip", "once"]), default: "skip",
                doc: "After downtime: skip missed slots, or run once for them.", example: "once"),
        ],
        ports: [
            .output("out", .any, doc: "The `payload`, once per emission."),
            .input(
                "control", .object([Field("start", .bool, required: false), .contextField]),
                doc: "`{start: true}` starts the ticker, `{start: false}` stops it."),
        ],
        example: """
            scheduler:
              component: ticker
              settings: {interval: 1h, emitOnStart: true, payload: {syncType: full}}
            """,
        dryRun:
            "As in a normal run: it only starts runs; what a dry run skips is the writes of the I/O nodes downstream.",
        validate: { settings in
            var problems: [(setting: String, message: String)] = []
            switch (settings.has("interval"), settings.has("cron")) {
            case (false, false): problems.append(("interval", "a ticker needs `interval` or `cron`"))
            case (true, true): problems.append(("cron", "set `interval` or `cron`, not both"))
            default: break
            }
            if case .string(let cron) = settings["cron"] {
                do throws(CronSchedule.ParseError) { _ = try CronSchedule(cron) } catch {
                    problems.append(("cron", error.description))
                }
            }
            if case .string(let zone) = settings["timezone"], TimeZone(identifier: zone) == nil {
                problems.append(("timezone", "unknown time zone '\(zone)' (use an IANA name such as Europe/Berlin)"))
            }
            if case .string(let text) = settings["interval"], let n = Durations.parse(text), n <= 0 {
                problems.append(("interval", "the interval must be positive"))
            }
            return problems
        },
        transfer: { t in
            ["out": t.settingShapes["payload"] ?? t.settings["payload"].map { Shape(of: $0) } ?? .anyObject]
        }
    )
}

/// When a ticker fires: a pure schedule the scheduler asks for the next firing time.
public struct TickerSchedule: Sendable {
    public enum Kind: Sendable {
        case interval(Int)
        case cron(CronSchedule, TimeZone)
    }

    public let kind: Kind
    public let emitOnStart: Bool
    /// nil = unlimited.
    public let maxEmissions: Int?

    public init(kind: Kind, emitOnStart: Bool = false, maxEmissions: Int? = nil) {
        self.kind = kind
        self.emitOnStart = emitOnStart
        self.maxEmissions = maxEmissions
    }

    public init?(_ node: CheckedNode) {
        let settings = node.settings
        if case .string(let text) = settings["interval"]?.constantValue ?? .null, let n = Durations.parse(text), n > 0 {
            kind = .interval(n)
        } else if case .string(let text) = settings["cron"]?.constantValue ?? .null, let cron = try? CronSchedule(text)
        {
            let zone = settings["timezone"]?.constantValue?.stringValue.flatMap { TimeZone(identifier: $0) }
            kind = .cron(cron, zone ?? TimeZone(identifier: "UTC")!)
        } else {
            return nil
        }
        emitOnStart = settings["emitOnStart"]?.constantValue?.isTruthy ?? false
        let max = settings["maxEmissions"]?.constantValue?.intValue ?? 0
        maxEmissions = max > 0 ? max : nil
    }

    /// The first firing when the flow starts at `now`.
    public func first(now: Int) -> Int? { emitOnStart ? now : next(after: now) }

    /// The firing after the one at `previous`; nil when there is none (an interval of centuries that
    /// would pass the end of int nanoseconds, in 2262). Interval slots lie on a grid anchored at the Unix
    /// epoch (`every 1s` fires on whole seconds, `every 1h` on the hour), so replicas that start at
    /// different instants agree on every slot time; cron slots are exact times already.
    public func next(after previous: Int) -> Int? {
        switch kind {
        case .interval(let n): return Self.gridPoint(after: previous, interval: n)
        case .cron(let cron, let zone): return cron.next(after: previous, in: zone)
        }
    }

    /// The first multiple of `interval` strictly after `time` (floor division, so times before the epoch
    /// step the same way).
    public static func gridPoint(after time: Int, interval: Int) -> Int? {
        let (q, r) = time.quotientAndRemainder(dividingBy: interval)
        let (point, overflow) = (r < 0 ? q : q + 1).multipliedReportingOverflow(by: interval)
        return overflow ? nil : point
    }
}

extension Ticker {
    final class Instance: TriggerComponent {
        private let lock = NSLock()
        private var running: Bool
        var isActive: Bool { lock.withLock { running } }

        init(_ node: CheckedNode) {
            running = node.settings["autoStart"]?.constantValue?.isTruthy ?? true
        }

        func fire(_ context: inout NodeContext) throws(NodeError) {
            context.emit("out", context.setting("payload"))
        }

        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            if case .bool(let start) = message["start"] { lock.withLock { running = start } }
        }
    }

    public static let factory: ComponentFactory = { node in Instance(node) }
}
