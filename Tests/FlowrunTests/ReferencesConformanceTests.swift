import FlowrunDatabase
import FlowrunTesting
import Foundation
import Testing

@testable import Flowrun
@testable import FlowrunRuntime

/// External references on every backend, through two handles (two processes sharing the store).
extension StateStoreConformanceTests {
    @Test(arguments: StoreBackend.available)
    func referencesAreLookedUpInBatchesBothWays(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        #expect(try store.references(namespace: "crm", ids: ["1"], by: .local).isEmpty)
        let many = (0..<1_200).map {
            ExternalReference(
                localID: "\($0)", remoteID: "r\($0)", remoteVersion: "v\($0)", localVersion: nil, hash: "h")
        }
        #expect(try store.storeReferences(flow: "push", namespace: "crm", many, fence: nil))
        // Another namespace does not see them.
        #expect(try other.references(namespace: "erp", ids: ["1"], by: .local).isEmpty)
        // More ids than one statement carries, some unknown.
        let asked = (0..<1_300).map { "\($0 * 2)" }
        let found = try other.references(namespace: "crm", ids: asked, by: .local)
        #expect(found.count == 600)
        #expect(Set(found.map(\.localID)) == Set((0..<600).map { "\($0 * 2)" }))
        let seven = try #require(try other.references(namespace: "crm", ids: ["r7"], by: .remote).first)
        #expect(seven == ExternalReference(localID: "7", remoteID: "r7", remoteVersion: "v7", hash: "h"))
        #expect(seven.value["remoteId"] == "r7" && seven.value["localVersion"] == nil)
    }

    @Test(arguments: StoreBackend.available)
    func storingAReferenceReplacesItByLocalID(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        let first = ExternalReference(localID: "1", remoteID: "a", remoteVersion: "1", localVersion: "t1", hash: "x")
        let moved = ExternalReference(localID: "1", remoteID: "b", remoteVersion: "2", localVersion: "t2", hash: "y")
        #expect(try store.storeReferences(flow: "f", namespace: "n", [first], fence: nil))
        #expect(try other.storeReferences(flow: "f", namespace: "n", [moved], fence: nil))
        #expect(try store.references(namespace: "n", ids: ["1"], by: .local) == [moved])
        #expect(try store.references(namespace: "n", ids: ["b"], by: .remote) == [moved])
        #expect(try store.references(namespace: "n", ids: ["a"], by: .remote).isEmpty)
    }

    @Test(arguments: StoreBackend.available)
    func storingReferencesIsFencedByTheRunsLease(_ backend: StoreBackend) throws {
        let (store, other, cleanUp) = try backend.open()
        defer { cleanUp() }
        let fence = Fence(key: "lock/", run: "ra", token: 3)
        let ref = ExternalReference(localID: "1", remoteID: "a")
        // No lease: nothing written.
        #expect(try !store.storeReferences(flow: "f", namespace: "n", [ref], fence: fence))
        #expect(try other.references(namespace: "n", ids: ["1"], by: .local).isEmpty)
        try store.set(flow: "f", key: "lock/", value: ["run": "ra", "fence": 3])
        #expect(try store.storeReferences(flow: "f", namespace: "n", [ref], fence: fence))
        #expect(try other.references(namespace: "n", ids: ["1"], by: .local) == [ref])
        // Taken over by another run: refused.
        try other.set(flow: "f", key: "lock/", value: ["run": "rb", "fence": 4])
        let later = ExternalReference(localID: "1", remoteID: "z")
        #expect(try !store.storeReferences(flow: "f", namespace: "n", [later], fence: fence))
        #expect(try other.references(namespace: "n", ids: ["1"], by: .local) == [ref])
    }
}
