import Foundation
import Logging

/// flowrun's log lines as a swift-log handler: text for people or JSON lines for machines, on standard
/// error. `flow`, `node` and `run` metadata make the line's head (`flow/node [run]:`, or fields in JSON,
/// with the run id also as `correlation_id`); other metadata (`node_id`, ...) follows in key order.
public struct ConsoleLogHandler: LogHandler {
    public enum Format: String, Sendable { case text, json }

    public let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    /// Unix nanoseconds of a line (injected in tests).
    let clock: @Sendable () -> Int
    /// Receives each finished line, newline included (standard error unless injected).
    let write: @Sendable (String) -> Void

    public init(
        format: Format, clock: @escaping @Sendable () -> Int = Globals.systemClock,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.format = format
        self.clock = clock
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(line(event.level, "\(event.message)", event.metadata) + "\n")
    }

    /// One line, without its newline.
    func line(_ level: Logger.Level, _ message: String, _ explicit: Logger.Metadata?) -> String {
        var all = metadata
        if let explicit { all.merge(explicit) { _, new in new } }
        let flow = all.removeValue(forKey: "flow").map { "\($0)" }
        let node = all.removeValue(forKey: "node").map { "\($0)" }
        let run = all.removeValue(forKey: "run").map { "\($0)" }
        let rest = all.sorted { $0.key < $1.key }
        let time = Time.rfc3339(nanos: clock())
        switch format {
        case .json:
            var o: Value.Object = ["time": .string(time), "level": .string(level.rawValue)]
            if let flow { o["flow"] = .string(flow) }
            if let node { o["node"] = .string(node) }
            if let run {
                o["run"] = .string(run)
                o["correlation_id"] = .string(run)  // also sent as X-Correlation-ID by http-client nodes
            }
            for (key, value) in rest { o[key] = .string("\(value)") }
            o["msg"] = .string(message)
            return JSON.serialize(.object(o))
        case .text:
            let extra = rest.map { " \($0.key)=\($0.value)" }.joined()
            return
                "\(time) \(level.rawValue) \(flow ?? "")\(node.map { "/\($0)" } ?? "")\(run.map { " [\($0)]" } ?? "")"
                + "\(extra): \(message)"
        }
    }
}

/// The CLI's run logger: swift-log with a `ConsoleLogHandler` of the chosen format and level.
public struct ConsoleLogger: RunLogger {
    public typealias Format = ConsoleLogHandler.Format
    let base: SwiftLogRunLogger

    /// `metadata` goes on every line (`node_id` of a `serve` replica).
    public init(format: Format, minimum: LogLevel = .info, metadata: Logger.Metadata = [:]) {
        var logger = Logger(label: "flowrun") { _ in ConsoleLogHandler(format: format) }
        logger.logLevel = minimum.swiftLog
        for (key, value) in metadata { logger[metadataKey: key] = value }
        base = SwiftLogRunLogger(logger)
    }

    public func enabled(_ level: LogLevel) -> Bool { base.enabled(level) }

    public func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
        base.log(level, message, flow: flow, node: node, run: run)
    }
}
