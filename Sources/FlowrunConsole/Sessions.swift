import Flowrun
import Foundation

/// The console's sessions: a random id in an HttpOnly, SameSite=Strict cookie, and per session a random
/// CSRF token that every form carries. A visitor gets an anonymous session on the first page (the login
/// form needs a CSRF token too); logging in with the admin token replaces it with an authenticated one.
/// The clock is injected; sessions live in memory (a restart logs everyone out).
public final class Sessions: @unchecked Sendable {
    public struct Session: Sendable, Equatable {
        public let id: String
        public let csrf: String
        public let authenticated: Bool
        public let expires: Int
    }

    public static let cookieName = "flowrun_session"
    let lifetime: Int
    let capacity: Int
    let clock: @Sendable () -> Int
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]

    /// `lifetime` in nanoseconds (default 12 hours); at most `capacity` sessions are kept (anonymous
    /// ones are dropped first), so unauthenticated visitors cannot fill memory.
    public init(
        clock: @escaping @Sendable () -> Int, lifetime: Int = 12 * 3_600_000_000_000, capacity: Int = 1000
    ) {
        self.clock = clock
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// 32 random bytes from the system's cryptographic generator, as hex.
    static func randomToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return Digest.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    public func create(authenticated: Bool) -> Session {
        let now = clock()
        let session = Session(
            id: Self.randomToken(), csrf: Self.randomToken(), authenticated: authenticated, expires: now + lifetime)
        lock.withLock {
            if sessions.count >= capacity {
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= capacity,
                    let oldest = sessions.values.filter({ !$0.authenticated }).min(by: { $0.expires < $1.expires })
                        ?? sessions.values.min(by: { $0.expires < $1.expires })
                {
                    sessions[oldest.id] = nil
                }
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session named by the request's cookie header, if any.
    public func session(cookieHeader: String?) -> Session? {
        guard let id = Self.cookie(Self.cookieName, in: cookieHeader) else { return nil }
        let now = clock()
        return lock.withLock {
            guard let s = sessions[id] else { return nil }
            if s.expires <= now {
                sessions[id] = nil
                return nil
            }
            return s
        }
    }

    public func remove(_ id: String) { _ = lock.withLock { sessions.removeValue(forKey: id) } }

    /// Whether `given` is the session's CSRF token (compared in constant time).
    public static func csrfMatches(_ session: Session?, _ given: String?) -> Bool {
        guard let session, let given else { return false }
        return Digest.constantTimeEqual(Array(session.csrf.utf8), Array(given.utf8))
    }

    /// The `Set-Cookie` value for a session (nil: the cookie is cleared).
    public static func setCookie(_ session: Session?) -> String {
        guard let session else { return "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" }
        return "\(cookieName)=\(session.id); Path=/; HttpOnly; SameSite=Strict"
    }

    /// One cookie's value from a `Cookie` header (`a=1; b=2`).
    static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces) == name {
                return pair[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// An `application/x-www-form-urlencoded` body: fields in order, a name may repeat (check boxes).
public struct Form: Sendable {
    public var fields: [(name: String, value: String)]

    public init(body: [UInt8]) {
        let text = String(decoding: body, as: UTF8.self)
        fields = text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    public subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    public func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
}
