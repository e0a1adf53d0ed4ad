/// A binary min-heap of (key, value) pairs: the workers' timer queue of user wake-ups.
public struct MinHeap<Value>: Sendable where Value: Sendable {
    private var items: [(key: UInt64, value: Value)] = []
    public init() {}
    public var count: Int { items.count }
    public var isEmpty: Bool { items.isEmpty }
    /// The smallest key, if any.
    public var minKey: UInt64? { items.first?.key }

    public mutating func push(_ key: UInt64, _ value: Value) {
        items.append((key, value))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].key <= items[i].key { break }
            items.swapAt(p, i); i = p
        }
    }

    /// Removes and returns the entry with the smallest key.
    public mutating func pop() -> (key: UInt64, value: Value)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l].key < items[m].key { m = l }
            if r < items.count, items[r].key < items[m].key { m = r }
            if m == i { break }
            items.swapAt(i, m); i = m
        }
        return top
    }
}
