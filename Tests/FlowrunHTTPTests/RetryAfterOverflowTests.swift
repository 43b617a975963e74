import Foundation
import Testing

@testable import FlowrunHTTP

/// Issue 13 item 2 in the http-client: a server's Retry-After in seconds was multiplied to nanoseconds
/// unchecked, and an HTTP date in year 9999 converted to an int unchecked: either trapped.
@Suite struct RetryAfterOverflowTests {
    @Test(arguments: ["9223372036854775807", "99999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
    func aHugeRetryAfterWaitsTheCap(_ header: String) {
        let policy = RetryPolicy(retries: 3, baseNanos: 1_000_000_000, maxRetryAfterNanos: 60_000_000_000)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(policy.delay(attempt: 1, retryAfter: header, now: now) == 60_000_000_000)
    }

    @Test func aRetryAfterDateInTheDistantPastWaitsNothing() {
        let policy = RetryPolicy(retries: 3, baseNanos: 1_000_000_000, maxRetryAfterNanos: 60_000_000_000)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(policy.delay(attempt: 1, retryAfter: "Mon, 01 Jan 0001 00:00:00 GMT", now: now) == 0)
    }
}
