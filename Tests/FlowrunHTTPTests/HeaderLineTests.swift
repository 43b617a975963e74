import Testing

@testable import FlowrunHTTP

/// The header callback's byte-level reading of a response head line (issue 19: it replaced Foundation's
/// `trimmingCharacters` per line).
@Suite struct HeaderLineTests {
    static func read(_ line: String) -> HeaderLine {
        Array(line.utf8).withUnsafeBytes { HeaderLine($0) }
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\n", HeaderLine.status),
        ("HTTP/2 301\r\n", .status),
        ("Content-Type: application/json\r\n", .field(name: "content-type", value: "application/json")),
        ("X-Empty:\r\n", .field(name: "x-empty", value: "")),
        ("X-Spaces: \t  a  b \t\r\n", .field(name: "x-spaces", value: "a  b")),
        (" Odd-Name \t: v\n", .field(name: "odd-name", value: "v")),
        ("Location: http://h:8080/x?a=b\r\n", .field(name: "location", value: "http://h:8080/x?a=b")),
        ("X-Ünï: ✓ é\r\n", .field(name: "x-ünï", value: "✓ é")),
        ("\r\n", .other),
        ("no colon here\r\n", .other),
    ])
    func readsTheLine(line: String, expected: HeaderLine) {
        #expect(Self.read(line) == expected)
    }
}
