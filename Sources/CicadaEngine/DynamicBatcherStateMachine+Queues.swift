/// The batcher's queues (lazy removal of stale slots) and small helpers.
extension DynamicBatcherStateMachine {
    /// The earliest enqueue time among the first `count` requests in service order.
    ///
    /// A main queue is in arrival order, so its head is its oldest; a delayed queue is in
    /// expiry order, so its share of the candidates is scanned (it is empty unless DELAY fired).
    mutating func oldestEnqueueNanos(amongFirst count: Int) -> UInt64 {
        var remaining = count
        var oldest = UInt64.max
        var q = 0
        while remaining > 0, q < queues.count {
            let take = min(queues[q].live, remaining)
            if take > 0 {
                dropStaleHead(q)
                if q % 2 == 0 {
                    let head = queues[q].slots[queues[q].head]
                    oldest = min(oldest, records[head.handle]?.enqueueNanos ?? .max)
                } else {
                    var seen = 0
                    var i = queues[q].head
                    while seen < take {
                        let slot = queues[q].slots[i]
                        if let record = records[slot.handle], record.token == slot.token {
                            oldest = min(oldest, record.enqueueNanos)
                            seen += 1
                        }
                        i += 1
                    }
                }
                remaining -= take
            }
            q += 1
        }
        return oldest
    }

    /// Removes and returns the first `count` pending requests in service order.
    mutating func takeFirst(_ count: Int) -> [RequestID] {
        var batch: [RequestID] = []
        batch.reserveCapacity(count)
        var q = 0
        while batch.count < count {
            while queues[q].live == 0 { q += 1 }
            dropStaleHead(q)
            let slot = queues[q].slots[queues[q].head]
            queues[q].head += 1
            queues[q].live -= 1
            if let record = records[slot.handle] {
                batch.append(record.id)
                handleByID[record.id] = nil
            }
            records[slot.handle] = nil
            freeHandles.append(slot.handle)
            if queues[q].live == 0 { clear(q) }
        }
        return batch
    }

    /// Forgets a pending request and marks its slot stale.
    mutating func removeRecord(_ handle: Int) {
        guard let record = records[handle] else { return }
        records[handle] = nil
        freeHandles.append(handle)
        handleByID[record.id] = nil
        markStale(queue: 2 * record.level + (record.delayed ? 1 : 0))
    }

    /// Accounts for one slot of queue `q` turning stale; compacts when stale slots dominate,
    /// which keeps iteration cost proportional to live requests (amortised O(1) per removal).
    mutating func markStale(queue q: Int) {
        queues[q].live -= 1
        if queues[q].live == 0 {
            clear(q)
            return
        }
        let stale = queues[q].slots.count - queues[q].head - queues[q].live
        if stale > 64, stale > queues[q].live {
            var kept: [Slot] = []
            kept.reserveCapacity(queues[q].live)
            for i in queues[q].head..<queues[q].slots.count where isLive(queues[q].slots[i]) {
                kept.append(queues[q].slots[i])
            }
            queues[q].slots = kept
            queues[q].head = 0
        }
    }

    /// Advances queue `q`'s head past stale slots and releases the consumed prefix now and then.
    mutating func dropStaleHead(_ q: Int) {
        while queues[q].head < queues[q].slots.count, !isLive(queues[q].slots[queues[q].head]) {
            queues[q].head += 1
        }
        if queues[q].head >= 1024, queues[q].head * 2 >= queues[q].slots.count {
            queues[q].slots.removeFirst(queues[q].head)
            queues[q].head = 0
        }
    }

    /// Empties queue `q` (every slot left in it is stale), keeping its storage.
    mutating func clear(_ q: Int) {
        queues[q].slots.removeAll(keepingCapacity: true)
        queues[q].head = 0
    }

    func isLive(_ slot: Slot) -> Bool { records[slot.handle]?.token == slot.token }

    /// Rebuilds the queues for a new number of levels; a request whose level no longer exists
    /// joins the default level. Sorting by token keeps arrival order in main queues and expiry
    /// order in delayed ones.
    mutating func rebuildQueues() {
        var rebuilt = Array(repeating: [Slot](), count: 2 * rules.levelCount)
        for q in queues.indices {
            for i in queues[q].head..<queues[q].slots.count {
                let slot = queues[q].slots[i]
                guard let record = records[slot.handle], record.token == slot.token else { continue }
                let level = record.level < rules.levelCount ? record.level : rules.defaultLevelIndex
                records[slot.handle]?.level = level
                rebuilt[2 * level + (record.delayed ? 1 : 0)].append(slot)
            }
        }
        queues = rebuilt.map { slots in
            let sorted = slots.sorted { $0.token < $1.token }
            return SlotQueue(slots: sorted, head: 0, live: sorted.count)
        }
    }

    // MARK: - Small helpers

    func lowestFreeInstance() -> Int? {
        for i in 0..<rules.instanceCount where !busy[i] { return i }
        return nil
    }

    /// Drops trailing entries for instances beyond `instanceCount` that are no longer busy.
    mutating func trimRetiredInstances() {
        while busy.count > rules.instanceCount, busy.last == false { busy.removeLast() }
    }

    func levelIndex(for priority: Int?) -> Int {
        if let p = priority, p >= 1, p <= rules.levelCount { return p - 1 }
        return rules.defaultLevelIndex
    }

    /// Triton's override rule: a request's timeout replaces the default only if overrides are
    /// allowed and it is non-zero and shorter than the (non-zero) default.
    func effectiveTimeoutMicros(requested: UInt64?) -> UInt64 {
        let fallback = config.defaultTimeoutMicros
        if config.allowTimeoutOverride, let own = requested, own != 0, own < fallback { return own }
        return fallback
    }

    /// Time never runs backwards inside the machine, even if a caller's readings do.
    mutating func advance(to now: UInt64) { nowNanos = max(nowNanos, now) }

    mutating func takeToken() -> UInt64 {
        defer { nextToken += 1 }
        return nextToken
    }
}
