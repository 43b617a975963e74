/// Where final run records wait while the state store cannot take them: memory for `flowrun serve` (the
/// process lives on and writes them at its next save), a directory for the CLI (`FileSpool` in Flowrun:
/// the next start writes them). The newest record of a run replaces an older one.
public protocol RecordSpool: AnyObject, Sendable {
    func keep(_ record: RunRecord)
    /// The records waiting, oldest first.
    func pending() -> [RunRecord]
    func remove(id: String)
}

public final class MemorySpool: RecordSpool, @unchecked Sendable {
    private let lock = NSLockLite()
    private var records: [RunRecord] = []

    public init() {}

    public func keep(_ record: RunRecord) {
        lock.withLock {
            records.removeAll { $0.id == record.id }
            records.append(record)
        }
    }

    public func pending() -> [RunRecord] { lock.withLock { records } }

    public func remove(id: String) { lock.withLock { records.removeAll { $0.id == id } } }
}

/// When a save that failed is tried again: `attempts` tries in all, the first retry after `firstDelay`,
/// each next one `factor` times later (defaults: 4 tries over 2.1 s). A pure value; the keeper sleeps.
public struct SaveRetry: Sendable, Equatable {
    public var attempts = 4
    public var firstDelay = 100_000_000
    public var factor = 4

    public init(attempts: Int = 4, firstDelay: Int = 100_000_000, factor: Int = 4) {
        self.attempts = attempts
        self.firstDelay = firstDelay
        self.factor = factor
    }

    /// The pause before try `attempt + 1` after try `attempt` (1-based) failed; nil when none is left.
    public func delay(after attempt: Int) -> Int? {
        guard attempt < attempts else { return nil }
        var d = firstDelay
        for _ in 1..<attempt { d *= factor }
        return d
    }

    /// Whether trying again may help: a lost connection or a busy store, not a statement the store rejected
    /// (a `NodeError` that is not retryable). Errors of other kinds are tried again.
    public static func isTransient(_ error: any Error) -> Bool { (error as? NodeError)?.retryable ?? true }
}

/// Saves run records so that none is lost or left mislabelled when the state store blips. The start and
/// the end of a run are retried with backoff (`SaveRetry`); a final record the store still refuses is kept
/// in the spool, logged and counted (`Telemetry`), and written before anything else the next time the
/// keeper saves or `flush()` is called. Progress saves (once a second while a run goes on) get one try:
/// the next one, or the final save, carries the same facts.
public final class RunRecordKeeper: @unchecked Sendable {
    public let store: any StateStore
    public let spool: any RecordSpool
    let logger: any RunLogger
    let retry: SaveRetry
    let sleep: @Sendable (Int) -> Void
    /// Counts failed saves (default: the process-wide `Telemetry.sink`).
    let telemetry: (any TelemetrySink)?
    var sink: (any TelemetrySink)? { telemetry ?? Telemetry.sink }
    /// Progress saves that failed in a row (one warning per streak, not one per second).
    private var progressFailures = 0
    private let lock = NSLockLite()

    public init(
        store: any StateStore, spool: any RecordSpool = MemorySpool(), logger: any RunLogger = SilentLogger(),
        retry: SaveRetry = SaveRetry(), telemetry: (any TelemetrySink)? = nil, sleep: @escaping @Sendable (Int) -> Void
    ) {
        self.telemetry = telemetry
        self.store = store
        self.spool = spool
        self.logger = logger
        self.retry = retry
        self.sleep = sleep
    }

    /// Saves the record of a run that starts or ends (or a change to an ended one), retrying transient
    /// failures; when `keep` and every try failed, the record goes to the spool. True when it is stored.
    @discardableResult
    public func save(_ record: RunRecord, keep: Bool = true) -> Bool {
        save(record, keep: keep) { try store.save($0) } != false
    }

    /// Saves the final record of a run with a lease through `fence` (one transaction with the token
    /// check), with the retries and the spool of `save`; nil (nothing written, nothing kept) when the
    /// fence refused it: the run lost its lease. With `healthAt`, the flow's shared health (`SharedHealth`)
    /// is updated for the record's outcome in the same transaction: the run's last attempt.
    public func save(_ record: RunRecord, fence: Fence, healthAt: Int? = nil) -> Bool? {
        final class Refused: Error {}
        let store = self.store
        let keys = healthAt == nil ? [] : [SharedHealth.key]
        return save(record, keep: true) { r in
            let committed = try store.commit(flow: r.flow, fence: fence, keys: keys, record: r) { current in
                guard let healthAt else { return [:] }
                return [SharedHealth.key: SharedHealth.next(current[SharedHealth.key], after: r.status, at: healthAt)]
            }
            guard committed else { throw Refused() }
        } refused: {
            $0 is Refused
        }
    }

    /// `save` with its own write; nil when `refused` says the write's error is a refusal.
    private func save(
        _ record: RunRecord, keep: Bool, write: (RunRecord) throws -> Void,
        refused: (any Error) -> Bool = { _ in false }
    ) -> Bool? {
        flush()
        var attempt = 1
        while true {
            do {
                try write(record)
                spool.remove(id: record.id)
                return true
            } catch {
                if refused(error) { return nil }
                sink?.runRecordSaveFailed(flow: record.flow)
                guard SaveRetry.isTransient(error), let delay = retry.delay(after: attempt) else {
                    if keep { spool.keep(record) }
                    logger.log(
                        .error,
                        "could not save the run record (\(record.status.rawValue)) after \(attempt) "
                            + "attempt(s): \(error)" + (keep ? "; kept to be written when the store is back" : ""),
                        flow: record.flow, node: nil, run: record.id)
                    return false
                }
                attempt += 1
                sleep(delay)
            }
        }
    }

    /// A live-progress save: one try, never a pause in the run.
    public func saveProgress(_ record: RunRecord) {
        do {
            try store.save(record)
            lock.withLock { progressFailures = 0 }
        } catch {
            sink?.runRecordSaveFailed(flow: record.flow)
            let first = lock.withLock {
                progressFailures += 1
                return progressFailures == 1
            }
            if first {
                logger.log(
                    .warning, "could not save the run's progress: \(error)", flow: record.flow, node: nil,
                    run: record.id)
            }
        }
    }

    /// Writes the records waiting in the spool (one try each); those the store refuses stay.
    public func flush() {
        for record in spool.pending() {
            do {
                try store.save(record)
                spool.remove(id: record.id)
                logger.log(
                    .info, "wrote the run record kept while the store was unreachable (\(record.status.rawValue))",
                    flow: record.flow, node: nil, run: record.id)
            } catch {
                sink?.runRecordSaveFailed(flow: record.flow)
                return
            }
        }
    }

    /// A record as it will be stored: the spooled one when it waits there, else the store's.
    public func record(id: String) throws -> RunRecord? {
        if let kept = spool.pending().last(where: { $0.id == id }) { return kept }
        return try store.run(id: id)
    }

    /// Ids of the records waiting in the spool (they are not `running`, whatever the store says).
    public var pendingIDs: Set<String> { Set(spool.pending().map(\.id)) }
}
