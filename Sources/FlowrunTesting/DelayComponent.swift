import Dispatch
import Flowrun
import Foundation

/// A test I/O component: answers each message on `out` after a random delay of up to `maxMillis`,
/// on its own queue, and fails messages whose `fail` field is true. It records how many messages
/// it had in flight at once, so tests can check concurrency limits and ordering.
public enum TestDelay {
    public static let descriptor = ComponentDescriptor(
        name: "test-delay",
        summary: "Test I/O component: echoes each message after a random delay.",
        doc: "For tests only.",
        isIO: true,
        settings: [SettingDescriptor("maxMillis", .int, default: 5, doc: "Longest delay.")],
        ports: [
            .input("in", .any, doc: "Any message; `fail: true` makes it fail."),
            .output("out", .any, doc: "The message, after the delay."),
        ],
        example: "slow: {component: test-delay}",
        transfer: { t in ["out": t.input("in")] }
    )

    public final class Probe: @unchecked Sendable {
        private let lock = NSLock()
        private var current = 0
        public private(set) var maxInFlight = 0
        public private(set) var started = 0

        public init() {}

        func begin() {
            lock.withLock {
                current += 1
                started += 1
                maxInFlight = max(maxInFlight, current)
            }
        }

        func end() { lock.withLock { current -= 1 } }
    }

    final class Instance: AsyncComponent {
        let probe: Probe
        let queue = DispatchQueue(label: "test-delay", attributes: .concurrent)
        init(probe: Probe) { self.probe = probe }

        func start(
            _ message: Value, on port: String, _ context: AsyncContext, done: @escaping @Sendable (AsyncResult) -> Void
        ) {
            probe.begin()
            let maxMillis = max(1, context.setting("maxMillis").intValue ?? 5)
            let delay = Double(Int.random(in: 0...maxMillis)) / 1000
            let probe = self.probe
            queue.asyncAfter(deadline: .now() + delay) {
                probe.end()
                if message["fail"] == true {
                    done(.failure(NodeError("asked to fail", code: "test", retryable: true)))
                } else {
                    done(AsyncResult(emissions: [("out", message)], counters: [.created: 1]))
                }
            }
        }
    }

    /// The standard registry plus this component.
    public static func registry() -> ComponentRegistry {
        ComponentRegistry(ComponentRegistry.standard.components + [descriptor])
    }

    public static func factories(_ probe: Probe) -> ComponentFactories {
        var makers = ComponentFactories.standard
        makers.add("test-delay") { _ in Instance(probe: probe) }
        return makers
    }
}
