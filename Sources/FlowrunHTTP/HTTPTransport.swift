import Dispatch
import Foundation

/// Where http-client sends its requests: libcurl (`CurlEngine.shared`, the default) or canned
/// responses (`CannedTransport`, for `flowrun test`). The component's retries, rate limit and JSON
/// decoding run the same over either.
public protocol HTTPTransport: Sendable {
    /// Sends `request`; `completion` runs once, on any thread.
    func send(_ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, TransportError>) -> Void)
}

extension CurlEngine: HTTPTransport {}

/// Answers requests from fixtures instead of the network: the first fixture whose method, path and
/// query match answers (its responses in order, the last one repeating). A request no fixture matches
/// is answered 404 with a body that says so, and is kept in `unmatched` so a test can fail on it.
public final class CannedTransport: HTTPTransport, @unchecked Sendable {
    public struct Response: Sendable {
        public var status: Int
        /// Header names are lower-cased on arrival, as libcurl's are.
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// How long the answer takes; at or past the request's timeout the request times out at once.
        public var delayNanos: Int

        public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], delayNanos: Int = 0) {
            self.status = status
            self.headers = headers.map { ($0.0.lowercased(), $0.1) }
            self.body = body
            self.delayNanos = delayNanos
        }
    }

    public struct Fixture: Sendable {
        public var method: String
        public var path: String
        /// Query parameters that must be present with these values; others are not compared.
        public var query: [String: String]
        public var responses: [Response]

        public init(method: String = "GET", path: String, query: [String: String] = [:], responses: [Response]) {
            self.method = method.uppercased()
            self.path = path
            self.query = query
            self.responses = responses
        }
    }

    private let lock = NSLock()
    private let fixtures: [Fixture]
    private var served: [Int]
    private var unmatchedRequests: [String] = []

    public init(_ fixtures: [Fixture]) {
        self.fixtures = fixtures
        served = Array(repeating: 0, count: fixtures.count)
    }

    /// `METHOD path?query` of every request no fixture matched, in order.
    public var unmatched: [String] { lock.withLock { unmatchedRequests } }
    /// How many requests each fixture answered.
    public var servedCounts: [Int] { lock.withLock { served } }

    public func send(
        _ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, TransportError>) -> Void
    ) {
        let (path, query) = Self.split(request.url)
        let method = request.method.uppercased()
        let chosen: Response? = lock.withLock {
            guard let i = fixtures.indices.first(where: { fixtures[$0].matches(method, path, query) }) else {
                unmatchedRequests.append(method + " " + Self.pathAndQuery(request.url))
                return nil
            }
            let responses = fixtures[i].responses
            let response = responses[min(served[i], responses.count - 1)]
            served[i] += 1
            return response
        }
        guard let chosen else {
            let text = "flowrun test: no fixture matches \(method) \(Self.pathAndQuery(request.url))"
            completion(
                .success(
                    HTTPResponse(
                        statusCode: 404, headers: [("content-type", "text/plain")], body: Array(text.utf8),
                        durationMillis: 0)))
            return
        }
        let timeoutNanos = request.timeoutMillis * 1_000_000
        if chosen.delayNanos >= timeoutNanos {
            let message = "Operation timed out after \(request.timeoutMillis) milliseconds (canned response delay)"
            completion(.failure(TransportError(code: 28, message: message, timedOut: true)))
            return
        }
        let response = HTTPResponse(
            statusCode: chosen.status, headers: chosen.headers, body: chosen.body,
            durationMillis: Double(chosen.delayNanos) / 1e6)
        if chosen.delayNanos > 0 {
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(chosen.delayNanos)) {
                completion(.success(response))
            }
        } else {
            completion(.success(response))
        }
    }

    /// The URL without scheme and host.
    static func pathAndQuery(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let tail = String(rest[slash...])
        return tail.hasPrefix("?") ? "/" + tail : tail
    }

    /// The path and the decoded query parameters of a URL.
    static func split(_ url: String) -> (path: String, query: [String: String]) {
        let tail = pathAndQuery(url)
        guard let q = tail.firstIndex(of: "?") else { return (tail, [:]) }
        var query: [String: String] = [:]
        for pair in tail[tail.index(after: q)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(parts[0])
            if query[key] == nil { query[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return (String(tail[..<q]), query)
    }

    static func decode(_ s: Substring) -> String {
        String(s).removingPercentEncoding ?? String(s)
    }
}

extension CannedTransport.Fixture {
    func matches(_ method: String, _ path: String, _ query: [String: String]) -> Bool {
        method == self.method && path == self.path && self.query.allSatisfy { query[$0.key] == $0.value }
    }
}
