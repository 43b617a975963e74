import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// Issue 13 item 10: `--input` is read whole (a 16 MiB file), and invalid UTF-8, inline or in a file, is a
/// usage error (exit 2) naming the byte offset instead of being replaced silently.
@Suite struct InputArgumentTests {
    let dir: URL = FileManager.default.temporaryDirectory.appendingPathComponent("flowrun-input-\(UUID().uuidString)")

    static let flow = """
        flow: big-input
        nodes:
          calc: {component: modify}
          show: {component: log}
        edges:
          - {from: calc.out, to: show.in, data: {n: <<len($.blob)>>, tail: <<$.blob.slice(-3)>>}}
        """

    @Test func aSixteenMebibyteFileIsReadWhole() async throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try writeFile(dir, "flow.yaml", Self.flow)
        let size = 16 << 20
        let json = Data(#"{"blob": ""#.utf8) + Data(repeating: UInt8(ascii: "x"), count: size - 3) + Data("end\"}".utf8)
        let input = dir.appendingPathComponent("input.json")
        try json.write(to: input)
        let arguments = [
            file, "--once", "--state", dir.appendingPathComponent("state.db").path, "--input", "@" + input.path,
        ]
        let r = try await offPool { try CLITests.run(arguments) }
        #expect(r.status == 0, "\(r.stdout)\(r.stderr.prefix(2000))")
        #expect(r.stderr.contains(#""n":\#(size)"#), "\(r.stderr.prefix(2000))")
        #expect(r.stderr.contains(#""tail":"end""#))
    }

    @Test func invalidUTF8InAFileIsAUsageErrorWithItsOffset() async throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try writeFile(dir, "flow.yaml", Self.flow)
        let input = dir.appendingPathComponent("bad.json")
        try (Data(#"{"blob": "ab"#.utf8) + Data([0xC3, 0x28]) + Data(#""}"#.utf8)).write(to: input)
        let arguments = [
            file, "--once", "--state", dir.appendingPathComponent("state.db").path, "--input", "@" + input.path,
        ]
        let r = try await offPool { try CLITests.run(arguments) }
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(
            r.stderr.contains("--input: \(input.path) is not valid UTF-8 (invalid byte at offset 12)"), "\(r.stderr)")
    }

    /// Swift decodes arguments with replacement characters; the raw bytes are what is checked.
    @Test func invalidUTF8InlineIsAUsageErrorWithItsOffset() async throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try writeFile(dir, "flow.yaml", Self.flow)
        for form in [
            "--input \"$(printf '{\"blob\": \"a\\377\"}')\"", "--input=\"$(printf '{\"blob\": \"a\\377\"}')\"",
        ] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = [
                "-c", "exec \"$0\" \"$1\" --once --state \"$2\" \(form)", CLITests.binary.path, file,
                dir.appendingPathComponent("state.db").path,
            ]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let (stderr, status) = await offPool {
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                return (text, ChildProcess.exitStatus(p))
            }
            #expect(status == 2, "\(form): \(stderr)")
            #expect(
                stderr.contains("--input: the argument is not valid UTF-8 (invalid byte at offset 11)"), "\(stderr)")
        }
    }
}
