import Flowrun
import Foundation
import Testing

/// `flowrun test`: the real binary on test files written to a temporary directory, beside a small flow
/// that uses every substituted part (http-client, database, state, dead-letter).
@Suite struct FlowTestCommandTests {
    static let flow = """
        flow: items
        nodes:
          start:
            component: ticker
            settings: {interval: 1h, emitOnStart: true}
          get:
            component: http-client
            settings: {baseUrl: 'http://api.invalid', retryCount: 0}
          save:
            component: database
            settings: {driver: postgres, url: 'postgres://nowhere.invalid/db'}
          cursor:
            component: state
            settings: {key: since}
          dlq:
            component: dead-letter
          failed:
            component: log
        edges:
          - from: start.out
            to: get.request
            data: {url: /items, queryParams: {page: '1'}}
          - from: get.response
            to: save.request
            data:
              operation: upsert
              table: items
              key: id
              rows: <<$.response.bodyJson.items>>
              context: {newest: <<max($.response.bodyJson.items.map(i => i.at))>>}
          - from: save.response
            to: cursor.checkpoint
            data: {value: <<$.context.newest>>}
          - from: get.error
            to: failed.in
          - from: save.error
            to: dlq.in
            data: {key: batch, payload: <<$.input.rows>>, error: <<$.error>>}
          - from: dlq.error
            to: failed.in

        """

    /// The passing case; line numbers below are of this text.
    static let passing = """
        cases:
          - name: two items arrive
            http:
              - path: /items
                query: {page: '1'}
                json: {items: [{id: 1, name: a, at: 10}, {id: 2, name: b, at: 20}]}
            database:
              seed: CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, at INTEGER);
            expect:
              run:
                status: completed
                counters: {created: 2}
              sql:
                - query: SELECT id, name FROM items ORDER BY id
                  rows: [{id: 1, name: a}, {id: 2, name: b}]
              messages:
                save.response: [{created: 2}]
                cursor.checkpoint: [{value: 20}]
              state: {since: 20}
              deadLetters: []

        """

