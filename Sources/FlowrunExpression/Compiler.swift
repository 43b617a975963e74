import FlowrunValue
import OrderedCollections

/// A parsed, checked and compiled expression, ready to evaluate many times.
public final class CompiledExpression: Sendable {
    let run: Compiled
    let slotCount: Int
    public let span: Span

    init(run: @escaping Compiled, slotCount: Int, span: Span) {
        self.run = run
        self.slotCount = slotCount
        self.span = span
    }

    /// Evaluates against a message; runtime failures are `EvalError`s carrying the failing sub-expression's location.
    @inline(__always)
    public func evaluate(_ input: Value, _ globals: Globals) throws(EvalError) -> Value {
        let frame = slotCount > 0 ? Frame(count: slotCount) : nil
        // `Env` holds unretained references: the message, the globals and the frame live until the end.
        return try withUnsafePointer(to: input) { (address) throws(EvalError) -> Value in
            defer { withExtendedLifetime(frame) {} }
            return try run(Env(input: address, globals: globals, frame: frame))
        }
    }
}

/// Compiles a syntax tree into a tree of closures: names are resolved to globals or frame slots and
/// builtins to their implementations once, so evaluation does no parsing and no lookups by name.
struct Compiler {
    private var scope: [(name: String, slot: Int)] = []
    private var nextSlot = 0
    private(set) var maxSlots = 0
    /// The innermost arrow function's first parameter slot: its `param.field` reads use `Env.item`.
    private var itemSlot: Int?
    /// Slots read from the frame (a parameter used other than as `param.field` of the innermost arrow).
    private var framedSlots: Set<Int> = []

    static func compile(_ expr: Expr) throws(Diagnostic) -> CompiledExpression {
        var compiler = Compiler()
        let run = try compiler.compile(expr)
        return CompiledExpression(run: run, slotCount: compiler.maxSlots, span: expr.span)
    }

