import Foundation

/// At most `requests` sends in any window of `per`: a sliding log of the last `requests` send times.
///
/// A send is granted at `now` only when the `requests`-th send before it lies a full window back
/// (`now >= oldest + per`), so no half-open window `[t, t + per)` ever holds more than `requests`
/// sends, across window boundaries too. (The token bucket it replaced let a full bucket go at once and
/// then refilled at the steady rate, so one window could hold almost twice `requests`.) A pure value:
/// the caller passes the time, and a refused send is told how long to wait.
public struct RateLimiter: Sendable, Equatable {
    public let requests: Int
    public let perNanos: UInt64
    /// Send times of the last `requests` grants, oldest at `head` once full.
    private var log: [UInt64] = []
    private var head = 0

    public init(requests: Int, perNanos: UInt64) {
        self.requests = max(1, requests)
        self.perNanos = perNanos
        log.reserveCapacity(self.requests)
    }

    /// Grants a send at `now` and returns 0, or returns how many nanoseconds to wait before asking
    /// again (nothing is recorded then). `now` must not go backwards.
    public mutating func acquire(now: UInt64) -> UInt64 {
        if log.count < requests {
            log.append(now)
            return 0
        }
        let free = log[head] &+ perNanos
        guard now >= free else { return free - now }
        log[head] = now
        head = (head + 1) % requests
        return 0
    }
}

/// The effectful shell of a `RateLimiter`: a lock and the monotonic clock. One is kept per node, or per
/// named connection and shared by every node that uses it (`RateLimiters.shared`).
final class SharedRateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var limiter: RateLimiter?

    /// (Re)configures the limit; a change of `requests` or `per` starts a fresh log.
    func configure(requests: Int, perNanos: Int) {
        lock.withLock {
            if limiter?.requests == requests, limiter?.perNanos == UInt64(perNanos) { return }
            limiter = RateLimiter(requests: requests, perNanos: UInt64(max(1, perNanos)))
        }
    }

    /// Runs `send` as soon as the limit allows: at once, or after waiting on a global queue. The send time
    /// is taken when it is granted, just before `send` hands the request to libcurl.
    func whenAllowed(_ send: @escaping @Sendable () -> Void) {
        let wait: UInt64 = lock.withLock {
            guard limiter != nil else { return 0 }
            return limiter!.acquire(now: DispatchTime.now().uptimeNanoseconds)
        }
        if wait == 0 {
            send()
        } else {
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(min(wait, UInt64(Int.max))))) {
                self.whenAllowed(send)
            }
        }
    }
}

/// Rate limiters of named connections, shared by every node (and run) of a flow that uses the connection.
enum RateLimiters {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var byConnection: [String: SharedRateLimiter] = [:]

    static func shared(_ key: String) -> SharedRateLimiter {
        lock.withLock {
            if let l = byConnection[key] { return l }
            let l = SharedRateLimiter()
            byConnection[key] = l
            return l
        }
    }
}
