import FlowrunHTTP
import FuzzSupport

/// The listeners' HTTP/1.1 request parser (every http-server node and the admin API read requests with
/// it): any bytes, fed in any split, give heads, bodies within the limit and an end, or a failure with a
/// 4xx/5xx status; never a crash, never more body bytes than the limit, never an event after `.failed`.
@main enum FuzzHTTPRequest {
    static func main() { Fuzzer.run(fuzz) }
}

let limits: ListenerLimits = {
    var l = ListenerLimits()
    l.requestLineBytes = 256
    l.headerBytes = 1024
    l.headerFields = 8
    l.bodyBytes = 512
    return l
}()

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // The first byte picks how the rest arrives: in pieces of 1...256 bytes.
    let piece = Int(bytes[0]) + 1
    var parser = RequestParser(limits: limits)
    var offset = 1
    var body = 0
    var failed = false
    while offset < size && !failed {
        let end = min(size, offset + piece)
        parser.feed(bytes[offset..<end])
        offset = end
        while let event = parser.next() {
            switch event {
            case .head:
                body = 0
                if case .failed(let error)? = parser.startBody(limit: limits.bodyBytes) {
                    if error.status != 413 { fatalError("startBody failed with \(error.status)") }
                    failed = true
                }
            case .body(let chunk):
                body += chunk.count
                if body > limits.bodyBytes { fatalError("body of \(body) bytes passed the limit") }
            case .end:
                break
            case .failed(let error):
                if !(400...599).contains(error.status) { fatalError("status \(error.status)") }
                failed = true
            }
            if failed { break }
        }
    }
    if failed, parser.next() != nil { fatalError("an event after .failed") }
    return 0
}
