import ArgumentParser
import Flowrun

#if canImport(Glibc)
    import Glibc
#endif

/// `--input`: JSON given inline or as `@file`, read whole and checked as UTF-8 before it is parsed.
///
/// Swift decodes command-line arguments with replacement characters, so the inline text is checked in its
/// raw bytes (`CommandLine.unsafeArgv`); invalid UTF-8 anywhere is a usage error naming the byte offset.
enum InputArgument {
    /// Files larger than this are refused (a clear error instead of exhausting memory).
    static let maxFileBytes = 1 << 30

    static func parse(_ argument: String, option: String = "--input") throws -> Value {
        var bytes: [UInt8]
        var origin: String
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            do throws(FlowFiles.ReadError) { bytes = try FlowFiles.read(path, limit: maxFileBytes) } catch {
                throw UsageError("\(option): \(error.description)")
            }
            if bytes.count > maxFileBytes {
                throw UsageError("\(option): \(path) is larger than \(maxFileBytes >> 20) MiB")
            }
            origin = path
        } else {
            bytes = rawArgument(matching: argument, option: option) ?? Array(argument.utf8)
            origin = "the argument"
        }
        if let offset = firstInvalidUTF8(bytes) {
            throw UsageError("\(option): \(origin) is not valid UTF-8 (invalid byte at offset \(offset))")
        }
        do throws(JSON.ParseError) { return try JSON.parse(bytes: bytes) } catch {
            throw UsageError("\(option): \(error.description)")
        }
    }

    /// The bytes of the command-line argument that Swift decoded as `text` (after `option` or as
    /// `option=text`), when they differ from its UTF-8 (they held invalid UTF-8).
    static func rawArgument(matching text: String, option: String) -> [UInt8]? {
        let argv = (0..<Int(CommandLine.argc)).compactMap { i in
            CommandLine.unsafeArgv[i].map {
                Array(UnsafeBufferPointer(start: $0, count: strlen($0))).map(UInt8.init(bitPattern:))
            }
        }
        let prefix = Array((option + "=").utf8)
        for raw in argv {
            let value = raw.starts(with: prefix) ? Array(raw.dropFirst(prefix.count)) : raw
            if String(decoding: value, as: UTF8.self) == text, firstInvalidUTF8(value) != nil { return value }
        }
        return nil
    }

    /// The byte offset of the first byte that is not part of a valid UTF-8 sequence; nil when all are.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        // The standard library's validation is fast; the offset is looked for only when it fails.
        if String(validating: bytes, as: UTF8.self) != nil { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
