import Flowrun
import FuzzSupport

/// JSON parser and serializer: any bytes either parse or fail with a ParseError (never a crash), and
/// whatever parses round-trips: serialize, parse again, serialize again gives the same value and text.
@main enum FuzzJSON {
    static func main() { Fuzzer.run(fuzz) }
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSON.parse(bytes: bytes) else { return 0 }
    let text = JSON.serialize(value)
    guard let again = try? JSON.parse(text) else { fatalError("serialized JSON does not parse: \(text)") }
    let textAgain = JSON.serialize(again)
    if textAgain != text { fatalError("round trip changed the text: \(text) -> \(textAgain)") }
    _ = JSON.pretty(value)
    return 0
}
