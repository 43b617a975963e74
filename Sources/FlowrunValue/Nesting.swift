extension Value {
    /// Values nest at most this many arrays and objects inside each other. `JSON.parse` stops there, and
    /// expressions and templates that would build a deeper value fail with a located error instead, so
    /// every recursive walk over a value (serialization, equality, hashing, release) stays shallow enough
    /// for a 512 KiB thread stack.
    public static let maxDepth = JSON.maxDepth

    /// Whether more than `limit` arrays and objects nest inside each other in this value (a scalar
    /// nests 0, `[]` 1, `[{}]` 2). Visits only arrays and objects and never descends more than
    /// `limit + 1` levels, so it is safe on any value.
    public func nests(deeperThan limit: Int) -> Bool { nests(deeperThan: limit, level: 0) }

    /// Recursive for the first `JSON.recursiveLevels` levels, then `deepNests`.
    private func nests(deeperThan limit: Int, level: Int) -> Bool {
        switch self {
        case .array(let a):
            if limit <= 0 { return true }
            if level >= JSON.recursiveLevels { return deepNests(deeperThan: limit) }
            return a.withUnsafeBufferPointer { Self.anyNests($0, deeperThan: limit - 1, level: level + 1) }
        case .object(let o):
            if limit <= 0 { return true }
            if level >= JSON.recursiveLevels { return deepNests(deeperThan: limit) }
            return o.values.withUnsafeBufferPointer { Self.anyNests($0, deeperThan: limit - 1, level: level + 1) }
        default:
            return false
        }
    }

    /// Scalars are skipped here, by their case alone, without a call or a copy of the element: a page
    /// of records is mostly scalars, and the sync places whole pages into new objects several times a
    /// batch (this walk was 5.4% of its instructions when every element was a call).
    private static func anyNests(_ elements: UnsafeBufferPointer<Value>, deeperThan limit: Int, level: Int) -> Bool {
        for i in elements.indices {
            switch elements[i] {
            case .array, .object: if elements[i].nests(deeperThan: limit, level: level) { return true }
            default: continue
            }
        }
        return false
    }

    /// `nests` with the arrays and objects still to visit on a stack of their own.
    private func deepNests(deeperThan limit: Int) -> Bool {
        var pending: [(Value, Int)] = [(self, limit)]
        while let (value, limit) = pending.popLast() {
            let elements: [Value]
            switch value {
            case .array(let a): elements = a
            case .object(let o): elements = Array(o.values)
            default: continue
            }
            if limit <= 0 { return true }
            for element in elements {
                switch element {
                case .array, .object: pending.append((element, limit - 1))
                default: continue
                }
            }
        }
        return false
    }
}

// MARK: Equality and hashing without deep recursion

extension Value {
    /// `==`: recursive for the first `JSON.recursiveLevels` levels (fastest), then `deepEqual`.
    static func equal(_ lhs: Value, _ rhs: Value, depth: Int) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.bigInt(let a), .bigInt(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)): return Double(a) == b
        case (.double(let a), .int(let b)): return a == Double(b)
        case (.string(let a), .string(let b)): return JSText.equal(a, b)
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            if depth >= JSON.recursiveLevels { return deepEqual(lhs, rhs) }
            for i in a.indices where !equal(a[i], b[i], depth: depth + 1) { return false }
            return true
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            if depth >= JSON.recursiveLevels { return deepEqual(lhs, rhs) }
            for (k, v) in a {
                guard let w = b[k], equal(v, w, depth: depth + 1) else { return false }
            }
            return true
        default: return false
        }
    }

    /// `==` with the pairs still to compare on a stack of their own.
    private static func deepEqual(_ lhs: Value, _ rhs: Value) -> Bool {
        var pending: [(Value, Value)] = [(lhs, rhs)]
        while let (a, b) = pending.popLast() {
            switch (a, b) {
            case (.array(let x), .array(let y)):
                guard x.count == y.count else { return false }
                for i in x.indices { pending.append((x[i], y[i])) }
            case (.object(let x), .object(let y)):
                guard x.count == y.count else { return false }
                for (k, v) in x {
                    guard let w = y[k] else { return false }
                    pending.append((v, w))
                }
            default:
                // Scalars, or an array against an object: no recursion.
                if !equal(a, b, depth: 0) { return false }
            }
        }
        return true
    }

    /// `hash(into:)`: recursive for the first `JSON.recursiveLevels` levels, then `deepHash`. Both
    /// feed the hasher the same sequence for the same value.
    func hash(into hasher: inout Hasher, depth: Int) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(Double(i))
        case .bigInt(let digits): hasher.combine(digits)
        case .double(let d): hasher.combine(d)
        case .string(let s): hasher.combine(s)
        case .array(let a):
            if depth >= JSON.recursiveLevels { return deepHash(into: &hasher) }
            hasher.combine(a.count)
            for v in a { v.hash(into: &hasher, depth: depth + 1) }
        case .object(let o):
            if depth >= JSON.recursiveLevels { return deepHash(into: &hasher) }
            hasher.combine(o.count)
            for (k, v) in o.sorted(by: { $0.key < $1.key }) {
                hasher.combine(k)
                v.hash(into: &hasher, depth: depth + 1)
            }
        }
    }

    private func deepHash(into hasher: inout Hasher) {
        enum Item {
            case value(Value)
            case key(String)
        }
        var pending: [Item] = [.value(self)]
        while let item = pending.popLast() {
            switch item {
            case .key(let k): hasher.combine(k)
            case .value(.array(let a)):
                hasher.combine(a.count)
                for v in a.reversed() { pending.append(.value(v)) }
            case .value(.object(let o)):
                hasher.combine(o.count)
                for (k, v) in o.sorted(by: { $0.key < $1.key }).reversed() {
                    pending.append(.value(v))
                    pending.append(.key(k))
                }
            case .value(let scalar): scalar.hash(into: &hasher, depth: 0)
            }
        }
    }
}
