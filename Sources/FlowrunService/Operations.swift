import Flowrun
import Foundation

/// What an operator can do to a running service: the admin API and the console both call these, so a
/// button and a `curl` do the same thing.
extension Service {
    /// Why an operation was refused, with the HTTP status the admin API answers.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let status: Int
        public let description: String

        public init(status: Int, description: String) {
            self.status = status
            self.description = description
        }
    }

    /// Starts a manual run of a flow (`input` nil: its first trigger fires) and returns its id once it started.
    public func startRun(flow name: String, input: Value?, dryRun: Bool) -> Result<String, Refusal> {
        guard let flow = flow(named: name) else {
            return .failure(Refusal(status: 404, description: "no flow \(name)"))
        }
        if flow.isDisabled { return .failure(Refusal(status: 409, description: flow.disabledMessage)) }
        guard let start = flow.runtime.manualStart(input: input) else {
            return .failure(Refusal(status: 409, description: "flow \(name) has nothing to trigger"))
        }
        return Self.outcome(launch(flow, start, trigger: .manual, dryRun: dryRun))
    }

    /// Starts a new run with the trigger input of an earlier one (trigger `retry`, linked both ways).
    public func retryRun(id: String) -> Result<String, Refusal> {
        guard let old = try? store.run(id: id) else {
            return .failure(Refusal(status: 404, description: "no run \(id)"))
        }
        guard let flow = flow(named: old.flow) else {
            return .failure(Refusal(status: 404, description: "flow \(old.flow) is not loaded"))
        }
        if flow.isDisabled { return .failure(Refusal(status: 409, description: flow.disabledMessage)) }
        guard let start = flow.runtime.start(replaying: old) else {
            return .failure(Refusal(status: 409, description: "run \(old.id) cannot be started again"))
        }
        return Self.outcome(launch(flow, start, trigger: .retry, dryRun: old.dryRun, parent: old.id))
    }

    /// Replays a dead-letter item through its loaded flow as a new run (trigger `replay`); when that run
    /// completes, the item is closed as `replayed` (as `flowrun dlq replay` does). Returns the run's id.
    public func replay(deadLetter id: String) -> Result<String, Refusal> {
        let queue = DeadLetterQueue(store: store)
        guard let item = try? queue.item(id: id) else {
            return .failure(Refusal(status: 404, description: "no dead-letter item \(id)"))
        }
        guard item.status.isUnresolved else {
            return .failure(Refusal(status: 409, description: "\(id) is \(item.status.rawValue), not open"))
        }
        return replay(item, payload: item.payload, closeAs: .replayed)
    }

    /// Settles a conflict item with the chosen side, as `flowrun dlq resolve ID --take SIDE` does: its
    /// payload with `take` set is replayed through the loaded flow as a new run (trigger `replay`), which
    /// applies that side to the other one; when the run completes the item is closed as `resolved`.
    public func resolve(conflict id: String, take: DeadLetterQueue.Take) -> Result<String, Refusal> {
        guard let item = try? DeadLetterQueue(store: store).item(id: id) else {
            return .failure(Refusal(status: 404, description: "no dead-letter item \(id)"))
        }
        let payload: Value
        do { payload = try DeadLetterQueue.resolution(of: item, take: take) } catch {
            return .failure(Refusal(status: 409, description: error.description))
        }
        return replay(item, payload: payload, closeAs: .resolved)
    }

    private func replay(_ item: DeadLetterQueue.Item, payload: Value, closeAs: DeadLetterQueue.Status) -> Result<
        String, Refusal
    > {
        let id = item.id
        guard let flow = flow(named: item.flow) else {
            return .failure(Refusal(status: 404, description: "flow \(item.flow) is not loaded"))
        }
        if flow.isDisabled { return .failure(Refusal(status: 409, description: flow.disabledMessage)) }
        guard let entry = item.entry else {
            return .failure(
                Refusal(status: 409, description: "\(id): the dead-letter node has no `entry` to replay into"))
        }
        flow.began()
        let started = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Launch?
        Thread.detachNewThread {
            let refused = self.execute(
                flow, .input(payload, entry: entry), trigger: .replay, dryRun: false, parent: item.lastRun
            ) { record in
                if outcome == nil {
                    outcome = .started(record.id)
                    started.signal()
                }
            }
            if let refused {
                outcome = .busy(refused)
                started.signal()
            } else if case .started(let runID) = outcome, (try? self.store.run(id: runID))?.status == .completed {
                _ = try? DeadLetterQueue(store: self.store).closeReplayed(item, now: self.options.clock(), as: closeAs)
            }
        }
        started.wait()
        return Self.outcome(outcome ?? .busy("not started"))
    }

    /// Closes an unresolved dead-letter item without replaying it.
    public func skip(deadLetter id: String) -> Result<Void, Refusal> {
        let queue = DeadLetterQueue(store: store)
        guard let item = try? queue.item(id: id) else {
            return .failure(Refusal(status: 404, description: "no dead-letter item \(id)"))
        }
        guard item.status.isUnresolved else {
            return .failure(Refusal(status: 409, description: "\(id) is \(item.status.rawValue), not open"))
        }
        do { try queue.setStatus(item, .skipped, now: options.clock()) } catch {
            return .failure(Refusal(status: 503, description: "the state store did not answer"))
        }
        return .success(())
    }

    /// Disables or enables a loaded flow.
    public func setDisabled(flow name: String, _ disabled: Bool) -> Result<Void, Refusal> {
        guard let flow = flow(named: name) else {
            return .failure(Refusal(status: 404, description: "no flow \(name)"))
        }
        do { try flow.setDisabled(disabled) } catch {
            return .failure(Refusal(status: 503, description: "the state store did not answer"))
        }
        return .success(())
    }

    /// A guarded edit of a flow's state key (recorded in the run history): refused when the value is
    /// no longer `expected`, or when the key is one the runtime keeps for itself.
    public func editState(flow: String, key: String, expected: Value?, new: Value?) -> Result<String, Refusal> {
        guard self.flow(named: flow) != nil else {
            return .failure(Refusal(status: 404, description: "no flow \(flow)"))
        }
        guard !key.isEmpty, !StateEdit.isInternal(key) else {
            return .failure(
                Refusal(status: 400, description: "\(key.isEmpty ? "an empty key" : key) cannot be edited here"))
        }
        do {
            switch try StateEdit.guarded(
                store, flow: flow, key: key, expected: expected, new: new, now: options.clock())
            {
            case .changed(let id): return .success(id)
            case .conflict:
                return .failure(
                    Refusal(status: 409, description: "\(key) changed since the page was loaded; nothing was written"))
            }
        } catch {
            return .failure(Refusal(status: 503, description: "the state store did not answer"))
        }
    }

    static func outcome(_ launch: Launch) -> Result<String, Refusal> {
        switch launch {
        case .started(let id): .success(id)
        case .busy(let reason): .failure(Refusal(status: 409, description: reason))
        }
    }
}

extension FlowService {
    /// The schedule slots, read under the service's lock (the scheduler loop changes them).
    public var schedules: [Slot] { lock.withLock { slots } }
}
