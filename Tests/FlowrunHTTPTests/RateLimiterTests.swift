import Testing

@testable import FlowrunHTTP

/// The sliding-window rate limiter as a pure value, driven by a manual clock.
@Suite struct RateLimiterTests {
    static let ms: UInt64 = 1_000_000

    /// A small deterministic generator, so a failing property names its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Every request arrives at its time and asks again after each wait it is told; returns the grant
    /// times in order and, for every refusal, the time it happened.
    static func simulate(_ limiter: inout RateLimiter, arrivals: [UInt64]) -> (grants: [UInt64], refusals: [UInt64]) {
        var pending = arrivals.sorted()
        var grants: [UInt64] = []
        var refusals: [UInt64] = []
        while !pending.isEmpty {
            let now = pending.removeFirst()
            let wait = limiter.acquire(now: now)
            if wait == 0 {
                grants.append(now)
            } else {
                refusals.append(now)
                let again = now + wait
                pending.insert(again, at: pending.firstIndex { $0 > again } ?? pending.count)
            }
        }
        return (grants, refusals)
    }

    /// The index of the first element greater than `bound` (0 for no bound).
    static func firstIndex(_ sorted: [UInt64], above bound: UInt64?) -> Int {
        guard let bound else { return 0 }
        var (lo, hi) = (0, sorted.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= bound { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    @Test func theTwentyFirstRequestOfASecondWaitsForTheFirstToLeaveTheWindow() {
        var limiter = RateLimiter(requests: 20, perNanos: 1000 * Self.ms)
        for i in 0..<20 { #expect(limiter.acquire(now: UInt64(i) * Self.ms) == 0) }
        #expect(limiter.acquire(now: 20 * Self.ms) == 980 * Self.ms)
        #expect(limiter.acquire(now: 999 * Self.ms) == 1 * Self.ms)
        #expect(limiter.acquire(now: 1000 * Self.ms) == 0)
        #expect(limiter.acquire(now: 1000 * Self.ms) == 1 * Self.ms)
    }

    /// The old token bucket let 20 go at the end of one second and 19 more at the start of the next:
    /// the window straddling them held 39. Now the second burst waits a full window.
    @Test func noBurstAcrossAWindowBoundary() {
        var limiter = RateLimiter(requests: 20, perNanos: 1000 * Self.ms)
        let arrivals = (0..<20).map { _ in 990 * Self.ms } + (0..<20).map { _ in 1010 * Self.ms }
        let grants = Self.simulate(&limiter, arrivals: arrivals).grants
        #expect(grants.filter { $0 < 1990 * Self.ms }.count == 20)
        #expect(grants.last == 1990 * Self.ms)
    }

    /// The property: for random arrival times, limits and windows, no half-open window of `per` holds
    /// more than `requests` grants, every request is granted, and a request is refused only when the window
    /// before it is full (the limiter is not stricter than it must be).
    @Test(arguments: 0..<200)
    func anyWindowHoldsAtMostRequests(seed: Int) {
        var rng = SplitMix(state: UInt64(seed))
        let requests = Int.random(in: 1...25, using: &rng)
        let per = UInt64.random(in: 1...2000, using: &rng) * Self.ms
        let span = UInt64.random(in: 1...5000, using: &rng) * Self.ms
        let arrivals = (0..<Int.random(in: 1...120, using: &rng)).map { _ in UInt64.random(in: 0...span, using: &rng) }
        var limiter = RateLimiter(requests: requests, perNanos: per)
        let (grants, refusals) = Self.simulate(&limiter, arrivals: arrivals)
        #expect(grants.count == arrivals.count, "seed \(seed)")
        for i in grants.indices.dropFirst(requests) {
            // grants[i - requests ... i] are requests + 1 sends: they must not fit into one window.
            #expect(grants[i] - grants[i - requests] >= per, "seed \(seed): window at \(grants[i - requests])")
        }
        for t in Set(refusals) {
            // Grants are sorted: count those in (t - per, t] by two binary searches.
            let inWindow = Self.firstIndex(grants, above: t) - Self.firstIndex(grants, above: t >= per ? t - per : nil)
            #expect(inWindow == requests, "seed \(seed): refused at \(t) with \(inWindow) in the window")
        }
    }
}
