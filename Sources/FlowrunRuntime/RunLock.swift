import FlowrunValue

#if canImport(Glibc)
    import Glibc
#endif

/// The claim a run holds on its flow, or on one `run.concurrencyKey` of it, in the state store: the
/// key `lock/<concurrency key>` holds `{run, owner, since}`. Every start of a run takes it first
/// (schedule, CLI, admin API, webhook, retry, replay), in whichever process shares the store, so runs
/// of a flow never overlap unless `run.overlap: allow`. A claim whose run has ended, or whose process
/// on this host is gone, is stale and taken over. (Leases that expire across hosts are issue 14's.)
public struct RunLock: Sendable {
    /// Another run holds the flow (or its concurrency key).
    public struct Busy: Error, Sendable, CustomStringConvertible {
        public let flow: String
        /// The run that holds it.
        public let holder: String
        public let concurrencyKey: String

        public var description: String {
            "flow \(flow) is busy: run \(holder) holds it"
                + (concurrencyKey.isEmpty ? "" : " (concurrency key \(concurrencyKey))") + " (run.overlap: skip)"
        }
    }

    let store: any StateStore
    let flow: String
    let key: String
    private(set) var holder: Value

    /// How long a claim whose run record was never saved is honoured (a process that died between
    /// taking the claim and saving its record).
    static let unsavedGrace = 300_000_000_000

    static func storeKey(_ concurrencyKey: String) -> String { "lock/" + concurrencyKey }

    /// Takes the claim for `runID`, taking over a stale one; throws `Busy` when a live run holds it.
    public static func acquire(
        store: any StateStore, flow: String, concurrencyKey: String, runID: String, owner: String, now: Int
    ) throws(Busy) -> RunLock {
        let key = storeKey(concurrencyKey)
        let mine: Value = ["run": .string(runID), "owner": .string(owner), "since": .int(now)]
        for _ in 0..<5 {
            let held = try? store.get(flow: flow, key: key)
            if let held, !isStale(held, store: store, flow: flow, now: now) {
                throw Busy(flow: flow, holder: held["run"].stringValue ?? "?", concurrencyKey: concurrencyKey)
            }
            if (try? store.compareAndSet(flow: flow, key: key, expected: held, new: mine)) == true {
                return RunLock(store: store, flow: flow, key: key, holder: mine)
            }
        }
        let held: Value = ((try? store.get(flow: flow, key: key)) ?? nil) ?? .null
        throw Busy(flow: flow, holder: held["run"].stringValue ?? "?", concurrencyKey: concurrencyKey)
    }

    /// A claim is stale when its run is no longer `running`, or its owner is a process of this host
    /// that no longer exists, or its run record never appeared within `unsavedGrace`.
    static func isStale(_ held: Value, store: any StateStore, flow: String, now: Int) -> Bool {
        guard let run = held["run"].stringValue else { return true }
        guard let record = try? store.run(id: run) else {
            return now - (held["since"].intValue ?? 0) > unsavedGrace
        }
        if record.status != .running { return true }
        return RunOwner.isGone(held["owner"].stringValue ?? record.owner ?? "")
    }

    /// Hands the claim to the next attempt of the same work (a retry).
    mutating func transfer(to runID: String) {
        var fields = holder.objectValue ?? [:]
        fields["run"] = .string(runID)
        let next = Value.object(fields)
        if (try? store.compareAndSet(flow: flow, key: key, expected: holder, new: next)) == true { holder = next }
    }

    /// Gives the claim up (only if it is still this run's).
    public func release() {
        _ = try? store.compareAndSet(flow: flow, key: key, expected: holder, new: nil)
    }
}

/// `pid@host` owners of runs.
public enum RunOwner {
    /// This process, as `pid@host`.
    public static let current: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return "\(getpid())@\(String(decoding: bytes, as: UTF8.self))"
    }()

    static var host: String { current.split(separator: "@", maxSplits: 1).last.map(String.init) ?? "" }

    /// True when `owner` is a process of this host that no longer exists (never for other hosts).
    public static func isGone(_ owner: String) -> Bool {
        guard owner != current else { return false }
        let parts = owner.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1] == host, let pid = Int32(parts[0]) else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}
