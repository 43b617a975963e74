import ArgumentParser
import Flowrun
import Foundation

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete old run records and closed dead-letter items from the state store.",
        discussion: """
            Removes the run records that started more than --older-than ago (runs still `running` stay) and
            the dead-letter items closed (replayed, skipped, resolved) and last updated before then. Open and
            parked items, cursors and schedules stay. `flowrun serve --retention` does the same once a day.
            """)

    @OptionGroup var common: Runs.Common
    @Option(help: "Age of what is removed: a duration such as 30d, 12h or 1h30m.") var olderThan: String

    func run() throws {
        guard let age = Durations.parse(olderThan), age > 0 else {
            throw UsageError("--older-than takes a duration such as 30d or 12h, not '\(olderThan)'")
        }
        let report = try Housekeeping.prune(common.open(), before: Globals.systemClock() - age)
        if common.format == "json" {
            print(
                JSON.pretty([
                    "runs": .int(report.runs),
                    "deadLetters": .array(
                        report.deadLetters.map {
                            ["flow": .string($0.flow), "id": .string($0.id), "status": .string($0.status)]
                        }),
                ]))
            return
        }
        print(report.summary + " older than \(olderThan)")
        for d in report.deadLetters { print("  dead letter \(d.id)  \(d.flow)  \(d.status)") }
    }
}
