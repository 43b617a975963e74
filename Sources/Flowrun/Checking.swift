import FlowrunExpression
import FlowrunGraph
import FlowrunValue

#if canImport(Glibc)
    import Glibc
#endif

/// Checking flow files from disk, and rendering the results for people and for machines.
public enum FlowFiles {
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The file's bytes; reading stops once more than `limit` bytes were read (callers report the size).
    public static func read(_ path: String, limit: Int = YAMLLoader.maxBytes) throws(ReadError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw ReadError(description: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count {
                if ferror(file) != 0 {
                    throw ReadError(description: "cannot read \(path): it is a directory or unreadable")
                }
                break
            }
            if bytes.count > limit { break }
        }
        return bytes
    }

    public static func check(_ path: String, registry: ComponentRegistry = .standard) throws(ReadError)
        -> FlowChecker.Report
    {
        FlowChecker.check(path: path, bytes: try read(path), registry: registry)
    }

    /// Diagnostics as a JSON array for editors and CI.
    public static func json(_ diagnostics: [Diagnostic]) -> Value {
        .array(
            diagnostics.map { d in
                var o = Value.Object()
                o["file"] = d.span.map { .string($0.source.path) } ?? .null
                if let span = d.span {
                    let (line, column) = span.location
                    let (endLine, endColumn) = span.source.location(of: span.end)
                    o["line"] = .int(line)
                    o["column"] = .int(column)
                    o["endLine"] = .int(endLine)
                    o["endColumn"] = .int(endColumn)
                }
                o["severity"] = .string(d.severity.rawValue)
                o["code"] = .string(d.code.rawValue)
                o["message"] = .string(d.message)
                o["help"] = d.help.map { .string($0) } ?? .null
                return .object(o)
            })
    }
}