    /// A directory holding `items.yaml` (`flow`) and `name` with `text`.
    static func directory(_ name: String, _ text: String, flow: String = flow) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flowtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try flow.write(to: dir.appendingPathComponent("items.yaml"), atomically: true, encoding: .utf8)
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func aPassingFileExitsZeroWithATickPerCase() throws {
        let dir = try Self.directory("items.test.yaml", Self.passing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "items.test.yaml"], in: dir)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("✔ two items arrive"))
        #expect(r.stdout.contains("1 case: 1 passed, 0 failed (1 file)"))
    }

    /// Every kind of assertion, each wrong: each is reported at its own line with a diff.
    @Test func eachAssertionKindFailsAtItsLineWithADiff() throws {
        let text = """
            cases:
              - name: all wrong
                http:
                  - path: /items
                    json: {items: [{id: 1, name: a, at: 10}]}
                database:
                  seed: CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, at INTEGER);
                expect:
                  run:
                    status: failed
                    counters: {created: 5}
                  sql:
                    - query: SELECT id, name FROM items
                      rows: [{id: 1, name: z}]
                  messages:
                    save.response: {count: 3}
                    cursor.checkpoint: [{value: 11}]
                  state: {since: 99}
                  deadLetters: [{key: batch}]

            """
        let dir = try Self.directory("items.test.yaml", text)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "items.test.yaml"], in: dir)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let out = r.stdout
        #expect(out.contains("✘ all wrong"))
        for (line, label) in [
            (10, "run.status"), (11, "run.counters"), (13, "rows of `SELECT id, name FROM items`"),
            (16, "count of messages on save.response"), (17, "messages on cursor.checkpoint"), (18, "state since"),
            (19, "dead letters"),
        ] {
            #expect(out.contains("items.test.yaml:\(line): \(label) differs (- expected, + actual)"), "\(out)")
        }
        #expect(out.contains("- \"failed\"") && out.contains("+ \"completed\""), "\(out)")
        #expect(out.contains("-   \"created\": 5") && out.contains("+   \"created\": 1"), "\(out)")
        #expect(out.contains("-     \"name\": \"z\"") && out.contains("+     \"name\": \"a\""), "\(out)")
        #expect(out.contains("- 3") && out.contains("+ 1"), "\(out)")
        #expect(out.contains("-     \"value\": 11") && out.contains("+     \"value\": 10"), "\(out)")
        #expect(out.contains("- 99") && out.contains("+ 10"), "\(out)")
        #expect(out.contains("-   {") && out.contains("+ []"), "\(out)")
        #expect(out.contains("1 case: 0 passed, 1 failed"))
    }

    @Test func junitReportsEveryCase() throws {
        let failing = Self.passing.replacingOccurrences(of: "two items arrive", with: "two items arrive again")
            .replacingOccurrences(of: "state: {since: 20}", with: "state: {since: 21}")
            .replacingOccurrences(of: "cases:\n", with: "")
        let dir = try Self.directory("items.test.yaml", Self.passing + failing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "--format", "junit", "items.test.yaml"], in: dir)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let document = try XMLDocument(data: Data(r.stdout.utf8))
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "2")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        let cases = try root.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(
            cases.map { $0.attribute(forName: "name")?.stringValue } == ["two items arrive", "two items arrive again"])
        let failure = try #require(try root.nodes(forXPath: "//testcase[2]/failure").first)
        #expect(failure.stringValue?.contains("items.test.yaml:38: state since differs") == true, "\(r.stdout)")
        #expect(try root.nodes(forXPath: "//testcase[1]/failure").isEmpty)
    }

    @Test func aBadTestFileExitsTwoWithPositions() throws {
        let text = """
            cases:
              - name: typo
                expct:
                  run: {status: completed}
                http:
                  - path: /items
                    status: 999
                entry: start

            """
        let dir = try Self.directory("items.test.yaml", text)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "items.test.yaml"], in: dir)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("items.test.yaml:3:5: error[E207]: unknown key 'expct' in a case"), "\(r.stdout)")
        #expect(r.stdout.contains("did you mean 'expect'?"))
        #expect(r.stdout.contains("items.test.yaml:7:17: error[E210]: status is an HTTP status from 100 to 599"))
        #expect(r.stdout.contains("items.test.yaml:2:11: error[E209]: case 'typo' has no `expect:`"))
        #expect(r.stdout.contains("items.test.yaml:8:12: error[E209]: `entry` names where `input` goes"), "\(r.stdout)")
        let check = try CLITests.run(["check", "items.test.yaml"], in: dir)
        #expect(check.status == 1 && check.stdout.contains("unknown key 'expct'"), "\(check.stdout)")
    }

    @Test func aPortTheFlowLacksFailsAndAMissingFlowIsABadFile() throws {
        let text = """
            cases:
              - name: typo in a port
                http: [{path: /items, json: {items: []}}]
                expect:
                  messages:
                    save.respons: {count: 1}

            """
        let dir = try Self.directory("items.test.yaml", text)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "items.test.yaml"], in: dir)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(
            r.stdout.contains("items.test.yaml:6: the flow has no port 'save.respons'; did you mean 'save.response'?"),
            "\(r.stdout)")
        try "flow: nowhere.yaml\n\(text)".write(
            to: dir.appendingPathComponent("other.test.yaml"), atomically: true, encoding: .utf8)
        let missing = try CLITests.run(["test", "other.test.yaml", "items.test.yaml"], in: dir)
        #expect(missing.status == 2, "\(missing.stdout)\(missing.stderr)")
        #expect(
            missing.stdout.contains("other.test.yaml: the flow under test: cannot read nowhere.yaml"),
            "\(missing.stdout)")
        #expect(missing.stdout.contains("1 case: 0 passed, 1 failed, 1 bad test file (2 files)"), "\(missing.stdout)")
    }

    @Test func anUnmatchedRequestFailsTheCase() throws {
        let text = """
            cases:
              - name: wrong page
                http:
                  - path: /items
                    query: {page: '2'}
                    json: {items: []}
                expect:
                  run: {status: completed}

            """
        let dir = try Self.directory("items.test.yaml", text)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "items.test.yaml"], in: dir)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(
            r.stdout.contains(
                "items.test.yaml:2: unmatched request: GET /items?page=1 (no fixture matches it; fixtures: GET /items page=2)"
            ), "\(r.stdout)")
    }

    /// A case's secrets replace the flow's sources, and never appear in the report, even in a diff.
    @Test func secretsReachTheFlowButNotTheReport() throws {
        let flow = """
            flow: s
            secrets:
              token: {env: S_TOKEN}
            nodes:
              start:
                component: ticker
                settings: {interval: 1h, emitOnStart: true}
              show:
                component: log
            edges:
              - from: start.out
                to: show.in
                data: {auth: "Bearer <<secrets.token>>", length: <<len(secrets.token)>>}

            """
        let text = """
            cases:
              - name: leaks nothing
                secrets: {token: s3cr3t-value}
                expect:
                  run: {status: completed}
                  messages:
                    show.in: [{auth: Bearer something-else, length: 12}]

            """
        let dir = try Self.directory("items.test.yaml", text, flow: flow)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["test", "items.test.yaml"], in: dir)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("items.test.yaml:7: messages on show.in differs"), "\(r.stdout)")
        #expect(r.stdout.contains("-     \"auth\": \"Bearer something-else\""), "\(r.stdout)")
        #expect(r.stdout.contains("+     \"auth\": \"Bearer ***\""), "\(r.stdout)")
        #expect(!r.stdout.contains("s3cr3t"), "\(r.stdout)")
        #expect(!r.stdout.contains("run.status"), "the secret came from the case: \(r.stdout)")
    }

    /// Every flow in flows/ has a test file beside it, and `flowrun test` (no arguments) passes them all.
    @Test func everyFlowHasPassingTests() throws {
        let flows = FileManager.default.enumerator(atPath: CLITests.repo.appendingPathComponent("flows").path)
        var missing: [String] = []
        while let item = flows?.nextObject() as? String {
            guard item.hasSuffix(".yaml"), !FlowTestFile.isTestFile(item) else { continue }
            let test = String(item.dropLast(5)) + ".test.yaml"
            if !FileManager.default.fileExists(atPath: CLITests.repo.appendingPathComponent("flows/" + test).path) {
                missing.append(item)
            }
        }
        #expect(missing.isEmpty, "flows without a test file: \(missing)")
        let r = try CLITests.run(["test"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stdout.contains("✘"))
    }
}

#if canImport(FoundationXML)
    import FoundationXML
#endif
