import FlowrunValue

#if canImport(Glibc)
    import Glibc
#endif

/// The lease a run holds on its flow, or on one `run.concurrencyKey` of it, in the state store: the
/// key `lock/<concurrency key>` holds `{run, owner, node, since, fence, heartbeat, expires}`. Every start
/// of a run takes it first (schedule, CLI, admin API, webhook, retry, replay, rescue), in whichever
/// process shares the store, so runs of a flow never overlap unless `run.overlap: allow`. A heartbeat
/// renews it; a lease that expired (its node stopped renewing it), whose run has ended, or whose process
/// on this host is gone is stale and taken over. Each acquisition carries a fencing token above every
/// earlier one of the key: the run's commits check it (`Fence`), so a run that lost its lease cannot commit.
public final class RunLock: @unchecked Sendable {
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
    private let lock = NSLockLite()
    private var keeper: LeaseKeeper
    private var heartbeat: LeaseHeartbeat?
    /// Called once when the lease is lost (the heartbeat found it taken or expired).
    private var onLost: (@Sendable (String) -> Void)?

    func setOnLost(_ body: (@Sendable (String) -> Void)?) { lock.withLock { onLost = body } }

    /// How long a claim whose run record was never saved is honoured (a process that died between
    /// taking the claim and saving its record).
    static let unsavedGrace = 300_000_000_000

    static func storeKey(_ concurrencyKey: String) -> String { "lock/" + concurrencyKey }

    init(store: any StateStore, flow: String, key: String, keeper: LeaseKeeper) {
        self.store = store
        self.flow = flow
        self.key = key
        self.keeper = keeper
    }

    /// The lease as last written by this process.
    public var holder: Value { lock.withLock { keeper.held } }

    /// The run's fencing token.
    public var fence: Fence {
        let held = holder
        return Fence(key: key, run: held["run"].stringValue ?? "", token: held["fence"].intValue ?? 0)
    }

    public var isLost: Bool { lock.withLock { keeper.isLost } }

    /// Takes the lease for `runID`, taking over a stale one; throws `Busy` when a live run holds it.
    public static func acquire(
        store: any StateStore, flow: String, concurrencyKey: String, runID: String, owner: String, now: Int,
        node: String = ClusterNode.id, timing: LeaseTiming = .standard
    ) throws(Busy) -> RunLock {
        let key = storeKey(concurrencyKey)
        for _ in 0..<5 {
            let held = try? store.get(flow: flow, key: key)
            if let held, !isStale(held, store: store, flow: flow, now: now, grace: timing.sweepEvery) {
                throw Busy(flow: flow, holder: held["run"].stringValue ?? "?", concurrencyKey: concurrencyKey)
            }
            let own = LeaseRules.isOwn(lockKey: key)
            let counter = own ? nil : try? store.get(flow: flow, key: LeaseRules.counterKey(key))
            let fence = LeaseRules.nextFence(counter: counter ?? nil, replacing: held)
            let mine = LeaseRules.lease(run: runID, owner: owner, node: node, fence: fence, now: now, timing: timing)
            if (try? store.compareAndSet(flow: flow, key: key, expected: held, new: mine)) == true {
                if !own { try? store.set(flow: flow, key: LeaseRules.counterKey(key), value: .int(fence)) }
                return RunLock(
                    store: store, flow: flow, key: key, keeper: LeaseKeeper(held: mine, timing: timing, now: now))
            }
        }
        let held: Value = ((try? store.get(flow: flow, key: key)) ?? nil) ?? .null
        throw Busy(flow: flow, holder: held["run"].stringValue ?? "?", concurrencyKey: concurrencyKey)
    }

    /// A lease is stale when it expired `grace` ago, or its run is no longer `running`, or its owner is a
    /// process of this host that no longer exists, or its run record never appeared within `unsavedGrace`.
    /// The grace (one sweep interval) lets a replica's sweep take an expired lease first: the sweep marks
    /// the dead run `abandoned` and rescues it, a start that took the lease over would leave it `running`.
    static func isStale(_ held: Value, store: any StateStore, flow: String, now: Int, grace: Int = 0) -> Bool {
        guard let run = held["run"].stringValue else { return true }
        if LeaseRules.isExpired(held, now: now - grace) { return true }
        guard let record = try? store.run(id: run) else {
            return now - (held["since"].intValue ?? 0) > unsavedGrace
        }
        if record.status != .running { return true }
        return RunOwner.isGone(held["owner"].stringValue ?? record.owner ?? "")
    }

