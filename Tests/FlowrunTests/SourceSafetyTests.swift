import Flowrun
import FlowrunTesting
import Foundation
import Testing

/// Issue 16 item 2: sources that lie or shift under a paging run (the demo CRM's fault knobs), with the
/// real user-sync in real processes. After every run no record is left behind: each user is in the
/// destination or still ahead of the committed cursor.
@Suite(.serialized) struct SourceSafetyTests {
    func counters(_ e: SyncEnvironment) throws -> Value {
        let runs = try JSON.parse(try e.flowrun(["runs", "list", "--format", "json"]).stdout).arrayValue ?? []
        return runs.first?["counters"] ?? nil
    }

    func cursor(_ e: SyncEnvironment) throws -> String {
        try e.flowrun(["state", "get", "user-sync", "users-updated-since"]).stdout
    }

    /// `total: 1000000` with empty pages past the real 200 users: three requests, not 10,000.
    @Test func anEmptyPageEndsThePagingWhateverTotalSays() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_TOTAL": "200", "MOCK_CRM_TOTAL_SAYS": "1000000"])
        let r = try e.sync()
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let c = try counters(e)
        #expect(c["requests"] == 3 && c["pages"] == 3, "\(c)")
        #expect(try e.query("SELECT count(*) FROM users") == [[200]])
    }

    /// u5 is updated while the run pages (from page 2 on it sorts last), so u100 slides onto page 1 and is
    /// never served. u5 comes back on page 3: the run ends with errors and holds the cursor; the next run
    /// reads from the old cursor and gets u100.
    @Test func aRecordUpdatedMidRunLeavesNoneBehind() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_MOVED": "u5", "MOCK_CRM_MOVED_FROM_PAGE": "2"])
        let first = try e.sync()
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")  // completed_with_errors
        #expect(first.stdout.contains("source shifted"), "\(first.stdout)")
        #expect(try e.query("SELECT count(*) FROM users WHERE external_id = 'u100'") == [[0]])
        let held = try cursor(e)
        #expect(!held.contains("2030"), "the cursor moved past u100: \(held)")
        try RunModelE2ETests.checkNothingLeftBehind(e)

        try e.startMock(faults: ["MOCK_CRM_MOVED": "u5", "MOCK_CRM_MOVED_FROM_PAGE": "1"])  // u5 stays updated
        let second = try e.sync()
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try e.query("SELECT count(*) FROM users") == [[250]])
        #expect(try e.query("SELECT updated_at FROM users WHERE external_id = 'u5'") == [["2030-01-01T00:00:00.000Z"]])
        try RunModelE2ETests.checkNothingLeftBehind(e)
    }

    /// Page 2 serves u99 again in place of u100: the duplicate key is caught, the cursor holds, and once the
    /// source serves its pages right u100 arrives.
    @Test func aRecordServedTwiceInPlaceOfItsNeighbourLeavesNoneBehind() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_DUPLICATE": "2"])
        let first = try e.sync()
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("the record with id u99 was served twice"), "\(first.stdout)")
        #expect(try e.query("SELECT count(*) FROM users") == [[249]])
        try RunModelE2ETests.checkNothingLeftBehind(e)

        try e.startMock(faults: [:])
        let second = try e.sync()
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try e.usersChecksum() == SyncEnvironment.expectedChecksum())
        try RunModelE2ETests.checkNothingLeftBehind(e)
        let third = try e.sync()
        #expect(third.stdout.contains("processed 0"), "\(third.stdout)")
    }

    /// Newest first with `total: 100` (there are 250): declared `newest_first`, the total is not trusted
    /// and the run reads to the end before its cursor (the newest user) is committed.
    @Test func aNewestFirstSourceWithAWrongTotalIsReadToTheEnd() throws {
        let e = try SyncEnvironment(faults: ["MOCK_CRM_NEWEST_FIRST": "1", "MOCK_CRM_TOTAL_SAYS": "100"])
        let r = try e.sync(["--set", "vars.sourceOrder=newest_first"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("processed 250"), "\(r.stdout)")
        #expect(try e.usersChecksum() == SyncEnvironment.expectedChecksum())
        try RunModelE2ETests.checkNothingLeftBehind(e)
    }
}
