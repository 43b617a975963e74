import FlowrunExpression
import FlowrunGraph
import FlowrunRuntime
import FlowrunValue

/// External references (seed 000's ExternalReference): which remote record each local record is, and
/// what was last synced, kept in the state store.
public enum References {
    static let reference = Shape.object([
        Field("localId", .any, doc: "the local record's id"), Field("remoteId", .any, doc: "the provider's id"),
        Field("remoteVersion", .any, required: false, doc: "the remote record's version when last synced"),
        Field("localVersion", .any, required: false, doc: "the local record's version when last synced"),
        Field("hash", .any, required: false, doc: "a hash of the record as last synced"),
    ])

    public static let descriptor = ComponentDescriptor(
        name: "references",
        summary: "Maps local record ids to remote ids, versions and the last synced hash, in the state store.",
        doc: """
            A reference links (namespace, local id) to the remote id, the remote and local versions when the
            record was last synced, and the hash of what was synced; flows sharing a `namespace` share them
            (an inbound flow records the references an outbound flow then updates through). `lookup` takes
            `ids` (local ids, or remote ids with `by: remote`) and emits on `found` an object from each asked
            id (as text) to its reference, or null when there is none: one or a few statements per batch.
            `store` inserts or replaces references by local id (`references: [...]`, or one reference's fields
            on the message). Writes are fenced by the run's lease like other component writes; dry runs write
            nothing.
            """,
        isIO: true,
        settings: [
            SettingDescriptor(
                "namespace", .string, doc: "Which set of references (one per provider and kind of record).",
                example: "crm-contacts")
        ],
        ports: [
            .input(
                "lookup",
                .object([
                    Field("ids", .array(.any), doc: "the ids to look up"),
                    Field(
                        "by", .enumeration(ExternalReference.Side.allCases.map(\.rawValue)), required: false,
                        doc: "which side the ids are (default local)"),
                    .contextField,
                ]), doc: "Look references up, a batch at a time."),
            .input(
                "store",
                .openObject([
                    Field("references", .array(reference), required: false, doc: "references to store"),
                    Field("localId", .any, required: false), Field("remoteId", .any, required: false),
                    Field("remoteVersion", .any, required: false), Field("localVersion", .any, required: false),
                    Field("hash", .any, required: false), .contextField,
                ]), doc: "Insert or replace references by local id."),
            .output(
                "found", .object([Field("references", .anyObject), Field("context", .any)]),
                doc: "Each asked id (as text) mapped to its reference (`localId`, `remoteId`, ...) or null."),
        ],
        terminalInputs: ["store"],
        example: """
            refs:
              component: references
              settings: {namespace: crm-contacts}
            """,
        transfer: { t in
            if t.input("lookup").isNever { return ["found": .never] }
            return [
                "found": .object([Field("references", .anyObject), Field("context", t.context(of: "lookup"))])
            ]
        }
    )
}

extension References {
    final class Instance: Component {
        func receive(_ message: Value, on port: String, _ context: inout NodeContext) throws(NodeError) {
            guard let namespace = context.setting("namespace").stringValue, !namespace.isEmpty else {
                throw NodeError("references needs a `namespace`", code: "bad_input")
            }
            if port == "lookup" { return try lookup(message, namespace, &context) }
            // A dry run stores nothing (its answers carry no remote ids to store).
            guard !context.isDryRun else { return }
            var items: [Value] = message["references"].arrayValue ?? []
            if !message["localId"].isNull { items.append(message) }
            var refs: [ExternalReference] = []
            for item in items {
                guard let local = Self.id(item["localId"]), let remote = Self.id(item["remoteId"]) else {
                    throw NodeError(
                        "a reference needs a `localId` and a `remoteId` (text or number), got \(JSON.serialize(item).prefix(200))",
                        code: "bad_input")
                }
                refs.append(
                    ExternalReference(
                        localID: local, remoteID: remote, remoteVersion: Self.text(item["remoteVersion"]),
                        localVersion: Self.text(item["localVersion"]), hash: Self.text(item["hash"])))
            }
            guard !refs.isEmpty else { return }
            do {
                _ = try context.state.storeReferences(
                    flow: context.flowName, namespace: namespace, refs, fence: nil)
            } catch {
                throw NodeError("state store: \(error)", code: "state_store", retryable: true)
            }
        }

        func lookup(_ message: Value, _ namespace: String, _ context: inout NodeContext) throws(NodeError) {
            guard case .array(let asked) = message["ids"] else {
                throw NodeError("lookup needs `ids`, an array", code: "bad_input")
            }
            let ids = asked.compactMap(Self.id)
            let side = ExternalReference.Side(rawValue: message["by"].stringValue ?? "local") ?? .local
            let found: [ExternalReference]
            do { found = try context.state.references(namespace: namespace, ids: ids, by: side) } catch {
                throw NodeError("state store: \(error)", code: "state_store", retryable: true)
            }
            var byID = Value.Object()
            for id in ids { byID[id] = .null }
            for ref in found { byID[side == .local ? ref.localID : ref.remoteID] = ref.value }
            context.emit("found", ["references": .object(byID), "context": message["context"]])
        }

        /// Ids are text or integers; both are kept as text.
        static func id(_ v: Value) -> String? {
            switch v {
            case .string(let s) where !s.isEmpty: s
            case .int, .bigInt: v.interpolated
            default: nil
            }
        }

        static func text(_ v: Value) -> String? { v.isNull ? nil : v.interpolated }
    }

    public static let factory: ComponentFactory = { _ in Instance() }
}
