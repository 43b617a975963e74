extension Value {
    /// Values nest at most this many arrays and objects inside each other. `JSON.parse` stops there, and
    /// expressions and templates that would build a deeper value fail with a located error instead, so
    /// every recursive walk over a value (serialization, equality, hashing, release) stays shallow enough
    /// for a 512 KiB thread stack.
    public static let maxDepth = JSON.maxDepth

    /// Whether more than `limit` arrays and objects nest inside each other in this value (a scalar
    /// nests 0, `[]` 1, `[{}]` 2). Visits only arrays and objects and never descends more than
    /// `limit + 1` levels, so it is safe on any value.
    public func nests(deeperThan limit: Int) -> Bool {
        switch self {
        case .array(let a):
            if limit <= 0 { return true }
            for element in a where element.nests(deeperThan: limit - 1) { return true }
            return false
        case .object(let o):
            if limit <= 0 { return true }
            for element in o.values where element.nests(deeperThan: limit - 1) { return true }
            return false
        default:
            return false
        }
    }
}
