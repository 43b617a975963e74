import FlowrunValue

/// The shape notation of flow files (an http-client's `responseSchema:`), written in YAML:
///
/// - a type name: `string`, `int`, `number`, `bool`, `null`, `any`, `object` (any object), `array` (any
///   array); a trailing `?` also allows null (`string?`);
/// - a mapping of field names to shapes: an object with exactly those fields (a key ending in `?` is an
///   optional field; a key `...` lets the object hold other fields too);
/// - a list of one shape: an array of it.
///
/// Example: `{data: [{id: string, email: string?}], has_more: bool, total?: int}`.
extension Shape {
    public struct NotationError: Error, CustomStringConvertible {
        public let description: String
    }

    public static let notationTypes = ["string", "int", "number", "bool", "null", "any", "object", "array"]

    public init(notation: Value) throws(NotationError) {
        self = try Self.parse(notation, depth: 0)
    }

    private static func parse(_ v: Value, depth: Int) throws(NotationError) -> Shape {
        guard depth < 32 else { throw NotationError(description: "the shape is nested more than 32 levels") }
        switch v {
        case .string(let text):
            let optional = text.hasSuffix("?")
            let name = optional ? String(text.dropLast()) : text
            let base: Shape
            switch name {
            case "string": base = .string
            case "int": base = .int
            case "number": base = .number
            case "bool": base = .bool
            case "null": base = .null
            case "any": base = .any
            case "object": base = .anyObject
            case "array": base = .array(.any)
            default:
                let hint = didYouMean(name, notationTypes).map { " (\($0))" } ?? ""
                throw NotationError(
                    description:
                        "unknown type '\(name)'\(hint): types are \(notationTypes.joined(separator: ", ")), a mapping or a list of one shape"
                )
            }
            return optional ? .optional(base) : base
        case .array(let items):
            guard items.count == 1 else {
                throw NotationError(description: "an array is written as a list of one shape, like [string]")
            }
            return .array(try parse(items[0], depth: depth + 1))
        case .object(let fields):
            var out: [Field] = []
            var open = false
            for (key, value) in fields {
                if key == "..." {
                    open = true
                    continue
                }
                let optional = key.hasSuffix("?")
                let name = optional ? String(key.dropLast()) : key
                out.append(Field(name, try parse(value, depth: depth + 1), required: !optional))
            }
            return .object(out, open: open)
        default:
            throw NotationError(description: "a shape is a type name, a mapping or a list, not \(v.interpolated)")
        }
    }
}