    private mutating func compile(_ expr: Expr) throws(Diagnostic) -> Compiled {
        let span = expr.span
        switch expr.kind {
        case .literal(let v):
            return { _ in v }
        case .input:
            return { env in env.input }
        case .name(let name):
            if let local = scope.last(where: { $0.name == name }) {
                let slot = local.slot
                framedSlots.insert(slot)
                return { env in env.frame!.slots[slot] }
            }
            switch name {
            case "vars": return { env in env.globals.vars }
            case "secrets": return { env in env.globals.secrets }
            case "env": return { env in env.globals.env }
            case "run": return { env in env.globals.run }
            case "flow": return { env in env.globals.flow }
            default: throw .error(.unknownIdentifier, "unknown name '\(name)'", at: span)
            }
        case .member(let base, let name, _):
            let safe = Self.nullSafe(expr)
            if case .name(let local) = base.kind, let slot = scope.last(where: { $0.name == local })?.slot {
                let cache = FieldCache()
                if slot == itemSlot {
                    // `item.field` of the innermost arrow's first parameter: borrow the unpacked object.
                    return { env throws(EvalError) in
                        if env.hasItem { return cache.read(env.item.unsafelyUnwrapped, name) }
                        return try Self.member(env.frame!.slots[slot], name, safe, span)
                    }
                }
                // `item.field` of an outer arrow's parameter: read the slot in place.
                framedSlots.insert(slot)
                return { env throws(EvalError) in
                    let slots = env.frame!.slots
                    if case .object(let o) = slots[slot] { return cache.read(o, name) }
                    return try Self.member(slots[slot], name, safe, span)
                }
            }
            if case .input = base.kind {
                if name == "secrets" { return { env in env.globals.secrets } }
                let cache = FieldCache()
                return { env throws(EvalError) in
                    if case .object(let o) = env.input { return cache.read(o, name) }
                    return try Self.member(env.input, name, safe, span)
                }
            }
            let b = try compile(base)
            let cache = FieldCache()
            return { env throws(EvalError) in
                let v = try b(env)
                if case .object(let o) = v { return cache.read(o, name) }
                return try Self.member(v, name, safe, span)
            }
        case .index(let base, let index, _):
            let safe = Self.nullSafe(expr)
            let b = try compile(base)
            let i = try compile(index)
            return { env throws(EvalError) in try Self.index(try b(env), try i(env), safe, span) }
        case .call(let name, let args):
            return try call(name, args, span)
        case .method(let receiver, let name, let args, _):
            let recv = try compile(receiver)
            let apply = try method(name, args, Self.nullSafe(expr), span)
            return { env throws(EvalError) in try apply(try recv(env), env) }
        case .access(let base, let links):
            return try access(base, links)
        case .unary(let op, let operand):
            let o = try compile(operand)
            switch op {
            case .not: return { env throws(EvalError) in .bool(!(try o(env).isTruthy)) }
            case .negate, .plus:
                let negate = op == .negate
                return { env throws(EvalError) in
                    switch try o(env) {
                    case .int(let i):
                        if negate, i == Int.min { throw EvalError(.overflow, "integer overflow in negation", at: span) }
                        return .int(negate ? -i : i)
                    case .double(let d): return .double(negate ? -d : d)
                    case .bigInt(let t):
                        guard negate else { return .bigInt(t) }
                        return Value.integer(t.hasPrefix("-") ? String(t.dropFirst()) : "-" + t)!
                    case let v:
                        throw EvalError(.typeError, "unary \(op.rawValue) needs a number, got \(v.typeName)", at: span)
                    }
                }
            }
        case .binary(let op, let lhs, let rhs):
            return try binary(op, try compile(lhs), rhs, span)
        case .chain(let first, let links):
            return try chain(first, links)
        case .conditional(let c, let t, let f):
            let cc = try compile(c), tt = try compile(t), ff = try compile(f)
            return { env throws(EvalError) in try cc(env).isTruthy ? try tt(env) : try ff(env) }
        case .conditionals(let branches, let otherwise):
            let compiled = try branches.map { (b: ExprKind.Branch) throws(Diagnostic) -> (Step, Step) in
                (Step(try compile(b.condition)), Step(try compile(b.then)))
            }
            let ff = try compile(otherwise)
            return { env throws(EvalError) in
                for (c, t) in compiled where try c.run(env).isTruthy { return try t.run(env) }
                return try ff(env)
            }
        case .array(let elements):
            var parts: [(Step, spread: Bool, Span)] = []
            for element in elements {
                switch element {
                case .value(let e): parts.append((Step(try compile(e)), false, e.span))
                case .spread(let e): parts.append((Step(try compile(e)), true, e.span))
                }
            }
            let items = parts
            return { env throws(EvalError) in
                var out: [Value] = []
                out.reserveCapacity(items.count)
                for (c, spread, s) in items {
                    let v = try c.run(env)
                    if !spread {
                        try Nesting.check(v, at: span)
                        out.append(v)
                        continue
                    }
                    guard case .array(let a) = v else {
                        throw EvalError(.typeError, "cannot spread \(v.typeName) into an array", at: s)
                    }
                    out.append(contentsOf: a)
                }
                return .array(out)
            }
        case .object(let entries):
            var parts: [(key: String?, Step, Span)] = []
            for entry in entries {
                switch entry {
                case .pair(let k, let e): parts.append((k, Step(try compile(e)), e.span))
                case .spread(let e): parts.append((nil, Step(try compile(e)), e.span))
                }
            }
            let items = parts
            let keys = items.compactMap(\.key)
            if keys.count == items.count, Set(keys).count == keys.count {
                // Static keys: the key set is built once; each evaluation only fills in the values.
                let keySet = OrderedSet(keys)
                let values = items.map { $0.1 }
                if let small = Self.smallObject(keySet, values, span) { return small }
                return { env throws(EvalError) in
                    var out = ContiguousArray<Value>()
                    out.reserveCapacity(values.count)
                    for i in values.indices {
                        let v = try values[i].run(env)
                        try Nesting.check(v, at: span)
                        out.append(v)
                    }
                    return .object(Value.Object(uncheckedUniqueKeys: keySet, values: out))
                }
            }
            return { env throws(EvalError) in
                var out = Value.Object(minimumCapacity: items.count)
                for (key, c, s) in items {
                    let v = try c.run(env)
                    if let key {
                        try Nesting.check(v, at: span)
                        out[key] = v
                        continue
                    }
                    switch v {
                    case .object(let o): for (k, x) in o { out[k] = x }
                    case .null: continue
                    default: throw EvalError(.typeError, "cannot spread \(v.typeName) into an object", at: s)
                    }
                }
                return .object(out)
            }
        case .arrow:
            throw .error(.misplacedArrow, "an arrow function can only be passed to a method such as .map", at: span)
        }
    }

