import FlowrunExpression
import Foundation
import Testing
import Yams

@testable import FlowrunGraph

/// Issue 19: `flowrun check` under 30 ms. Yams's default resolver compiled seven NSRegularExpressions (ICU)
/// in every process and matched every scalar of a flow file against them, 18% of checking user-sync, for tags
/// the loader never read: it types plain scalars itself.
@Suite struct LoaderStartupTests {
    @Test func yamsResolvesNoTags() {
        #expect(YAMLLoader.resolver.rules.isEmpty)
    }

    /// Plain scalars are still typed by the loader (YAML 1.2 core schema), quoted ones stay strings.
    @Test func plainScalarsAreTypedByTheLoader() throws {
        let text = "a: 1\nb: 2.5\nc: true\nd: null\ne: ~\nf: '1'\ng: 0x1F\nh: 2001-12-14\ni: .inf\n"
        let root = try YAMLLoader.load(SourceFile(path: "t.yaml", text: text)).get()
        let kinds = (root.entries ?? []).map { "\($0.key.string ?? "?")=\($0.value.kind)" }
        #expect(kinds.count == 9, "\(kinds)")
        #expect(kinds[0].contains("int(1)"), "\(kinds)")
        #expect(kinds[1].contains("double(2.5)"), "\(kinds)")
        #expect(kinds[2].contains("bool(true)"), "\(kinds)")
        #expect(kinds[3].contains("null") && kinds[4].contains("null"), "\(kinds)")
        #expect(kinds[5].contains("string(\"1\")"), "\(kinds)")
        #expect(kinds[7].contains("string(\"2001-12-14\")"), "\(kinds)")
    }
}
