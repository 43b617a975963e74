import Logging

/// Where runs and components write log lines. Libraries accept a logger; the CLI picks the format.
public enum LogLevel: String, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error

    public static func < (a: LogLevel, b: LogLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The swift-log level of the same name.
    public var swiftLog: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        }
    }
}

/// The runtime's seam for log lines: flow, node and run travel as separate fields, so a logger can put
/// them in metadata. `SwiftLogRunLogger` sends them through swift-log.
public protocol RunLogger: Sendable {
    func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?)
    /// Whether lines of `level` go anywhere: callers skip building a message that would be dropped.
    func enabled(_ level: LogLevel) -> Bool
}

extension RunLogger {
    public func enabled(_ level: LogLevel) -> Bool { true }
}

/// Discards everything (tests, benchmarks).
public struct SilentLogger: RunLogger {
    public init() {}
    public func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {}
    public func enabled(_ level: LogLevel) -> Bool { false }
}

/// Run log lines through a swift-log `Logger`: the flow, node and run id go in the metadata (`flow`,
/// `node`, `run`) next to the logger's own (a replica's `node_id`, ...), so an application or a log
/// backend decides where lines go by choosing the logger's handler (flowrun's own text and JSON handlers
/// are `ConsoleLogHandler`, in Flowrun).
public struct SwiftLogRunLogger: RunLogger {
    public let logger: Logger

    public init(_ logger: Logger) { self.logger = logger }

    public func enabled(_ level: LogLevel) -> Bool { logger.logLevel <= level.swiftLog }

    public func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
        let level = level.swiftLog
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = ["flow": .string(flow)]
        if let node { metadata["node"] = .string(node) }
        if let run { metadata["run"] = .string(run) }
        logger.log(level: level, "\(message)", metadata: metadata)
    }
}