    /// An object literal of up to six values with constant keys, its parts captured one by one: a
    /// closure called through another's capture costs no reference counting (one loaded from an
    /// array is retained and released around every call), and an array literal of the values is
    /// allocated at its size at once. Parts run, and are checked for nesting, in order.
    static func smallObject(_ keys: OrderedSet<String>, _ parts: [Step], _ span: Span) -> Compiled? {
        @Sendable @inline(__always)
        func part(_ c: Compiled, _ env: Env) throws(EvalError) -> Value {
            let v = try c(env)
            try Nesting.check(v, at: span)
            return v
        }
        switch parts.count {
        case 1:
            let a = parts[0].run
            return { env throws(EvalError) in
                .object(Value.Object(uncheckedUniqueKeys: keys, values: [try part(a, env)]))
            }
        case 2:
            let a = parts[0].run, b = parts[1].run
            return { env throws(EvalError) in
                let x = try part(a, env), y = try part(b, env)
                return .object(Value.Object(uncheckedUniqueKeys: keys, values: [x, y]))
            }
        case 3:
            let a = parts[0].run, b = parts[1].run, c = parts[2].run
            return { env throws(EvalError) in
                let x = try part(a, env), y = try part(b, env), z = try part(c, env)
                return .object(Value.Object(uncheckedUniqueKeys: keys, values: [x, y, z]))
            }
        case 4:
            let a = parts[0].run, b = parts[1].run, c = parts[2].run, d = parts[3].run
            return { env throws(EvalError) in
                let x = try part(a, env), y = try part(b, env), z = try part(c, env), w = try part(d, env)
                return .object(Value.Object(uncheckedUniqueKeys: keys, values: [x, y, z, w]))
            }
        case 5:
            let a = parts[0].run, b = parts[1].run, c = parts[2].run, d = parts[3].run, e = parts[4].run
            return { env throws(EvalError) in
                let x = try part(a, env), y = try part(b, env), z = try part(c, env), w = try part(d, env)
                let v = try part(e, env)
                return .object(Value.Object(uncheckedUniqueKeys: keys, values: [x, y, z, w, v]))
            }
        case 6:
            let a = parts[0].run, b = parts[1].run, c = parts[2].run, d = parts[3].run, e = parts[4].run,
                f = parts[5].run
            return { env throws(EvalError) in
                let x = try part(a, env), y = try part(b, env), z = try part(c, env), w = try part(d, env)
                let v = try part(e, env), u = try part(f, env)
                return .object(Value.Object(uncheckedUniqueKeys: keys, values: [x, y, z, w, v, u]))
            }
        default: return nil
        }
    }

    /// After a `?.` the rest of the chain reads null as null, as JavaScript's optional chaining short-circuits.
    static func nullSafe(_ expr: Expr) -> Bool {
        switch expr.kind {
        case .member(let b, _, let optional), .index(let b, _, let optional), .method(let b, _, _, let optional):
            return optional || nullSafe(b)
        case .access(let b, let links):
            return links.contains { $0.optional } || nullSafe(b)
        default: return false
        }
    }

    static func member(_ v: Value, _ name: String, _ safe: Bool, _ span: Span) throws(EvalError) -> Value {
        switch v {
        case .object(let o): return o[name] ?? .null
        case .null:
            if safe { return .null }
            throw EvalError(.typeError, "cannot read field '\(name)' of null (use ?. to allow null)", at: span)
        case .array(let a) where name == "length": return .int(a.count)
        case .string(let s) where name == "length": return .int(JSString.length(s))
        default: throw EvalError(.typeError, "cannot read field '\(name)' of \(v.typeName)", at: span)
        }
    }

