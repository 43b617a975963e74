import FlowrunValue
import Testing

/// JSON strings after issue 19: an ASCII string skips the UTF-8 check, anything else is still checked
/// strictly, with or without escapes.
@Suite struct JSONStringSpeedTests {
    static func parse(_ bytes: [UInt8]) -> String {
        do throws(JSON.ParseError) {
            return "ok " + JSON.serialize(try JSON.parse(bytes: bytes))
        } catch {
            return "error \(error.message) at \(error.offset)"
        }
    }

    static func quoted(_ inner: [UInt8]) -> [UInt8] { [34] + inner + [34] }

    @Test func asciiAndValidUTF8Parse() throws {
        #expect(try JSON.parse(bytes: Self.quoted(Array("plain ascii ~\u{7F}".utf8))) == "plain ascii ~\u{7F}")
        #expect(try JSON.parse(bytes: Self.quoted(Array("héllo ✓ 𝄞".utf8))) == "héllo ✓ 𝄞")
        #expect(try JSON.parse(bytes: Self.quoted(Array("é\\n✓".utf8))) == "é\n✓")
        #expect(try JSON.parse(bytes: Self.quoted([])) == "")
    }

    @Test(
        arguments: [
            [0xFF], [0xC3], [0x61, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80],
            [0xE2, 0x9C], [0x61, 0x62, 0xF0, 0x9D, 0x84],
        ] as [[UInt8]])
    func invalidUTF8IsAnError(inner: [UInt8]) {
        #expect(Self.parse(Self.quoted(inner)) == "error invalid UTF-8 in string at 1")
        // The same after an escape (the slow path), and as an object key.
        #expect(Self.parse(Self.quoted([92, 110] + inner)).hasPrefix("error invalid UTF-8 in string"))
        #expect(Self.parse([123] + Self.quoted(inner) + Array(":1}".utf8)).hasPrefix("error invalid UTF-8"))
    }

    /// Many strings in one document, ASCII and not, as in a page of users.
    @Test func pageOfStrings() throws {
        let text =
            "["
            + (0..<200).map { "{\"id\":\"u\($0)\",\"name\":\"Zoë \($0)\",\"email\":\"U\($0)@Example.COM\"}" }
            .joined(separator: ",") + "]"
        let v = try JSON.parse(text)
        #expect(v[199]["name"] == "Zoë 199")
        #expect(v[0]["email"] == "U0@Example.COM")
        #expect(JSON.serialize(v) == text)
    }
}
