import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// The `map` component: field mapping rules as data, checked when the flow loads.
@Suite struct MapComponentTests {
    func flow(_ mapping: String, vars: String = "{}") -> String {
        """
        flow: mapping
        vars: \(vars)
        nodes:
          to-api:
            component: map
            settings:
              mapping: \(mapping)
          out: {component: modify}
          failed: {component: modify}
        edges:
          - {from: to-api.out, to: out.in}
          - {from: to-api.error, to: failed.in}
        """
    }

    func map(_ yaml: String, _ record: Value) throws -> FlowHarness {
        let h = try FlowHarness(yaml)
        _ = h.run(input: ["record": record, "context": ["row": 7]], entry: "to-api", port: "in")
        return h
    }

    @Test func rulesReadTransformAndDefault() throws {
        let h = try map(
            flow(
                """
                [{from: email, to: email, transform: <<lower($.record.email ?? '') || null>>},
                 {from: profile.name, to: fullName, default: unknown},
                 {to: source, transform: crm}]
                """), ["email": "Ann@X.com", "profile": ["name": nil]])
        let out = try #require(h.messages("out.out").first)
        #expect(out["record"] == ["email": "ann@x.com", "fullName": "unknown", "source": "crm"])
        #expect(out["source"]["email"] == "Ann@X.com" && out["context"]["row"] == 7)
        // A null source value takes the default even through a transform.
        let empty = try map(
            flow("[{from: email, to: email, transform: <<$.record.email>>, default: none@x.com}]"), ["email": nil])
        #expect(empty.messages("out.out").first?["record"] == ["email": "none@x.com"])
    }

    @Test func rulesMayComeFromVars() throws {
        let h = try map(
            flow("<<vars.fields>>", vars: "{fields: [{from: a, to: b}, {from: c, to: d, default: 0}]}"), ["a": 1])
        #expect(h.messages("out.out").first?["record"] == ["b": 1, "d": 0])
    }

    @Test func badRulesAreReportedWithTheirPlace() throws {
        // An expression that cannot work is a load-time error at its line and column.
        #expect {
            try FlowHarness(flow("[{from: a, to: b, transform: <<$.record.a +>>}]"))
        } throws: { "\($0)".contains("test.yaml:7:") || "\($0)".contains(":7:") }
        // A rule without `to` fails the shape check at load time.
        #expect(throws: (any Error).self) { try FlowHarness(flow("[{from: a}]")) }
        // A rule with neither `from` nor `transform` is a clear runtime error, not a silent null.
        let h = try map(flow("[{to: b, default: 1}]"), ["a": 1])
        #expect(h.messages("failed.out").first?["error"]["code"] == "bad_mapping")
    }
}