    static func index(_ v: Value, _ i: Value, _ safe: Bool, _ span: Span) throws(EvalError) -> Value {
        switch (v, i) {
        case (.array, .bigInt), (.string, .bigInt): return .null  // beyond any index
        case (.array(let a), _):
            guard let n = i.intValue else {
                throw EvalError(.typeError, "an array index must be an int, got \(i.typeName)", at: span)
            }
            let k = n < 0 ? a.count + n : n
            return a.indices.contains(k) ? a[k] : .null
        case (.object(let o), .string(let key)): return o[key] ?? .null
        case (.object, _): throw EvalError(.typeError, "an object key must be a string, got \(i.typeName)", at: span)
        case (.string(let s), _):
            guard let n = i.intValue else {
                throw EvalError(.typeError, "a string index must be an int, got \(i.typeName)", at: span)
            }
            return JSString.unit(s, at: n < 0 ? JSString.length(s) + n : n).map { .string($0) } ?? .null
        case (.null, _):
            if safe { return .null }
            throw EvalError(.typeError, "cannot index null (use ?.[...] to allow null)", at: span)
        default: throw EvalError(.typeError, "cannot index \(v.typeName)", at: span)
        }
    }

    private mutating func call(_ name: String, _ args: [Expr], _ span: Span) throws(Diagnostic) -> Compiled {
        guard let spec = Builtins.byName[name] else {
            throw .error(.unknownFunction, "unknown function '\(name)'", at: span)
        }
        guard spec.arity.contains(args.count) else {
            throw .error(.arity, "\(name) takes \(Self.describe(spec.arity)), got \(args.count)", at: span)
        }
        if name == "regex", let constant = RegexOps.constant(args) {
            // A regex literal: compiled once, here; its value is a constant.
            switch constant {
            case .success(let regex):
                let value = RegexOps.value(regex)
                return { _ in value }
            case .failure(let failure): throw .error(failure.code, failure.message, at: span)
            }
        }
        let compiled = try args.map { (a: Expr) throws(Diagnostic) -> Step in Step(try compile(a)) }
        let impl = spec.impl
        switch compiled.count {
        case 0:
            return { env throws(EvalError) in
                try Self.wrap(span) { () throws(BuiltinFailure) in try impl([], env.globals) }
            }
        case 1:
            let a = compiled[0].run
            if let unary = spec.unary {
                return { env throws(EvalError) in
                    let x = try a(env)
                    return try Self.wrap(span) { () throws(BuiltinFailure) in try unary(x) }
                }
            }
            return { env throws(EvalError) in
                let x = try a(env)
                return try Self.wrap(span) { () throws(BuiltinFailure) in try impl([x], env.globals) }
            }
        default:
            return { env throws(EvalError) in
                var values: [Value] = []
                values.reserveCapacity(compiled.count)
                for c in compiled { values.append(try c.run(env)) }
                return try Self.wrap(span) { () throws(BuiltinFailure) in try impl(values, env.globals) }
            }
        }
    }

    @inline(__always)
    static func wrap(_ span: Span, _ body: () throws(BuiltinFailure) -> Value) throws(EvalError) -> Value {
        do throws(BuiltinFailure) { return try body() } catch { throw EvalError(error.code, error.message, at: span) }
    }

    static func describe(_ arity: ClosedRange<Int>) -> String {
        let noun = { (n: Int) in n == 1 ? "1 argument" : "\(n) arguments" }
        if arity.lowerBound == arity.upperBound { return noun(arity.lowerBound) }
        return "\(arity.lowerBound) to \(noun(arity.upperBound))"
    }

