import FlowrunRuntime
import FlowrunValue
import Foundation
import Testing

/// The one redactor: each encoding of a secret it must find, the values and records it rewrites, and
/// the store and logger wrappers through which every run's output goes.
@Suite struct RedactorTests {
    static let secret = "Zq7s3cr3tT0ken"
    let redactor = Redactor(secrets: [secret, "ab", "p@ss w/rd", #"q"uote\x"#])

    static func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    @Test(arguments: [
        ("as is", "token \(secret) here", "token *** here"),
        ("upper case", "X-\(secret.uppercased())", "X-***"),
        ("lower case", secret.lowercased() + ".localhost", "***.localhost"),
        ("base64 alone", "t=\(b64(secret))", "t=***"),
        ("base64 of secret:", b64(secret + ":"), "***"),
        ("base64 of user:secret", "Basic \(b64("user:" + secret))", "Basic ***"),
        ("base64 of any x:secret", "Basic \(b64("someone-else:" + secret))", "Basic ***"),
        ("base64 of upper(secret)", b64("u:" + secret.uppercased()), "***"),
        ("base64 without padding", b64("user:" + secret).replacingOccurrences(of: "=", with: ""), "***"),
        ("URL-encoded", "q=p%40ss%20w%2Frd&x=1", "q=***&x=1"),
        ("URL-encoded, lower-case hex", "q=p%40ss%20w%2frd", "q=***"),
        ("JSON-escaped", #"{"k":"q\"uote\\x"}"#, #"{"k":"***"}"#),
        ("short secrets are ignored", "ab cd", "ab cd"),
        ("ordinary base64 is kept", "Basic \(b64("user:other"))", "Basic \(b64("user:other"))"),
    ])
    func findsEveryEncoding(_ name: String, _ text: String, _ expected: String) {
        #expect(redactor.redact(text) == expected, "\(name)")
    }

    @Test func valuesMaskCredentialHeadersWholeAndRedactStrings() {
        let value: Value = [
            "headers": [
                "Authorization": "Basic dXNlcjpwYXNz", "cookie": "a=b", "X-Api-Key": "k-123",
                "Proxy-Authorization": "x", "X-Trace": .string(Self.secret + "-1"), "Accept": "json",
            ],
            "nested": [["authorization": "Bearer plain"]], "text": .string("why: \(Self.secret)"), "n": 1,
        ]
        let out = redactor.redact(value)
        #expect(out["headers"]["Authorization"] == "***")
        #expect(out["headers"]["cookie"] == "***")
        #expect(out["headers"]["X-Api-Key"] == "***")
        #expect(out["headers"]["Proxy-Authorization"] == "***")
        #expect(out["headers"]["X-Trace"] == "***")
        #expect(out["headers"]["Accept"] == "json")
        #expect(out["nested"][0]["authorization"] == "***")
        #expect(out["text"] == "why: ***")
        #expect(out["n"] == 1)
        // Without secrets, credential headers are still masked.
        #expect(Redactor.none.redact(value)["headers"]["Authorization"] == "***")
    }

    @Test func previewsAreRedactedBeforeTheyAreCut() {
        let long = String(repeating: "x", count: 990) + Self.secret
        let preview = redactor.preview(.string(long), limit: 1000)
        #expect(!preview.contains("Zq7s3c"))
    }

    @Test func storeAndLoggerWrappersRedactRecordsDeadLettersAndLines() throws {
        let base = MemoryStore()
        let store = RedactingStore(base, redactor: redactor)
        var record = RunRecord(id: "r1", flow: "f", trigger: .manual, startedAt: 0)
        record.reason = "failed: \(Self.secret)"
        record.input = ["headers": ["Authorization": "Bearer x"]]
        record.errors = [
            .init(
                node: "n", port: "in", location: nil, message: "int: '\(Self.secret)'",
                input: #"{"t":"\#(Self.secret)"}"#)
        ]
        try store.save(record)
        let saved = try #require(try base.run(id: "r1"))
        #expect(saved.reason == "failed: ***")
        #expect(saved.errors[0].message == "int: '***'")
        #expect(saved.errors[0].input == #"{"t":"***"}"#)
        #expect(saved.input["headers"]["Authorization"] == "***")

        try store.set(flow: "f", key: "dlq/d1", value: ["payload": .string(Self.secret)])
        try store.set(flow: "f", key: "cursor", value: .string(Self.secret))
        #expect(try base.get(flow: "f", key: "dlq/d1")?["payload"] == "***")
        #expect(try base.get(flow: "f", key: "cursor") == .string(Self.secret), "user state is stored as given")

        final class Lines: RunLogger, @unchecked Sendable {
            var lines: [String] = []
            func log(_ level: LogLevel, _ message: String, flow: String, node: String?, run: String?) {
                lines.append(message)
            }
        }
        let lines = Lines()
        RedactingLogger(lines, redactor: redactor).log(
            .error, "GET http://\(Self.secret).x failed", flow: "f", node: nil, run: nil)
        #expect(lines.lines == ["GET http://***.x failed"])
    }
}
