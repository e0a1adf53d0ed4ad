/// The closed model's timer queue of user wake-ups: a binary min-heap of (intended start, user
/// slot). Concrete and in this module on purpose: a generic heap in CicadaCore, called across
/// modules unspecialised, cost ~8k instructions per request in callgrind.
struct WakeHeap {
    private var keys: [UInt64] = []
    private var slots: [Int] = []
    var minKey: UInt64? { keys.first }

    mutating func push(_ key: UInt64, _ slot: Int) {
        keys.append(key); slots.append(slot)
        var i = keys.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if keys[p] <= keys[i] { break }
            keys.swapAt(p, i); slots.swapAt(p, i); i = p
        }
    }

    /// Removes and returns the entry with the smallest key.
    mutating func pop() -> (key: UInt64, value: Int)? {
        guard !keys.isEmpty else { return nil }
        let last = keys.count - 1
        keys.swapAt(0, last); slots.swapAt(0, last)
        let top = (key: keys.removeLast(), value: slots.removeLast())
        let n = keys.count
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n, keys[l] < keys[m] { m = l }
            if r < n, keys[r] < keys[m] { m = r }
            if m == i { break }
            keys.swapAt(i, m); slots.swapAt(i, m); i = m
        }
        return top
    }
}
