/// A stable diagnostic code. Codes never change meaning; `flowrun docs generate` lists them all in
/// `components/diagnostics.md` with the explanation written here.
public struct DiagnosticCode: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public let title: String
    public let explanation: String

    public var description: String { rawValue }

    public static func == (a: DiagnosticCode, b: DiagnosticCode) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    init(_ rawValue: String, _ title: String, _ explanation: String) {
        self.rawValue = rawValue
        self.title = title
        self.explanation = explanation
    }

    // MARK: Expressions (E1xx)
    public static let syntax = DiagnosticCode(
        "E100", "expression syntax error", "The text inside `<<...>>` is not a valid expression.")
    public static let unterminatedTemplate = DiagnosticCode(
        "E101", "unterminated template", "A `<<` has no matching `>>`. Write `\\<<` for a literal `<<`.")
    public static let unknownIdentifier = DiagnosticCode(
        "E102", "unknown name",
        "A name is neither an arrow-function parameter nor one of `$ vars secrets env run flow JSON`.")
    public static let unknownFunction = DiagnosticCode(
        "E103", "unknown function", "The called function is not a builtin; `flowrun eval` lists them in its help.")
    public static let arity = DiagnosticCode(
        "E104", "wrong number of arguments", "A function or method was called with too few or too many arguments.")
    public static let unknownMethod = DiagnosticCode(
        "E105", "unknown method", "The method is not one of the array or string methods of the expression language.")
    public static let methodOnType = DiagnosticCode(
        "E106", "method not available on this type",
        "The receiver's type is known (from port schemas or literals) and has no such method, e.g. `.map` on a string.")
    public static let noSuchField = DiagnosticCode(
        "E107", "field does not exist",
        "The message shape is known from the port schemas and the edges, and it cannot have this field. "
            + "Reads on the left of `??`, `||`, `&&`, after `?.`, in a condition or under `!` are allowed "
            + "to probe for missing fields.")
    public static let operandType = DiagnosticCode(
        "E108", "operator applied to the wrong type",
        "An operand's type is known to be one the operator rejects, e.g. `'a' - 1` or `null * 2`.")
    public static let tooDeep = DiagnosticCode(
        "E109", "expression too deeply nested",
        "Parentheses, array and object literals, calls, unary operators, arrow functions and conditionals may "
            + "nest at most 100 levels deep. Chains of binary operators (`1 + 1 + ...`) and of postfix operations "
            + "(`a.b[0].c()...`) are kept flat and may be of any length.")
    public static let numberRange = DiagnosticCode(
        "E110", "number out of range", "An integer literal does not fit in 64 bits, or a number is not finite.")
    public static let misplacedArrow = DiagnosticCode(
        "E111", "arrow function in the wrong place",
        "Arrow functions (`x => ...`) may only be passed to methods such as `.map`, `.filter` and `.reduce`.")
    public static let invalidRegex = DiagnosticCode(
        "E119", "invalid regular expression",
        "A regular expression's pattern or flags are not valid (flags are g i m s u y, each at most once). "
            + "A regex literal or a `regex(...)` of constant strings is reported when the flow loads; a pattern "
            + "built at run time is an error of the node evaluating it.")
    // MARK: Runtime errors of expressions (E12x), delivered on the target node's error port
    public static let typeError = DiagnosticCode(
        "E120", "runtime type error", "A value had a type the operation does not accept, e.g. `null + 1`.")
    public static let divisionByZero = DiagnosticCode(
        "E121", "division by zero", "The right operand of `/` or `%` was zero.")
    public static let badArgument = DiagnosticCode(
        "E122", "invalid argument",
        "A builtin rejected its argument, e.g. `JSON.parse` of text that is not JSON or `parseTime` of a bad time.")
    public static let overflow = DiagnosticCode(
        "E123", "integer overflow",
        "An int result does not fit in 64 bits: arithmetic, a float or time converted to an int, or arithmetic on an integer beyond 64 bits."
    )
    public static let valueTooDeep = DiagnosticCode(
        "E124", "value nested too deeply",
        "A value would nest more than 512 arrays and objects inside each other, e.g. a `reduce` that wraps its "
            + "accumulator in a new array on every step. JSON input stops at the same depth.")
    public static let regexLimit = DiagnosticCode(
        "E129", "regular expression limit",
        "A regular expression match gave up after 1,000,000 backtracking steps (or 1,000,000 levels of nesting, or "
            + "64 MiB): the pattern backtracks catastrophically on this subject, e.g. `(a+)+$` on `'aaaa...b'`. "
            + "Make the pattern unambiguous (`a+$`).")

    // MARK: Flow file structure (E2xx)
    public static let yamlSyntax = DiagnosticCode(
        "E200", "YAML syntax error", "The file is not valid YAML (after `<<...>>` templates were set aside).")
    public static let invalidUTF8 = DiagnosticCode("E201", "invalid UTF-8", "Flow files must be UTF-8 text.")
    public static let duplicateKey = DiagnosticCode(
        "E202", "duplicate key", "A mapping has the same key twice; YAML would silently keep only one of them.")
    public static let nestingTooDeep = DiagnosticCode(
        "E203", "nesting too deep or file too large",
        "Flow files may nest at most 64 levels and be at most 4 MiB; deeper input is rejected before parsing.")
    public static let tabIndent = DiagnosticCode(
        "E204", "tab used for indentation", "YAML forbids tabs in indentation; use spaces.")
    public static let aliasBomb = DiagnosticCode(
        "E205", "alias expansion too large",
        "YAML anchors and aliases expand to more than 100,000 nodes (an alias bomb).")
    public static let structure = DiagnosticCode(
        "E206", "unexpected structure",
        "A part of the flow file has the wrong YAML kind, e.g. `nodes:` is a list instead of a mapping.")
    public static let unknownKey = DiagnosticCode(
        "E207", "unknown key", "A key is not part of the flow format at this place.")
    public static let invalidName = DiagnosticCode(
        "E208", "invalid name",
        "Flow names are `[a-z0-9-]+`; node names are `[a-z][a-z0-9-]*`; var and secret names are identifiers.")
    public static let missingKey = DiagnosticCode(
        "E209", "missing required key", "A required key (`flow`, `nodes`, an edge's `from`/`to`, ...) is missing.")
    public static let invalidValue = DiagnosticCode(
        "E210", "invalid value",
        "A value has the right type but is not acceptable, e.g. a malformed duration, or a number outside its "
            + "range such as `run.retries: 50` (components/run-policy.md lists the ranges of `run:`).")

    // MARK: Graph (E3xx)
    public static let unknownComponent = DiagnosticCode(
        "E300", "unknown component", "A node's `component:` is not in the registry (`flowrun components` lists them).")
    public static let unknownSetting = DiagnosticCode(
        "E301", "unknown setting", "A node sets a setting its component does not declare.")
    public static let missingSetting = DiagnosticCode(
        "E302", "missing required setting", "A node does not set a setting its component requires.")
    public static let settingType = DiagnosticCode(
        "E303", "wrong setting type", "A setting's value does not have the declared type.")
    public static let unknownNode = DiagnosticCode(
        "E304", "unknown node", "An edge names a node that the flow does not define.")
    public static let unknownPort = DiagnosticCode(
        "E305", "unknown port", "An edge names a port the node's component does not have.")
    public static let portDirection = DiagnosticCode(
        "E306", "edge in the wrong direction",
        "An edge's `from` must be an output port and its `to` an input port.")
    public static let missingField = DiagnosticCode(
        "E307", "missing required field",
        "The message built for the target port lacks a field that the port requires.")
    public static let unknownField = DiagnosticCode(
        "E308", "unknown field on port",
        "The message built for the target port has a field that the port does not accept.")
    public static let fieldType = DiagnosticCode(
        "E309", "wrong field type", "A field of the message built for the target port has the wrong type.")
    public static let endpoint = DiagnosticCode(
        "E310", "malformed edge endpoint", "`from` and `to` are written `node.port`.")
    public static let unknownConnection = DiagnosticCode(
        "E311", "unknown connection", "A node's `connection:` names no entry of the flow's `connections:`.")
    public static let connectionKind = DiagnosticCode(
        "E312", "wrong connection kind",
        "A node uses a connection of another kind (an http connection on a database node), or its component uses none.")

    // MARK: Warnings (W4xx); a flow with warnings still runs
    public static let unreachable = DiagnosticCode(
        "W400", "unreachable node", "No trigger (a node with no inputs) leads to this node, so it never runs.")
    public static let unhandledError = DiagnosticCode(
        "W401", "unconnected error port on an I/O node",
        "Errors of this I/O node are recorded on the run and the message is dropped; connect its `error` port to handle them."
    )
    public static let endlessCycle = DiagnosticCode(
        "W402", "cycle with no exit",
        "A loop has no router or conditional on it, so nothing ends it but the run's message budget.")

    public static let headerCase = DiagnosticCode(
        "W403", "header name not lower-case",
        "http-client response headers are stored by lower-case name (`$.response.headers.link`); a template "
            + "reading another spelling (`Link`) reads null, which can end a pagination loop early.")

    public static let all: [DiagnosticCode] = [
        .syntax, .unterminatedTemplate, .unknownIdentifier, .unknownFunction, .arity, .unknownMethod, .methodOnType,
        .noSuchField, .operandType, .tooDeep, .numberRange, .misplacedArrow, .invalidRegex, .typeError, .divisionByZero,
        .badArgument, .overflow, .valueTooDeep, .regexLimit, .yamlSyntax, .invalidUTF8, .duplicateKey, .nestingTooDeep,
        .tabIndent,
        .aliasBomb,
        .structure, .unknownKey, .invalidName, .missingKey, .invalidValue, .unknownComponent, .unknownSetting,
        .missingSetting, .settingType, .unknownNode, .unknownPort, .portDirection, .missingField, .unknownField,
        .fieldType, .endpoint, .unknownConnection, .connectionKind, .unreachable, .unhandledError, .endlessCycle,
        .headerCase,
    ]
}
