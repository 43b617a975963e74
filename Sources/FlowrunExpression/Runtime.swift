import FlowrunValue
import Synchronization

/// Everything an expression can read besides `$`: `vars`, `secrets`, `env`, `run`, `flow`, and the clock.
/// A class, so that handing it to every compiled closure costs one reference, not five values.
public final class Globals: Sendable {
    public let vars: Value
    public let secrets: Value
    public let env: Value
    public let run: Value
    public let flow: Value
    /// Current time in Unix nanoseconds; injected so that tests and golden files are deterministic.
    public let clock: @Sendable () -> Int

    public init(
        vars: Value = [:], secrets: Value = [:], env: Value = [:], run: Value = [:], flow: Value = [:],
        clock: @escaping @Sendable () -> Int = Globals.systemClock
    ) {
        self.vars = vars
        self.secrets = secrets
        self.env = env
        self.run = run
        self.flow = flow
        self.clock = clock
    }

    public static let systemClock: @Sendable () -> Int = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }

    /// The process environment as an object of strings.
    public static func processEnvironment() -> Value {
        var object = Value.Object()
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                object[String(text[..<eq])] = .string(String(text[text.index(after: eq)...]))
            }
            pointer += 1
        }
        return .object(object)
    }
}

/// A runtime error of an expression: never turned into a silent null. Carries the location of the
/// sub-expression that failed, so the node's `error` port can say exactly where.
public struct EvalError: Error, Sendable, CustomStringConvertible {
    public let code: DiagnosticCode
    public let message: String
    public let span: Span?

    public init(_ code: DiagnosticCode, _ message: String, at span: Span?) {
        self.code = code
        self.message = message
        self.span = span
    }

    public var description: String {
        if let span { return "\(span.description): \(message)" }
        return message
    }

    public var diagnostic: Diagnostic { .error(code, message, at: span) }
}

/// The slots of arrow-function parameters during one evaluation. Arrow functions never escape the
/// method call they are passed to, so one frame per evaluation holds every parameter of every arrow.
/// Slots are raw memory: a parameter read is then a load, with no array bounds, uniqueness or
/// exclusivity checks (each of those showed up in profiles of `.map` over 100 items).
final class Frame {
    let slots: UnsafeMutablePointer<Value>
    let count: Int
    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: .null, count: count)
    }
    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }
}

/// What a compiled closure receives: the message, the globals, the parameter frame, and the innermost
/// arrow function's first argument when it is an object (`item` in `items.map(item => ...)`).
///
/// The item is kept unpacked because reading a field through a frame slot copies the object out of
/// its `Value` (the enum keeps its tag in spare bits of the payload, so the payload is rebuilt, not
/// borrowed), retaining and releasing its buffers on every read; a field read of `env.item` borrows
/// it. The arrow function's call unpacks it once per item, as a hand-written loop does, and makes a
/// new `Env` for its body: the other fields are therefore unretained references (the message by
/// address), so that building one costs no reference counting. `CompiledExpression.evaluate` keeps
/// them alive for the whole evaluation, and no `Env` outlives it (arrow functions never escape).
struct Env {
    private let inputAddress: UnsafePointer<Value>
    unowned(unsafe) let globals: Globals
    unowned(unsafe) let frame: Frame?
    /// The innermost arrow function's first argument, when it is an object (read it only when
    /// `hasItem`: a field read then borrows it without unwrapping a copy).
    let item: Value.Object?
    let hasItem: Bool

    var input: Value {
        @inline(__always) _read { yield inputAddress.pointee }
    }

    init(input: UnsafePointer<Value>, globals: Globals, frame: Frame?) {
        self.inputAddress = input
        self.globals = globals
        self.frame = frame
        self.item = nil
        self.hasItem = false
    }

    /// The same message, globals and frame, with `item` as the innermost arrow function's argument.
    @inline(__always)
    init(_ outer: Env, item: consuming Value.Object) {
        inputAddress = outer.inputAddress
        globals = outer.globals
        frame = outer.frame
        self.item = .some(item)
        hasItem = true
    }

    /// The same message, globals and frame, for an arrow function whose first argument is not an object.
    @inline(__always)
    init(withoutItem outer: Env) {
        inputAddress = outer.inputAddress
        globals = outer.globals
        frame = outer.frame
        item = nil
        hasItem = false
    }
}

typealias Compiled = @Sendable (Env) throws(EvalError) -> Value

/// A compiled closure to keep in an array. An array stores a bare closure in its most general form,
/// so each call goes through a reabstraction thunk that copies (and retains) the whole `Env`; a struct
/// keeps the closure's direct calling convention.
struct Step {
    let run: Compiled
    init(_ run: @escaping Compiled) { self.run = run }
}

/// One link of a long operator chain: applies `op rhs` to the value so far.
struct ChainStep {
    typealias Apply = @Sendable (Value, Env) throws(EvalError) -> Value
    let apply: Apply
    init(_ apply: @escaping Apply) { self.apply = apply }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a field access last found its key. Objects that flow past one access usually share a layout
/// (the items of one API page, the results of one object literal), so checking the remembered position
/// first turns a linear search with string comparisons into one comparison of identical strings.
/// Relaxed atomics: a stale position is only a missed hint.
final class FieldCache: Sendable {
    private let position = Atomic<Int>(0)

    @inline(__always)
    func read(_ object: Value.Object, _ key: String) -> Value {
        let keys = object.keys
        let i = position.load(ordering: .relaxed)
        if i < keys.count, keys[i] == key { return object.values[i] }
        guard let found = keys.firstIndex(of: key) else { return .null }
        position.store(found, ordering: .relaxed)
        return object.values[found]
    }
}
