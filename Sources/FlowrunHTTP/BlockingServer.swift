import Dispatch
import FlowrunValue
import FlyingFox
import Foundation

/// A FlyingFox server driven from plain threads: `start` returns once it listens (or throws why it
/// cannot), `stop` once it has stopped. Used by http-server nodes and by the admin API of `flowrun serve`.
public final class BlockingServer: @unchecked Sendable {
    public struct ListenError: Error, CustomStringConvertible {
        public let description: String
    }

    private let lock = NSLock()
    private var server: FlyingFox.HTTPServer?
    private var task: Task<Void, Never>?
    private var failure: String?

    public init() {}

    /// Listens on `address` and answers every request with `handler`.
    public func start(
        address: sockaddr_in, timeout: TimeInterval,
        handler: @escaping @Sendable (FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse
    ) throws(ListenError) {
        let server = FlyingFox.HTTPServer(address: address, timeout: timeout, logger: .disabled)
        let ready = DispatchSemaphore(value: 0)
        let task = Task.detached {
            await server.appendRoute("*", handler: handler)
            Task {
                try? await server.waitUntilListening(timeout: 10)
                ready.signal()
            }
            do { try await server.run() } catch {
                self.lock.withLock { self.failure = "\(error)" }
                ready.signal()
            }
        }
        ready.wait()
        if let failure = lock.withLock({ self.failure }) { throw ListenError(description: failure) }
        lock.withLock {
            self.server = server
            self.task = task
        }
    }

    public func stop() {
        let (server, task) = lock.withLock { (self.server, self.task) }
        guard let server else { return }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await server.stop(timeout: 1)
            done.signal()
        }
        done.wait()
        task?.cancel()
    }

    /// A JSON response.
    public static func json(_ status: Int, _ value: Value) -> FlyingFox.HTTPResponse {
        FlyingFox.HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: ""), headers: [.contentType: "application/json"],
            body: Data(JSON.serialize(value).utf8))
    }
}
