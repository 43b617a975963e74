import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// `flowrun schema`: valid JSON Schema (draft-07) that accepts every flow in flows/ and rejects
/// misspelt settings and enum values. Validated with Python's `jsonschema` (FLOWRUN_TEST_PYTHON, made
/// by scripts/test), a real validator.
@Suite struct FlowSchemaTests {
    static let python = ProcessInfo.processInfo.environment["FLOWRUN_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }

    /// A flow file as the JSON a YAML language server sees (templates as their text).
    static func instance(_ path: String, text: String) throws -> Value {
        let source = SourceFile(path: path, text: text)
        guard case .success(let root) = YAMLLoader.load(source) else { throw CocoaError(.fileReadCorruptFile) }
        func value(_ n: YNode) -> Value {
            switch n.kind {
            case .scalar(.template(let pieces)):
                return .string(
                    pieces.map {
                        switch $0 {
                        case .text(let t): t
                        case .expression(let r): "<<" + source.slice(r.lowerBound, r.upperBound) + ">>"
                        }
                    }.joined())
            case .scalar: return n.constant ?? .null
            case .sequence(let items): return .array(items.map(value))
            case .mapping(let entries):
                var o = Value.Object()
                for (k, v) in entries { o[k.string ?? k.constant?.interpolated ?? ""] = value(v) }
                return .object(o)
            }
        }
        return value(root)
    }

    /// Validates each instance; returns the error messages per instance (empty: valid).
    static func validate(_ instances: [Value]) throws -> [[String]] {
        guard let python else { return [] }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try DocsRenderer.schema().write(
            to: dir.appendingPathComponent("schema.json"), atomically: true, encoding: .utf8)
        try JSON.serialize(.array(instances)).write(
            to: dir.appendingPathComponent("instances.json"), atomically: true, encoding: .utf8)
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft7Validator.check_schema(schema)
            validator = jsonschema.Draft7Validator(schema)
            out = []
            for instance in json.load(open(sys.argv[2])):
                out.append(sorted(e.message + " at " + "/".join(map(str, e.absolute_path)) for e in validator.iter_errors(instance)))
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-c", script, dir.appendingPathComponent("schema.json").path,
            dir.appendingPathComponent("instances.json").path,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let exitStatus1 = ChildProcess.exitStatus(process)
        #expect(exitStatus1 == 0, "jsonschema failed (is it installed? scripts/test installs it)")
        let result = try JSON.parse(String(decoding: data, as: UTF8.self))
        return (result.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.stringValue) }
    }

    @Test func theSchemaIsJSONWithEveryComponentAndIsCommitted() throws {
        let schema = try JSON.parse(DocsRenderer.schema())
        #expect(schema["$schema"] == "http://json-schema.org/draft-07/schema#")
        for c in ComponentRegistry.standard.components {
            #expect(!schema["definitions"]["settings:\(c.name)"].isNull, "no settings schema for \(c.name)")
        }
        #expect(schema["definitions"]["settings:http-client"]["properties"]["timeout"]["default"] == "30s")
        let committed = try String(
            contentsOf: CLITests.repo.appendingPathComponent("components/flow.schema.json"), encoding: .utf8)
        #expect(committed == DocsRenderer.schema(), "run `flowrun docs generate`")
        let printed = try CLITests.run(["schema"])
        #expect(printed.status == 0 && printed.stdout == committed)
    }

    @Test func everyFlowInFlowsIsValid() throws {
        guard Self.python != nil else {
            print("skipped: FLOWRUN_TEST_PYTHON is unset (scripts/test sets it, with jsonschema installed)")
            return
        }
        var paths: [String] = []
        let walker = FileManager.default.enumerator(atPath: CLITests.repo.appendingPathComponent("flows").path)
        while let item = walker?.nextObject() as? String {
            if item.hasSuffix(".yaml"), !FlowTestFile.isTestFile(item) { paths.append("flows/" + item) }
        }
        #expect(paths.count >= 10)
        let instances = try paths.map {
            try Self.instance($0, text: String(contentsOf: CLITests.repo.appendingPathComponent($0), encoding: .utf8))
        }
        for (path, errors) in zip(paths, try Self.validate(instances)) {
            #expect(errors.isEmpty, "\(path): \(errors)")
        }
    }

    @Test func misspeltSettingsAndEnumValuesAreRejected() throws {
        guard Self.python != nil else {
            print("skipped: FLOWRUN_TEST_PYTHON is unset (scripts/test sets it, with jsonschema installed)")
            return
        }
        func flow(_ settings: String, component: String = "database") throws -> Value {
            try Self.instance(
                "t.yaml",
                text: """
                    flow: t
                    run: {overlap: skip}
                    nodes:
                      n:
                        component: \(component)
                        settings: \(settings)
                    """)
        }
        let cases: [(Value, String?)] = [
            (try flow("{driver: sqlite, url: 'sqlite:x.db'}"), nil),
            (try flow("{driver: <<env.X ? 'postgres' : 'sqlite'>>, maxOpenConns: <<vars.n>>}"), nil),
            (try flow("{driver: sqllite}"), "driver"),
            (try flow("{drivr: sqlite}"), "drivr"),
            (try flow("{baseURL: 'http://x'}", component: "http-client"), "baseURL"),
            (try flow("{timeout: soon}", component: "http-client"), "timeout"),
            (try flow("{}", component: "databse"), "component"),
            (
                try Self.instance("t.yaml", text: "flow: t\nrun: {overlap: skipp}\nnodes: {}\n"), "overlap"
            ),
        ]
        let results = try Self.validate(cases.map(\.0))
        for ((_, problem), errors) in zip(cases, results) {
            if let problem {
                #expect(errors.contains { $0.contains(problem) }, "expected a complaint about \(problem): \(errors)")
            } else {
                #expect(errors.isEmpty, "\(errors)")
            }
        }
    }
}
