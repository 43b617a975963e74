import Flowrun

/// Slots that found the flow held by a run of another replica. A slot is skipped as overlapping only when
/// the run that held the flow turns out to have been alive: while a replica that died (kill -9) still holds
/// its lease, the slots that come due are not lost. Each such slot is recorded in the store under the
/// flow's one `deferred/slots` key (claimed already, so by exactly one replica) with the run that held the
/// flow; every replica's sweep then decides, from that run's status, whether the slot fires late or was a
/// true overlap. Pure rules here; the store calls are `Service.settleDeferredSlots`.
public enum DeferredSlots {
    /// The store key (of the flow) holding the deferred slots, oldest first.
    public static let key = "deferred/slots"

    /// At most this many slots are kept deferred per flow (the oldest give way).
    public static let limit = 1_000

    public struct Entry: Equatable, Sendable {
        /// The trigger node and the slot time.
        public let node: String
        public let slot: Int
        /// The run that held the flow when the slot came due.
        public let holder: String

        public init(node: String, slot: Int, holder: String) {
            self.node = node
            self.slot = slot
            self.holder = holder
        }

        var value: Value { ["node": .string(node), "slot": .int(slot), "holder": .string(holder)] }
    }

    public enum Decision: Equatable, Sendable {
        /// The holder is still running (or its record has not appeared yet): decide later.
        case wait
        /// The holder was abandoned (its node died or froze), or was catch-up work: the slot fires now, late.
        case fire
        /// The holder ended on its own, so it was alive: the slot overlapped it and is skipped
        /// (`run.overlap: skip`); also a slot past the claim horizon.
        case skip
    }

    public static func entries(_ stored: Value?) -> [Entry] {
        (stored?.arrayValue ?? []).compactMap { v in
            guard let node = v["node"].stringValue, let slot = v["slot"].intValue, let holder = v["holder"].stringValue
            else { return nil }
            return Entry(node: node, slot: slot, holder: holder)
        }
    }

    /// The stored value for `entries`; nil (the key is deleted) when there are none.
    public static func value(_ entries: [Entry]) -> Value? {
        entries.isEmpty ? nil : .array(entries.map(\.value))
    }

    /// The stored value with `entry` added (once per node and slot), oldest first, at most `limit`.
    public static func adding(_ entry: Entry, to stored: Value?) -> Value {
        var list = entries(stored).filter { !($0.node == entry.node && $0.slot == entry.slot) }
        list.append(entry)
        list.sort { $0.slot < $1.slot }
        return .array(list.suffix(limit).map(\.value))
    }

    /// What becomes of a deferred slot at `now`, from the record of the run that held the flow (nil: none
    /// saved yet). Catch-up work does not displace the schedule: a slot that met a rescue run or a deferred
    /// slot fired late (a scheduled run whose `parentId` names the run it was deferred behind) fires once
    /// that run is over, whatever its outcome.
    public static func decide(_ entry: Entry, holder: RunRecord?, now: Int) -> Decision {
        guard SlotClaims.isClaimable(due: entry.slot, now: now) else { return .skip }
        guard let holder, holder.status != .running else { return .wait }
        if holder.status == .abandoned || holder.trigger == .rescue { return .fire }
        if holder.trigger == .scheduled, holder.parentID != nil { return .fire }
        return .skip
    }
}
