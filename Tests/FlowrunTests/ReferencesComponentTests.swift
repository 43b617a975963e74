import FlowrunTesting
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// The `references` component: stores references by local id, answers batch lookups both ways (every
/// asked id present, null when unknown), writes nothing in a dry run, and refuses bad input clearly.
@Suite struct ReferencesComponentTests {
    static let flow = """
        flow: refs
        nodes:
          refs: {component: references, settings: {namespace: crm}}
          found: {component: modify}
          failed: {component: modify}
        edges:
          - {from: refs.found, to: found.in}
          - {from: refs.error, to: failed.in}
        """

    func run(_ input: Value, store: MemoryStore, dryRun: Bool = false) throws -> FlowHarness {
        let h = try FlowHarness(Self.flow, store: store, dryRun: dryRun)
        if !input["store"].isNull { _ = h.run(input: input["store"], entry: "refs", port: "store") }
        if !input["lookup"].isNull { _ = h.run(input: input["lookup"], entry: "refs", port: "lookup") }
        return h
    }

    @Test func storesAndLooksUpBothWays() throws {
        let store = MemoryStore()
        _ = try run(
            [
                "store": [
                    "references": [
                        ["localId": 1, "remoteId": "c1", "remoteVersion": "2030-01-01T00:00:01Z", "hash": "h1"],
                        ["localId": 2, "remoteId": "c2"],
                    ]
                ],
                "lookup": ["ids": [1, 2, 3]],
            ], store: store)
        let h = try run(
            ["store": ["localId": 3, "remoteId": "c3", "localVersion": "t3"], "lookup": ["ids": [1, 2, 3, 4]]],
            store: store)
        let found = try #require(h.messages("found.out").first)["references"]
        #expect(found["1"]["remoteId"] == "c1" && found["1"]["hash"] == "h1" && found["1"]["localVersion"] == nil)
        #expect(found["3"]["localVersion"] == "t3")
        #expect(found.objectValue?.keys.elementsEqual(["1", "2", "3", "4"]) == true && found["4"] == nil)
        let byRemote = try run(["lookup": ["ids": ["c2", "zz"], "by": "remote"]], store: store)
        let remote = try #require(byRemote.messages("found.out").first)["references"]
        #expect(remote["c2"]["localId"] == "2" && remote["zz"] == nil)
    }

    @Test func aDryRunStoresNothing() throws {
        let store = MemoryStore()
        let h = try run(
            ["store": ["localId": 1, "remoteId": nil], "lookup": ["ids": [1]]], store: store, dryRun: true)
        #expect(h.messages("failed.out").isEmpty)
        #expect(try store.references(namespace: "crm", ids: ["1"], by: .local).isEmpty)
    }

    @Test func aReferenceWithoutIdsIsAClearError() throws {
        let h = try run(["store": ["localId": 1, "remoteId": nil]], store: MemoryStore())
        let error = try #require(h.messages("failed.out").first)["error"]
        #expect(error["code"] == "bad_input")
        #expect(error["message"].stringValue?.contains("needs a `localId` and a `remoteId`") == true)
    }
}
