import Foundation
import Testing

@testable import FlowrunHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// `RequestParser` as a pure state machine: bytes in, events out, whatever the split of the input.
@Suite struct RequestParserTests {
    /// Every event of `input` fed in pieces of `step` bytes, bodies accepted up to `bodyLimit`.
    static func events(_ input: [UInt8], step: Int, limits: ListenerLimits = ListenerLimits(), bodyLimit: Int = 1 << 20)
        -> [RequestParser.Event]
    {
        var parser = RequestParser(limits: limits)
        var out: [RequestParser.Event] = []
        var offset = 0
        while true {
            while let event = parser.next() {
                out.append(event)
                if case .head = event, let body = parser.startBody(limit: bodyLimit) { out.append(body) }
                if case .failed = event { return out }
            }
            guard offset < input.count else { return out }
            parser.feed(input[offset..<min(offset + step, input.count)])
            offset += step
        }
    }

    /// Body pieces joined, so that splits of the input compare equal.
    static func joined(_ events: [RequestParser.Event]) -> [RequestParser.Event] {
        var out: [RequestParser.Event] = []
        for e in events {
            if case .body(let b) = e, case .body(let a)? = out.last {
                out[out.count - 1] = .body(a + b)
            } else {
                out.append(e)
            }
        }
        return out
    }

    static let pipelined = Array(
        ("GET /a?x=1&y=a%20b&t=00:00+01:00 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            + "PUT /c HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n").utf8)

    @Test(arguments: [1, 2, 7, 64, 4096]) func pipelinedRequestsParseTheSameWhateverTheSplit(step: Int) {
        let events = Self.joined(Self.events(Self.pipelined, step: step))
        #expect(events.count == 8)
        guard case .head(let a) = events[0], case .head(let b) = events[2], case .head(let c) = events[5] else {
            Issue.record("heads expected: \(events)")
            return
        }
        #expect(a.method == "GET" && a.path == "/a" && a.header("host") == "h" && a.keepAlive)
        #expect(a.query.map(\.name) == ["x", "y", "t"] && a.query.map(\.value) == ["1", "a b", "00:00+01:00"])
        #expect(events[1] == .end)
        #expect(b.method == "POST" && events[3] == .body(Array("abc".utf8)) && events[4] == .end)
        #expect(c.minorVersion == 0 && !c.keepAlive && events[6] == .body(Array("hi".utf8)) && events[7] == .end)
    }

    /// Issue 13 item 5: FlyingFox walked the line read so far after every byte (64 KiB cost 2 s of CPU). With the
    /// limit raised, a 1 MiB line fed 1 KiB at a time is accepted, each byte scanned once.
    @Test func aLongHeaderLineIsScannedInLinearTime() {
        var limits = ListenerLimits()
        limits.headerBytes = 4 << 20
        var parser = RequestParser(limits: limits)
        parser.feed(Array("GET / HTTP/1.1\r\nX-Big: ".utf8))
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1024)
        let before = Self.threadCPU()
        var early: [RequestParser.Event] = []
        for _ in 0..<1024 {
            parser.feed(piece)
            if let event = parser.next() { early.append(event) }
        }
        parser.feed(Array("\r\n\r\n".utf8))
        let event = parser.next()
        let cpu = Self.threadCPU() - before
        #expect(early.isEmpty)
        guard case .head(let head) = event else {
            Issue.record("a head expected, got \(String(describing: event))")
            return
        }
        #expect(head.header("X-Big")?.utf8.count == 1 << 20)
        #expect(cpu < 0.5, "\(cpu) s of CPU")
    }

    /// With the default limits a 1 MiB header line is refused at 64 KiB: well under 100 ms of CPU.
    @Test func aOneMiBHeaderLineIsRefusedInUnder100msOfCPU() {
        var parser = RequestParser(limits: ListenerLimits())
        parser.feed(Array("GET / HTTP/1.1\r\nX-Big: ".utf8))
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1024)
        let before = Self.threadCPU()
        var event: RequestParser.Event?
        var fed = 0
        while event == nil, fed < 1 << 20 {
            parser.feed(piece)
            fed += piece.count
            event = parser.next()
        }
        let cpu = Self.threadCPU() - before
        #expect(event == .failed(RequestError(431, "request headers too large")))
        #expect(fed <= 65 * 1024)
        #expect(cpu < 0.1, "\(cpu) s of CPU")
    }

    @Test func limitsAreCheckedBeforeTheLineEnds() {
        var limits = ListenerLimits()
        limits.requestLineBytes = 16
        limits.headerBytes = 32
        // No line end yet: refused as soon as the partial line passes the limit.
        #expect(
            Self.events(Array(("GET /" + String(repeating: "a", count: 20)).utf8), step: 4, limits: limits).last
                == .failed(RequestError(414, "request line too long")))
        #expect(
            Self.events(
                Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 40)).utf8), step: 4, limits: limits
            )
            .last == .failed(RequestError(431, "request headers too large")))
    }

    @Test func aDeclaredBodyOverTheLimitFailsBeforeAnyBodyByte() {
        var parser = RequestParser(limits: ListenerLimits())
        parser.feed(Array("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n".utf8))
        guard case .head = parser.next() else {
            Issue.record("a head expected")
            return
        }
        #expect(
            parser.startBody(limit: 10)
                == .failed(RequestError(413, "request body of 11 bytes is larger than 10 bytes")))
        #expect(parser.next() == nil)
    }

    @Test func chunksOverTheLimitFail() {
        let input = Array(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n".utf8)
        let events = Self.events(input, step: 3, bodyLimit: 6)
        #expect(events.last == .failed(RequestError(413, "request body larger than the limit")))
        #expect(Self.joined(events).contains(.body(Array("abcd".utf8))))
    }

    /// Found by scripts/fuzz (FuzzHTTPRequest): a chunk size of `-5` parsed as a negative length and
    /// trapped in the next read. Chunk sizes are hex digits only.
    @Test(arguments: ["-5", "+5", "0x5", "-0"]) func chunkSizesAreHexDigitsOnly(size: String) {
        let request = "POST /h HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n"
        let events = Self.events(Array(request.utf8), step: 3)
        #expect(events.last == .failed(RequestError(400, "invalid chunk size")), "\(events)")
    }

    static func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
