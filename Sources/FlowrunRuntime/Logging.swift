/// Where runs and components write log lines. Libraries accept a logger; the CLI picks the format.
public enum LogLevel: String, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error

    public static func < (a: LogLevel, b: LogLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public protocol RunLogger: Sendable {
    func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?)
}

/// Discards everything (tests, benchmarks).
public struct SilentLogger: RunLogger {
    public init() {}
    public func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {}
}
