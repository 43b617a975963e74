import FlowrunValue

extension Paginate {
    /// The record keys one pagination has seen, kept as 64-bit fingerprints in an open-addressing table:
    /// 8 bytes a key at most 3/4 full, against a `Set<Value>` that kept every key (16 bytes a slot, plus
    /// the string's storage for keys longer than 15 bytes) and hashed, compared and retained whole values.
    /// At 100,000 users that set was 2.3% of the sync's CPU samples (`Set.insert` and `Hasher`); a
    /// million keys take 16 MiB here (a 2²¹-slot table) against about 32 MiB in the set.
    ///
    /// A fingerprint is the process's seeded `Hasher` over the key's kind and bytes, so a source cannot
    /// choose keys that collide. Two different keys share one with probability about n² / 2⁶⁵ (3 in 100
    /// million at a million records); a collision reports a shift that did not happen, which keeps the
    /// cursor where it was (the safe side), and never hides one that did.
    struct KeySet {
        private var slots: [UInt64] = Array(repeating: 0, count: 1024)
        private(set) var count = 0

        /// Adds `key`'s fingerprint; false when it was there already (the key was seen before).
        mutating func insert(_ key: Value) -> Bool {
            if (count + 1) * 4 > slots.count * 3 { grow() }
            return place(Self.fingerprint(key))
        }

        static func fingerprint(_ key: Value) -> UInt64 {
            var hasher = Hasher()
            switch key {
            case .string(let s):
                hasher.combine(1 as UInt8)
                var s = s
                s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            case .int(let i):
                hasher.combine(2 as UInt8)
                hasher.combine(i)
            default:
                hasher.combine(3 as UInt8)
                key.hash(into: &hasher)
            }
            let f = UInt64(UInt(bitPattern: hasher.finalize()))
            return f == 0 ? 1 : f  // 0 marks an empty slot
        }

        private mutating func place(_ f: UInt64) -> Bool {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: f) & mask
            return slots.withUnsafeMutableBufferPointer { s in
                while s[i] != 0 {
                    if s[i] == f { return false }
                    i = (i + 1) & mask
                }
                s[i] = f
                count += 1
                return true
            }
        }

        private mutating func grow() {
            let old = slots
            slots = Array(repeating: 0, count: old.count * 2)
            count = 0
            for f in old where f != 0 { _ = place(f) }
        }
    }
}