    /// A long postfix chain: one loop over the links, each applied to the value so far (the rules of
    /// the nested `member`, `index` and `method` nodes).
    private mutating func access(_ base: Expr, _ links: [ExprKind.Access]) throws(Diagnostic) -> Compiled {
        let start = try compile(base)
        var safe = Self.nullSafe(base)
        var steps: [ChainStep] = []
        steps.reserveCapacity(links.count)
        for link in links {
            safe = safe || link.optional
            let linkSafe = safe, span = link.span
            switch link.kind {
            case .member(let name, _):
                let cache = FieldCache()
                steps.append(
                    ChainStep { v, _ throws(EvalError) in
                        if case .object(let o) = v { return cache.read(o, name) }
                        return try Self.member(v, name, linkSafe, span)
                    })
            case .index(let index, _):
                let i = try compile(index)
                steps.append(ChainStep { v, env throws(EvalError) in try Self.index(v, try i(env), linkSafe, span) })
            case .method(let name, let args, _):
                steps.append(ChainStep(try method(name, args, linkSafe, span)))
            }
        }
        let all = steps
        return { env throws(EvalError) in
            var value = try start(env)
            for step in all { value = try step.apply(value, env) }
            return value
        }
    }

    /// The method call `.name(args)` applied to an evaluated receiver.
    private mutating func method(_ name: String, _ args: [Expr], _ safe: Bool, _ span: Span)
        throws(Diagnostic) -> ChainStep.Apply
    {
        guard let spec = Methods.byName[name] else {
            throw .error(.unknownMethod, "unknown method '\(name)'", at: span)
        }
        guard spec.arity.contains(args.count) else {
            throw .error(.arity, ".\(name) takes \(Self.describe(spec.arity)), got \(args.count)", at: span)
        }
        let receivers = spec.receivers
        let onArray = receivers.contains("array"), onString = receivers.contains("string")
        @Sendable func checkReceiver(_ v: Value) throws(EvalError) {
            switch v {
            case .array where onArray: return
            case .string where onString: return
            default: break
            }
            let kind = v.typeName
            guard receivers.contains(kind) else {
                throw EvalError(
                    .typeError,
                    "\(kind) has no method .\(name) (it is a method of \(receivers.joined(separator: " and ")))",
                    at: span)
            }
        }
        switch spec.impl {
        case .plain(let impl):
            let compiled = try args.map { (a: Expr) throws(Diagnostic) -> Step in Step(try compile(a)) }
            return { r, env throws(EvalError) in
                if safe, r.isNull { return .null }
                try checkReceiver(r)
                var values: [Value] = []
                for c in compiled { values.append(try c.run(env)) }
                return try Self.wrap(span) { () throws(BuiltinFailure) in try impl(r, values) }
            }
        case .higherOrder(let impl):
            guard case .arrow(let params, let body) = args[0].kind else {
                throw .error(.misplacedArrow, ".\(name) expects an arrow function such as x => ...", at: args[0].span)
            }
            guard let allowed = spec.lambdaParams, allowed.contains(params.count) || params.count < allowed.lowerBound
            else {
                throw .error(
                    .arity, "the function passed to .\(name) takes at most \(spec.lambdaParams!.upperBound) parameters",
                    at: args[0].span)
            }
            let slots = Array(nextSlot..<nextSlot + params.count)
            for (p, s) in zip(params, slots) { scope.append((p, s)) }
            nextSlot += params.count
            maxSlots = max(maxSlots, nextSlot)
            let outerItemSlot = itemSlot
            itemSlot = slots.first
            let compiledBody = try compile(body)
            itemSlot = outerItemSlot
            nextSlot -= params.count
            scope.removeLast(params.count)
            let readsFirstSlot = slots.first.map { framedSlots.contains($0) } ?? false
            for s in slots { framedSlots.remove(s) }
            let lambda = Lambda(body: compiledBody, slots: slots, readsFirstSlot: readsFirstSlot)
            let rest = try args.dropFirst().map { (a: Expr) throws(Diagnostic) -> Step in Step(try compile(a)) }
            return { r, env throws(EvalError) in
                if safe, r.isNull { return .null }
                try checkReceiver(r)
                var values: [Value] = []
                for c in rest { values.append(try c.run(env)) }
                do throws(EvalError) { return try impl(r, lambda, values, env) } catch {
                    throw error.span == nil ? EvalError(error.code, error.message, at: span) : error
                }
            }
        }
    }

