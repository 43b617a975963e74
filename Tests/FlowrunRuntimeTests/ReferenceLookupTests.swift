import FlowrunValue
import Testing

@testable import FlowrunRuntime

/// `ExternalReference.lookUp`, the one batch lookup both SQL stores run (SQLiteStore with `?`,
/// PostgresStore with `$n`): the statements it makes and what it reads back. The stores themselves are
/// covered by ReferencesConformanceTests on every backend.
@Suite struct ReferenceLookupTests {
    /// Every statement asked for, with its parameters, answering one row per id.
    final class Recorder {
        var statements: [(sql: String, parameters: [Value])] = []

        func query(_ sql: String, _ parameters: [Value]) -> [[Value]] {
            statements.append((sql, parameters))
            return parameters.dropFirst().map { [$0, .string("r-\($0.stringValue ?? "")"), nil, nil, "h"] }
        }
    }

    @Test func idsAreLookedUpInChunksWithPositionalPlaceholders() {
        let recorder = Recorder()
        let found = ExternalReference.lookUp(
            namespace: "crm", ids: ["1", "2", "3", "4", "5"], by: .local, table: "flowrun_refs", chunk: 2,
            placeholder: { "$\($0)" }, query: recorder.query)
        #expect(
            recorder.statements.map(\.sql) == [
                "SELECT local_id, remote_id, remote_version, local_version, hash FROM flowrun_refs "
                    + "WHERE namespace = $1 AND local_id IN ($2, $3)",
                "SELECT local_id, remote_id, remote_version, local_version, hash FROM flowrun_refs "
                    + "WHERE namespace = $1 AND local_id IN ($2, $3)",
                "SELECT local_id, remote_id, remote_version, local_version, hash FROM flowrun_refs "
                    + "WHERE namespace = $1 AND local_id IN ($2)",
            ])
        #expect(recorder.statements.map(\.parameters) == [["crm", "1", "2"], ["crm", "3", "4"], ["crm", "5"]])
        #expect(found.map(\.localID) == ["1", "2", "3", "4", "5"])
        #expect(found[4] == ExternalReference(localID: "5", remoteID: "r-5", hash: "h"))
    }

    @Test func remoteLookupsUseTheRemoteColumnAndQuestionMarks() {
        let recorder = Recorder()
        _ = ExternalReference.lookUp(
            namespace: "n", ids: ["a", "b", "c"], by: .remote, table: "refs", placeholder: { _ in "?" },
            query: recorder.query)
        #expect(
            recorder.statements.map(\.sql) == [
                "SELECT local_id, remote_id, remote_version, local_version, hash FROM refs "
                    + "WHERE namespace = ? AND remote_id IN (?, ?, ?)"
            ])
    }

    @Test func chunksHoldAtMostTheLookupChunk() {
        let recorder = Recorder()
        let ids = (0..<(2 * ExternalReference.lookupChunk + 1)).map(String.init)
        let found = ExternalReference.lookUp(
            namespace: "n", ids: ids, by: .local, table: "refs", placeholder: { _ in "?" }, query: recorder.query)
        #expect(recorder.statements.map { $0.parameters.count - 1 } == [500, 500, 1])
        #expect(found.count == ids.count)
        #expect(
            ExternalReference.lookUp(
                namespace: "n", ids: [], by: .local, table: "refs", placeholder: { _ in "?" }, query: recorder.query
            ).isEmpty)
        #expect(recorder.statements.count == 3)  // no statement for no ids
    }
}
