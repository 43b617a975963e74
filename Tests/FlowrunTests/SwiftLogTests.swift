import Foundation
import FlowrunTesting
import Logging
import Testing

@testable import Flowrun

/// Run logs go through swift-log: flowrun's text and JSON lines are `ConsoleLogHandler`s, and any other
/// handler (an application's, a log backend's) receives flow, node and run as metadata.
struct SwiftLogTests {
    final class Lines: @unchecked Sendable {
        var lines: [String] = []
        var messages: [(Logger.Level, String, Logger.Metadata)] = []
    }

    /// 2026-11-22T15:00:00.123Z
    static let noon: @Sendable () -> Int = { 1_795_359_600_123_000_000 }

    static func console(_ format: ConsoleLogHandler.Format, _ lines: Lines, metadata: Logger.Metadata = [:])
        -> SwiftLogRunLogger
    {
        var logger = Logger(label: "test") { _ in
            ConsoleLogHandler(format: format, clock: noon, write: { lines.lines.append($0) })
        }
        for (k, v) in metadata { logger[metadataKey: k] = v }
        return SwiftLogRunLogger(logger)
    }

    /// The lines the CLI printed before swift-log, byte for byte.
    @Test func textAndJSONLinesKeepTheirFormat() {
        let lines = Lines()
        let text = Self.console(.text, lines)
        text.log(.info, "fetched 3 pages", flow: "user-sync", node: "fetch", run: "rmwrw-00ff")
        text.log(.warning, "retrying in 1s", flow: "user-sync", node: nil, run: "rmwrw-00ff")
        text.log(.error, "no run", flow: "user-sync", node: nil, run: nil)
        let json = Self.console(.json, lines)
        json.log(.info, "fetched \"3\" pages", flow: "user-sync", node: "fetch", run: "rmwrw-00ff")
        json.log(.debug, "dropped: below the level", flow: "user-sync", node: nil, run: nil)
        #expect(
            lines.lines == [
                "2026-11-22T15:00:00.123Z info user-sync/fetch [rmwrw-00ff]: fetched 3 pages\n",
                "2026-11-22T15:00:00.123Z warning user-sync [rmwrw-00ff]: retrying in 1s\n",
                "2026-11-22T15:00:00.123Z error user-sync: no run\n",
                #"{"time":"2026-11-22T15:00:00.123Z","level":"info","flow":"user-sync","node":"fetch","run":"rmwrw-00ff","correlation_id":"rmwrw-00ff","msg":"fetched \"3\" pages"}"#
                    + "\n",
            ])
    }

    @Test func aReplicasNodeIDRidesOnEveryLine() {
        let lines = Lines()
        Self.console(.json, lines, metadata: ["node_id": "h2-7f3a"])
            .log(.info, "slot claimed", flow: "f", node: "tick", run: "r1")
        Self.console(.text, lines, metadata: ["node_id": "h2-7f3a"])
            .log(.info, "slot claimed", flow: "f", node: "tick", run: "r1")
        #expect(
            lines.lines == [
                #"{"time":"2026-11-22T15:00:00.123Z","level":"info","flow":"f","node":"tick","run":"r1","correlation_id":"r1","node_id":"h2-7f3a","msg":"slot claimed"}"#
                    + "\n",
                "2026-11-22T15:00:00.123Z info f/tick [r1] node_id=h2-7f3a: slot claimed\n",
            ])
    }

    /// An application's own handler sees a run's log lines with flow, node and run in the metadata.
    struct Recording: LogHandler {
        let lines: Lines
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.messages.append((event.level, "\(event.message)", event.metadata ?? [:])) }
    }

    @Test func anApplicationsHandlerReceivesRunLinesWithMetadata() throws {
        let lines = Lines()
        let h = try FlowHarness(
            """
            flow: logs
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {n: 1}}}
              report: {component: log, settings: {message: done}}
              chatter: {component: log, settings: {level: debug}}
            edges:
              - {from: start.out, to: report.in}
              - {from: start.out, to: chatter.in}
            """)
        let flow = h.flow
        var options = FlowRuntime.Options()
        options.logger = SwiftLogRunLogger(Logger(label: "app") { _ in Recording(lines: lines) })
        let runtime = try FlowRuntime(flow: flow, factories: .standard, store: MemoryStore(), options: options)
        let record = try #require(try runtime.run(.trigger("start"), trigger: .manual).last)
        #expect(lines.messages.count == 1)
        let (level, message, metadata) = try #require(lines.messages.first)
        #expect(level == .info)
        #expect(message == #"done {"n":1}"#)
        #expect(metadata["flow"] == "logs")
        #expect(metadata["node"] == "report")
        #expect(metadata["run"] == .string(record.id))
    }

    /// A level that is off costs no message: the log node does not even serialize its input.
    @Test func aLevelThatIsOffBuildsNoMessage() throws {
        final class Counting: RunLogger, @unchecked Sendable {
            var asked: [LogLevel] = []
            var logged = 0
            func enabled(_ level: LogLevel) -> Bool {
                asked.append(level)
                return level >= .warning
            }
            func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) { logged += 1 }
        }
        let h = try FlowHarness(
            """
            flow: quiet
            nodes:
              start: {component: ticker, settings: {interval: 1h, payload: {items: [1, 2, 3]}}}
              each: {component: iterator}
              chatter: {component: log, settings: {level: debug, format: json}}
            edges:
              - {from: start.out, to: each.in, data: {array: <<$.items>>}}
              - {from: each.item, to: chatter.in}
            """)
        let counting = Counting()
        var options = FlowRuntime.Options()
        options.logger = counting
        let runtime = try FlowRuntime(flow: h.flow, factories: .standard, store: MemoryStore(), options: options)
        _ = try runtime.run(.trigger("start"), trigger: .manual)
        #expect(counting.asked == [.debug, .debug, .debug])
        #expect(counting.logged == 0)
    }
}