    /// One heartbeat step at `now`: renews the lease when due; true while the lease is held.
    @discardableResult
    public func beat(now: Int) -> Bool {
        var action = lock.withLock { keeper.tick(now: now) }
        if case .renew(let expected, let new) = action {
            let ok: Bool?
            do { ok = try store.compareAndSet(flow: flow, key: key, expected: expected, new: new) } catch { ok = nil }
            action = lock.withLock { keeper.renewal(new, succeeded: ok, now: now) }
            if ok == true { Telemetry.sink?.cluster(.leaseRenewed, flow: flow) }
        }
        if case .lost(let reason) = action {
            let notify = lock.withLock { () -> (@Sendable (String) -> Void)? in
                keeper.markLost()
                return onLost
            }
            notify?(reason)
            return false
        }
        return !isLost
    }

    /// Renews the lease on its own thread every `timing.renewEvery` (by the real clock; `clock` stamps
    /// the lease) until `release()`.
    func startHeartbeat(clock: @escaping @Sendable () -> Int) {
        let hb = LeaseHeartbeat(interval: keeper.timing.renewEvery) { [weak self] in
            guard let self else { return false }
            return self.beat(now: clock())
        }
        lock.withLock { heartbeat = hb }
        hb.start()
    }

    /// Hands the lease to the next attempt of the same work (a retry), same token.
    func transfer(to runID: String) {
        lock.withLock {
            var fields = keeper.held.objectValue ?? [:]
            fields["run"] = .string(runID)
            let next = Value.object(fields)
            if (try? store.compareAndSet(flow: flow, key: key, expected: keeper.held, new: next)) == true {
                keeper = LeaseKeeper(held: next, timing: keeper.timing, now: keeper.lastRenewal)
            }
        }
    }

    /// Stops the heartbeat and gives the lease up (only if it is still this run's).
    public func release() {
        let hb = lock.withLock { () -> LeaseHeartbeat? in
            defer { heartbeat = nil }
            return heartbeat
        }
        hb?.stop()
        let held = holder
        _ = try? store.compareAndSet(flow: flow, key: key, expected: held, new: nil)
    }
}

/// A thread that calls `beat` every `interval` nanoseconds until it returns false or `stop()`.
final class LeaseHeartbeat: @unchecked Sendable {
    private let interval: Int
    private let beat: @Sendable () -> Bool
    private var stopped = false
    private var condition = pthread_cond_t()
    private var mutex = pthread_mutex_t()

    init(interval: Int, beat: @escaping @Sendable () -> Bool) {
        self.interval = interval
        self.beat = beat
        pthread_cond_init(&condition, nil)
        pthread_mutex_init(&mutex, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func start() {
        detachThread { [self] in
            while waitInterval() {
                if !beat() { return }
            }
        }
    }

    /// Waits one interval; false once stopped.
    private func waitInterval() -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if stopped { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int(now.tv_nsec) + interval
        var deadline = timespec(tv_sec: now.tv_sec + total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
        _ = pthread_cond_timedwait(&condition, &mutex, &deadline)
        return !stopped
    }

    func stop() {
        pthread_mutex_lock(&mutex)
        stopped = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
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

    public static var host: String { current.split(separator: "@", maxSplits: 1).last.map(String.init) ?? "" }

    /// True when `owner` is a process of this host that no longer exists (never for other hosts).
    public static func isGone(_ owner: String) -> Bool {
        guard owner != current else { return false }
        let parts = owner.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1] == host, let pid = Int32(parts[0]) else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}

/// Runs `body` on a new detached thread (the runtime does not import Foundation).
func detachThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
    if rc == 0 {
        pthread_detach(thread)
    } else {
        Unmanaged<Box>.fromOpaque(box).release()
    }
}
