import Foundation
import Testing

@testable import Flowrun

/// Every `error.code` written in Sources is in `ErrorCodes.all`, the list components/errors.md renders.
@Suite struct ErrorCodeDocsTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../Sources"
    ).standardized

    @Test func everyCodeInSourcesIsDocumented() throws {
        var codes: Set<String> = []
        let files = FileManager.default.enumerator(atPath: Self.sources.path)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") && !file.hasPrefix("FlowrunTesting") {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            // `code: "literal"` and `code: "prefix_\(...)"` in NodeError initialisers.
            var rest = text[...]
            while let r = rest.range(of: "code: \"") {
                let tail = rest[r.upperBound...]
                let end = tail.firstIndex { $0 == "\"" || $0 == "\\" } ?? tail.endIndex
                codes.insert(String(tail[..<end]))
                rest = tail[end...]
            }
        }
        #expect(codes.contains("bad_request") && codes.contains("http_"))
        for code in codes.sorted() where !code.isEmpty {
            #expect(ErrorCodes.documents(code), "error code '\(code)' is not in ErrorCodes.all")
        }
    }

    @Test func theErrorsPageListsEveryCode() {
        let page = DocsRenderer.pages().first { $0.0 == "errors.md" }?.1 ?? ""
        for entry in ErrorCodes.all { #expect(page.contains("`\(entry.code)`")) }
    }
}