    /// Chains up to this many links compile to nested closures, as separate `binary` nodes would (the
    /// fastest form); longer ones to one loop over steps, so evaluation depth does not grow with length.
    static let nestedChainLimit = 16

    private mutating func chain(_ first: Expr, _ links: [ExprKind.Link]) throws(Diagnostic) -> Compiled {
        var compiled = try compile(first)
        if links.count <= Self.nestedChainLimit {
            for link in links { compiled = try binary(link.op, compiled, link.rhs, link.span) }
            return compiled
        }
        let start = compiled
        let steps = try links.map { (link: ExprKind.Link) throws(Diagnostic) -> ChainStep in
            ChainStep(try binaryStep(link.op, try compile(link.rhs), link.span))
        }
        return { env throws(EvalError) in
            var value = try start(env)
            for step in steps { value = try step.apply(value, env) }
            return value
        }
    }

    /// `value op rhs` for one link of a long chain; the semantics of `binary` below, with the left
    /// operand already evaluated.
    private func binaryStep(_ op: BinaryOp, _ r: @escaping Compiled, _ span: Span) -> ChainStep.Apply {
        switch op {
        case .and: return { a, env throws(EvalError) in a.isTruthy ? try r(env) : a }
        case .or: return { a, env throws(EvalError) in a.isTruthy ? a : try r(env) }
        case .coalesce: return { a, env throws(EvalError) in a.isNull ? try r(env) : a }
        case .equal: return { a, env throws(EvalError) in .bool(a == (try r(env))) }
        case .notEqual: return { a, env throws(EvalError) in .bool(a != (try r(env))) }
        case .less, .lessEqual, .greater, .greaterEqual:
            return { a, env throws(EvalError) in try Self.compare(op, a, try r(env), span) }
        case .add:
            return { a, env throws(EvalError) in
                let b = try r(env)
                if case .string(let x) = a, case .string(let y) = b { return .string(x + y) }
                return try Arithmetic.add(a, b, span)
            }
        case .subtract, .multiply, .divide, .remainder:
            return { a, env throws(EvalError) in try Arithmetic.apply(op, a, try r(env), span) }
        }
    }

    @inline(__always)
    static func compare(_ op: BinaryOp, _ a: Value, _ b: Value, _ span: Span) throws(EvalError) -> Value {
        guard let order = Builtins.compare(a, b) else {
            throw EvalError(
                .typeError, "cannot compare \(a.typeName) with \(b.typeName) using \(op.rawValue)", at: span)
        }
        switch op {
        case .less: return .bool(order < 0)
        case .lessEqual: return .bool(order <= 0)
        case .greater: return .bool(order > 0)
        default: return .bool(order >= 0)
        }
    }

    private mutating func binary(_ op: BinaryOp, _ l: @escaping Compiled, _ rhs: Expr, _ span: Span)
        throws(Diagnostic) -> Compiled
    {
        let r = try compile(rhs)
        switch op {
        case .and:
            return { env throws(EvalError) in
                let a = try l(env); return a.isTruthy ? try r(env) : a
            }
        case .or:
            return { env throws(EvalError) in
                let a = try l(env); return a.isTruthy ? a : try r(env)
            }
        case .coalesce:
            return { env throws(EvalError) in
                let a = try l(env); return a.isNull ? try r(env) : a
            }
        case .equal: return { env throws(EvalError) in .bool(try l(env) == (try r(env))) }
        case .notEqual: return { env throws(EvalError) in .bool(try l(env) != (try r(env))) }
        case .less, .lessEqual, .greater, .greaterEqual:
            return { env throws(EvalError) in try Self.compare(op, try l(env), try r(env), span) }
        case .add:
            if case .literal(.int(let k)) = rhs.kind {
                return { env throws(EvalError) in
                    let a = try l(env)
                    if case .int(let x) = a {
                        let (s, o) = x.addingReportingOverflow(k)
                        if !o { return .int(s) }
                    }
                    return try Arithmetic.add(a, .int(k), span)
                }
            }
            return { env throws(EvalError) in
                let a = try l(env), b = try r(env)
                // Concatenation first: matching both cases directly avoids copying the pair into a tuple.
                if case .string(let x) = a, case .string(let y) = b { return .string(x + y) }
                return try Arithmetic.add(a, b, span)
            }
        case .subtract, .multiply, .divide, .remainder:
            return { env throws(EvalError) in try Arithmetic.apply(op, try l(env), try r(env), span) }
        }
    }
}

