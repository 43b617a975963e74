import Foundation

/// Final run records kept on disk while the state store is unreachable (the CLI, whose process ends with
/// the run): one file per run in `directory`, the record's stored columns as JSON, written atomically.
/// The next start of a flow with the same spool writes them to the store before anything else.
public final class FileSpool: RecordSpool, @unchecked Sendable {
    public let directory: String
    private let lock = NSLock()

    public init(directory: String) { self.directory = directory }

    /// `.flowrun/pending-runs` beside the flow file (where the default SQLite store lives too).
    public static func beside(flowFile: String) -> FileSpool {
        FileSpool(
            directory: URL(fileURLWithPath: flowFile).deletingLastPathComponent().path + "/.flowrun/pending-runs")
    }

    /// Run ids are `r<time>-<hex>`; anything else is reduced to letters, digits and `-`.
    func path(_ id: String) -> String {
        let safe = String(id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "-" })
        return directory + "/" + safe + ".json"
    }

    public func keep(_ record: RunRecord) {
        lock.withLock {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let text = JSON.serialize(.array(record.storageValues))
                try Data(text.utf8).write(to: URL(fileURLWithPath: path(record.id)), options: .atomic)
            } catch {
                FileHandle.standardError.write(
                    Data("flowrun: could not keep run record \(record.id) in \(directory): \(error)\n".utf8))
            }
        }
    }

    /// The kept records, oldest start first; unreadable files are skipped (and left for a person to see).
    public func pending() -> [RunRecord] {
        lock.withLock {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return names.filter { $0.hasSuffix(".json") }.compactMap { name -> RunRecord? in
                guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                    case .array(let row) = (try? JSON.parse(String(decoding: data, as: UTF8.self))) ?? .null,
                    row.count >= 18, row[0].stringValue != nil
                else { return nil }
                return RunRecord.stored(row)
            }.sorted { $0.startedAt < $1.startedAt }
        }
    }

    public func remove(id: String) {
        lock.withLock { _ = try? FileManager.default.removeItem(atPath: path(id)) }
    }
}
