import FlowrunHTTP
import Foundation

/// A `*.test.yaml` file: cases that run a flow offline (canned HTTP, a fresh SQLite database, a fixed
/// clock) and assert on what the run did. `FlowTestFile.load` reads it with positions, so every
/// problem and every failed assertion points at a line of the file.
public struct FlowTestFile: Sendable {
    public let source: SourceFile
    /// The flow under test: `flow:` relative to the test file, else the test file's name without `.test`.
    public let flowPath: String
    public let cases: [FlowTestCase]

    static let topKeys = ["flow", "cases"]
}

/// One case: the run's inputs and what to expect of it.
public struct FlowTestCase: Sendable {
    public var name: String
    public var span: Span
    /// `now()` for the whole run (the clock moves only when the runtime would sleep).
    public var clock = Time.parse("2024-01-01T00:00:00Z")!
    public var vars: [String: Value] = [:]
    public var secrets: [String: String] = [:]
    /// The whole environment the flow sees: the process's own is not inherited.
    public var env = Value.Object()
    /// State keys stored before the run (a cursor from an earlier run).
    public var state: [(key: String, value: Value)] = []
    /// SQL run on the fresh database before the flow starts.
    public var seed: String?
    public var http: [CannedTransport.Fixture] = []
    /// The trigger to fire; nil: the flow's first trigger (or `input` to `entry`).
    public var trigger: String?
    public var input: Value?
    public var entry: String?
    public var expectations: [FlowTestExpectation] = []

    static let keys = [
        "name", "clock", "vars", "secrets", "env", "state", "database", "http", "trigger", "input", "entry", "expect",
    ]
}

/// One assertion of a case, with the place in the test file it was written.
public struct FlowTestExpectation: Sendable {
    public enum Kind: Sendable {
        /// A field of the last run record (`status`, `counters`, `errors`, `reason`, ...).
        case run(field: String, expected: Value)
        /// The rows a query returns from the case's database.
        case rows(query: String, expected: Value)
        /// The messages emitted on `node.port`, in order, or only their count.
        case messages(port: String, expected: Value, countOnly: Bool)
        /// A state key after the run (committed cursors; null when unset).
        case state(key: String, expected: Value)
        /// The flow's dead-letter items after the run.
        case deadLetters(expected: Value)
    }

    public let kind: Kind
    public let span: Span

    /// What the assertion is about, as the report names it.
    public var label: String {
        switch kind {
        case .run(let field, _): "run.\(field)"
        case .rows(let query, _): "rows of `\(query.split(separator: "\n").first.map(String.init) ?? query)`"
        case .messages(let port, _, let countOnly): countOnly ? "count of messages on \(port)" : "messages on \(port)"
        case .state(let key, _): "state \(key)"
        case .deadLetters: "dead letters"
        }
    }
}

extension FlowTestFile {
    public struct LoadError: Error, CustomStringConvertible {
        public let diagnostics: [Diagnostic]
        public var description: String { Diagnostic.renderAll(diagnostics, separator: "\n\n") }
    }

    /// The test file at `path`, or every problem in it.
    public static func load(_ path: String) throws(LoadError) -> FlowTestFile {
        let bytes: [UInt8]
        do { bytes = try FlowFiles.read(path) } catch {
            throw LoadError(diagnostics: [.error(.structure, error.description, at: nil)])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LoadError(
                diagnostics: [.error(.invalidUTF8, "\(path) is not UTF-8 text", at: nil)])
        }
        return try parse(path: path, text: text)
    }

    /// Reads a test file's text; `path` names it in diagnostics and anchors `flow:`.
    public static func parse(path: String, text: String) throws(LoadError) -> FlowTestFile {
        let source = SourceFile(path: path, text: text)
        let root: YNode
        switch YAMLLoader.load(source) {
        case .success(let node): root = node
        case .failure(let problems): throw LoadError(diagnostics: problems.items)
        }
        var decoder = FlowTestDecoder(source: source)
        let file = decoder.file(root)
        if !decoder.diagnostics.isEmpty { throw LoadError(diagnostics: decoder.diagnostics) }
        return file
    }

    /// Whether `path` names a test file (`*.test.yaml`).
    public static func isTestFile(_ path: String) -> Bool {
        path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml")
    }

    /// Every problem of the test file at `path` (none when it loads).
    public static func problems(_ path: String) -> [Diagnostic] {
        do throws(LoadError) {
            _ = try load(path)
            return []
        } catch {
            return error.diagnostics
        }
    }

    /// `flows/**/*.test.yaml` under `directory`, sorted.
    public static func discover(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let item = walker.nextObject() as? String {
            if isTestFile(item) {
                found.append(directory.hasSuffix("/") ? directory + item : directory + "/" + item)
            }
        }
        return found.sorted()
    }
}