/// The arithmetic operators' semantics: int stays int unless it overflows (an error) or a division
/// is inexact (a float); ints and floats mix as floats; `+` also concatenates strings.
enum Arithmetic {
    static func add(_ a: Value, _ b: Value, _ span: Span) throws(EvalError) -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (s, o) = x.addingReportingOverflow(y)
            if o { throw EvalError(.overflow, "integer overflow in +", at: span) }
            return .int(s)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.string(let x), .int), (.string(let x), .bigInt), (.string(let x), .double), (.string(let x), .bool):
            return .string(x + b.interpolated)
        case (.int, .string(let y)), (.bigInt, .string(let y)), (.double, .string(let y)), (.bool, .string(let y)):
            return .string(a.interpolated + y)
        default:
            if let x = a.doubleValue, let y = b.doubleValue { return try finite(x + y, span) }
            throw inexact("+", a, b, span) ?? mismatch("+", a, b, span)
        }
    }

    static func apply(_ op: BinaryOp, _ a: Value, _ b: Value, _ span: Span) throws(EvalError) -> Value {
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case .subtract:
                let (s, o) = x.subtractingReportingOverflow(y)
                if o { throw EvalError(.overflow, "integer overflow in -", at: span) }
                return .int(s)
            case .multiply:
                let (s, o) = x.multipliedReportingOverflow(by: y)
                if o { throw EvalError(.overflow, "integer overflow in *", at: span) }
                return .int(s)
            case .divide:
                if y == 0 { throw EvalError(.divisionByZero, "division by zero", at: span) }
                if y == -1, x == Int.min { throw EvalError(.overflow, "integer overflow in /", at: span) }
                return x % y == 0 ? .int(x / y) : .double(Double(x) / Double(y))
            default:
                if y == 0 { throw EvalError(.divisionByZero, "remainder by zero", at: span) }
                if y == -1 { return .int(0) }
                return .int(x % y)
            }
        }
        guard let x = a.doubleValue, let y = b.doubleValue else {
            throw inexact(op.rawValue, a, b, span) ?? mismatch(op.rawValue, a, b, span)
        }
        switch op {
        case .subtract: return try finite(x - y, span)
        case .multiply: return try finite(x * y, span)
        case .divide:
            if y == 0 { throw EvalError(.divisionByZero, "division by zero", at: span) }
            return try finite(x / y, span)
        default:
            if y == 0 { throw EvalError(.divisionByZero, "remainder by zero", at: span) }
            return try finite(x.truncatingRemainder(dividingBy: y), span)
        }
    }

    static func finite(_ d: Double, _ span: Span) throws(EvalError) -> Value {
        guard d.isFinite else { throw EvalError(.overflow, "arithmetic result is not a finite number", at: span) }
        return .double(d)
    }

    /// Arithmetic with an integer beyond 64 bits would round it: an error, never a silent rounding.
    static func inexact(_ op: String, _ a: Value, _ b: Value, _ span: Span) -> EvalError? {
        let big: String
        switch (a, b) {
        case (.bigInt(let t), .int), (.bigInt(let t), .bigInt), (.bigInt(let t), .double), (.int, .bigInt(let t)),
            (.double, .bigInt(let t)):
            big = t
        default: return nil
        }
        return EvalError(.overflow, "integer overflow in \(op): \(big) is beyond the 64-bit int range", at: span)
    }

    static func mismatch(_ op: String, _ a: Value, _ b: Value, _ span: Span) -> EvalError {
        let hint = a.isNull || b.isNull ? " (use ?? to give null a default)" : ""
        return EvalError(.typeError, "cannot apply \(op) to \(a.typeName) and \(b.typeName)\(hint)", at: span)
    }
}
