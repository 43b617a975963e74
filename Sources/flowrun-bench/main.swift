// Micro-benchmarks of the expression engine, run by bench/run.sh in release mode. Each case
// evaluates one compiled template repeatedly on one core and reports ns per evaluation and
// evaluations per second (median of 5 rounds).
import FlowrunExpression
import FlowrunValue
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

func nanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

let users: [Value] = (0..<100).map { i in
    [
        "id": .string("u\(i)"), "email": .string("User\(i)@Example.COM"), "first_name": "Ann",
        "last_name": .string("Lee\(i)"),
        "active": .bool(i % 3 != 0), "updated_at": "2024-05-01T12:00:00Z",
    ]
}
let message: Value = [
    "page": 2, "pageSize": 100, "totalProcessed": 100,
    "response": ["statusCode": 200, "bodyJson": ["total": 250, "data": .array(users)]],
    "items": .array(users),
]
let globals = Globals(vars: ["pageSize": 100], clock: { 1_700_000_000_000_000_000 })

struct Case {
    let name: String
    let template: String
    let iterations: Int
}

let cases = [
    Case(name: "field arithmetic  $.page + 1", template: "<<$.page + 1>>", iterations: 20_000_000),
    Case(
        name: "seed totalPages   ceil(total / pageSize)", template: "<<ceil($.response.bodyJson.total / $.pageSize)>>",
        iterations: 10_000_000),
    Case(
        name: "seed hasMore      page < ceil(...)",
        template: "<<$.page < ceil($.response.bodyJson.total / $.pageSize)>>",
        iterations: 10_000_000),
    Case(
        name: "object literal    {...$, page: $.page + 1}",
        template: "<<{syncId: $.page, page: $.page + 1, done: false}>>",
        iterations: 5_000_000),
    Case(
        name: "users map (100 items, seed transform)",
        template: """
            <<$.items.map(item => ({
              external_id: item.id,
              email: lower(item.email),
              name: item.first_name + ' ' + item.last_name,
              status: item.active ? 'active' : 'inactive',
              metadata: JSON.stringify({source: 'crm', original_id: item.id, synced_at: RFC3339(now())}),
              updated_at: RFC3339(item.updated_at)
            }))>>
            """, iterations: 20_000),
    Case(
        name: "users map (100 items, 3 fields)",
        template: "<<$.items.map(u => ({id: u.id, name: u.first_name + ' ' + u.last_name, active: u.active}))>>",
        iterations: 100_000),
]

let filter = CommandLine.arguments.dropFirst().first
// A second argument overrides every case's iteration count (for runs under valgrind or perf).
let iterationsOverride = CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) }

/// Median ns per call of `body` over 5 rounds; `body` returns something derived from its result so
/// that the work cannot be optimised away.
func measure(_ iterations: Int, _ body: () -> Int) -> Double {
    var rounds: [Double] = []
    var sink = 0
    for _ in 0..<5 {
        let start = nanos()
        for _ in 0..<iterations { sink &+= body() }
        rounds.append(Double(nanos() - start) / Double(iterations))
    }
    rounds.sort()
    if sink == 42 { print("", terminator: "") }
    return rounds[2]
}

func report(_ name: String, _ ns: Double) {
    print("\(name) | \(String(format: "%.1f", ns)) | \(String(format: "%.0f", 1e9 / ns))")
}

print("case | ns/eval | evals/s")
print("---|---:|---:")
for c in cases where filter == nil || c.name.contains(filter!) {
    let (template, _, diagnostics) = ExpressionCompiler.compileTemplate(c.template)
    guard let template else {
        print("\(c.name): \(diagnostics.map { $0.render() })")
        continue
    }
    let ns = measure(iterationsOverride ?? c.iterations) {
        switch try! template.evaluate(message, globals) {
        case .array(let a): a.count
        case .int(let i): i
        default: 1
        }
    }
    report(c.name, ns)
}

// The users maps written by hand, without the expression engine: how fast the same work can go on
// this machine (Reference.swift). They must compute exactly what the engine computes.
for (engineCase, byHand) in [("3 fields", mapOverValue(message)), ("seed transform", seedTransformOverValue(message))] {
    let c = cases.first { $0.name.contains(engineCase) }!
    let result = try! ExpressionCompiler.compileTemplate(c.template).template!.evaluate(message, globals)
    guard result == byHand else { fatalError("the hand-written \(engineCase) map differs from the engine's") }
}
for c in referenceCases where filter == nil || c.name.contains(filter!) {
    report(c.name, measure(iterationsOverride ?? c.iterations, c.run))
}

// JSON parse of a 100-user page (13 KB), for reference.
if iterationsOverride != nil { exit(0) }
let page = Array(JSON.serialize(["data": .array(users), "total": 250, "page": 1]).utf8)
report(
    "JSON.parse of a 100-user page (\(page.count) bytes)",
    measure(2000) { try! JSON.parse(bytes: page).isNull ? 0 : 1 })
