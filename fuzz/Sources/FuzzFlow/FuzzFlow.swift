import Flowrun
import FuzzSupport

/// The YAML loader plus the flow checker: any bytes give a report (diagnostics or a checked flow), never a
/// crash; rendering every diagnostic and the JSON form works too. The same bytes read as a `flowrun test`
/// file give a test file or diagnostics.
@main enum FuzzFlow {
    static func main() { Fuzzer.run(fuzz) }
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let report = FlowChecker.check(path: "fuzz.yaml", bytes: bytes, registry: .standard)
    for d in report.diagnostics.prefix(100) { _ = d.render() }
    _ = JSON.serialize(FlowFiles.json(report.diagnostics))
    if let text = String(validating: bytes, as: UTF8.self) {
        do throws(FlowTestFile.LoadError) { _ = try FlowTestFile.parse(path: "fuzz.test.yaml", text: text) } catch {
            for d in error.diagnostics.prefix(100) { _ = d.render() }
        }
    }
    return 0
}
