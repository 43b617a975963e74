// Hand-written versions of the benchmark's users maps, with no expression engine in the way. They
// measure the floor the engine is compared with (bench/README.md): what the same work costs on this
// machine over `Value` as it is, and (for the 3-field map) over a leaner object representation.
import FlowrunExpression
import FlowrunValue
import OrderedCollections

let referenceCases: [(name: String, iterations: Int, run: @Sendable () -> Int)] = [
    ("by hand, no engine: 3-field map over Value", 100_000, { mapOverValue(message).arrayValue!.count }),
    ("by hand, no engine: seed transform over Value", 20_000, { seedTransformOverValue(message).arrayValue!.count }),
    (
        "by hand, no engine: 3-field map over one-allocation objects", 100_000,
        { if case .array(let a) = mapOverLeanObjects(leanMessage, leanOutputKeys) { a.count } else { 0 } }
    ),
]

/// The map over `Value`, whose objects are `OrderedDictionary`s, as the engine builds it: one
/// object per item from a shared key set and a values array.
@inline(never)
func mapOverValue(_ input: Value) -> Value {
    guard case .array(let items) = input["items"] else { return .null }
    let keys: OrderedSet<String> = ["id", "name", "active"]
    var out: [Value] = []
    out.reserveCapacity(items.count)
    for item in items {
        guard case .object(let u) = item, case .string(let first) = u["first_name"] ?? .null,
            case .string(let last) = u["last_name"] ?? .null
        else { continue }
        let values: ContiguousArray<Value> = [u["id"] ?? .null, .string(first + " " + last), u["active"] ?? .null]
        out.append(.object(Value.Object(uncheckedUniqueKeys: keys, values: values)))
    }
    return .array(out)
}

/// The seed's transform with the library calls its builtins make (`lowercased`, `Time`, `JSON`).
@inline(never)
func seedTransformOverValue(_ input: Value) -> Value {
    guard case .array(let items) = input["items"] else { return .null }
    let keys: OrderedSet<String> = ["external_id", "email", "name", "status", "metadata", "updated_at"]
    let metadataKeys: OrderedSet<String> = ["source", "original_id", "synced_at"]
    var out: [Value] = []
    out.reserveCapacity(items.count)
    for item in items {
        guard case .object(let u) = item, case .string(let email) = u["email"] ?? .null,
            case .string(let first) = u["first_name"] ?? .null, case .string(let last) = u["last_name"] ?? .null,
            case .string(let updated) = u["updated_at"] ?? .null, let updatedAt = Time.parse(updated)
        else { continue }
        let id = u["id"] ?? .null
        let metadata: ContiguousArray<Value> = [
            "crm", id, .string(Time.rfc3339(nanos: globals.clock())),
        ]
        let values: ContiguousArray<Value> = [
            id, .string(email.lowercased()), .string(first + " " + last),
            .string((u["active"] ?? .null).isTruthy ? "active" : "inactive"),
            .string(JSON.serialize(.object(Value.Object(uncheckedUniqueKeys: metadataKeys, values: metadata)))),
            .string(Time.rfc3339(nanos: updatedAt)),
        ]
        out.append(.object(Value.Object(uncheckedUniqueKeys: keys, values: values)))
    }
    return .array(out)
}

/// A value type like `Value` whose objects are one allocation each: a shared key list (objects
/// parsed from one API page or built by one literal have the same keys) and the values stored
/// inline. Field reads remember where they last found their key.
enum LeanValue: Sendable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([LeanValue]), object(LeanObject)
}

final class LeanKeys: Sendable {
    let keys: [String]
    init(_ keys: [String]) { self.keys = keys }
}

struct LeanHeader {
    let keys: LeanKeys
    let count: Int
}

final class LeanStorage: ManagedBuffer<LeanHeader, LeanValue> {
    deinit { _ = withUnsafeMutablePointers { header, values in values.deinitialize(count: header.pointee.count) } }
}

/// Its storage is immutable once created, so it may be shared between threads like `Value`'s buffers.
struct LeanObject: @unchecked Sendable {
    let storage: LeanStorage

    init(_ keys: LeanKeys, _ values: LeanValue...) {
        let created = LeanStorage.create(minimumCapacity: values.count) { _ in
            LeanHeader(keys: keys, count: values.count)
        }
        storage = unsafeDowncast(created, to: LeanStorage.self)
        storage.withUnsafeMutablePointerToElements { slots in
            for (i, v) in values.enumerated() { (slots + i).initialize(to: v) }
        }
    }

    @inline(__always)
    func field(_ key: String, _ hint: inout Int) -> LeanValue {
        storage.withUnsafeMutablePointers { header, values in
            let keys = header.pointee.keys.keys
            if hint < keys.count, keys[hint] == key { return values[hint] }
            guard let i = keys.firstIndex(of: key) else { return .null }
            hint = i
            return values[i]
        }
    }
}

let leanMessage: LeanValue = {
    let userKeys = LeanKeys(["id", "email", "first_name", "last_name", "active", "updated_at"])
    let items: [LeanValue] = (0..<100).map { i in
        .object(
            LeanObject(
                userKeys, .string("u\(i)"), .string("User\(i)@Example.COM"), .string("Ann"), .string("Lee\(i)"),
                .bool(i % 3 != 0), .string("2024-05-01T12:00:00Z")))
    }
    return .object(LeanObject(LeanKeys(["items"]), .array(items)))
}()
let leanOutputKeys = LeanKeys(["id", "name", "active"])

@inline(never)
func mapOverLeanObjects(_ input: LeanValue, _ outputKeys: LeanKeys) -> LeanValue {
    var hints = (0, 0, 0, 0, 0)
    guard case .object(let m) = input, case .array(let items) = m.field("items", &hints.0) else { return .null }
    var out: [LeanValue] = []
    out.reserveCapacity(items.count)
    for item in items {
        guard case .object(let u) = item, case .string(let first) = u.field("first_name", &hints.1),
            case .string(let last) = u.field("last_name", &hints.2)
        else { continue }
        out.append(
            .object(
                LeanObject(
                    outputKeys, u.field("id", &hints.3), .string(first + " " + last), u.field("active", &hints.4))))
    }
    return .array(out)
}
