/// The batcher's storage types: request records, queue slots and the clamped rules.
extension DynamicBatcherStateMachine {
    /// One pending request. `token` names its current queue slot: it changes when a DELAY
    /// timeout moves the request, which turns its old slot and timeout entry stale. Tokens only
    /// grow, so within a queue they also give the service order.
    struct Record: Sendable {
        var id: RequestID
        var token: UInt64
        var level: Int
        var enqueueNanos: UInt64
        var delayed: Bool
    }

    /// A queue entry: live while `records[handle]?.token == token`.
    struct Slot: Sendable {
        var handle: Int
        var token: UInt64
    }

    /// A FIFO of slots with a moving head; `live` counts the slots that are not stale.
    struct SlotQueue: Sendable {
        var slots: [Slot] = []
        var head = 0
        var live = 0
    }

    /// The config clamped into a usable form, so an invalid config degrades instead of trapping.
    struct Rules: Sendable {
        var maxBatchSize: Int
        var preferredDescending: [Int]
        var maxPreferred: Int
        var delayNanos: UInt64
        var levelCount: Int
        var defaultLevelIndex: Int
        var instanceCount: Int

        init(_ c: BatcherConfig) {
            maxBatchSize = max(1, c.maxBatchSize)
            let valid = Set(c.preferredBatchSizes.filter { $0 >= 1 && $0 <= max(1, c.maxBatchSize) })
            preferredDescending = valid.isEmpty ? [maxBatchSize] : valid.sorted(by: >)
            maxPreferred = preferredDescending[0]
            delayNanos = nanos(fromMicros: c.maxQueueDelayMicros)
            levelCount = max(1, c.priorityLevels)
            defaultLevelIndex = min(max(c.defaultPriorityLevel, 1), levelCount) - 1
            instanceCount = max(1, c.instanceCount)
        }

        /// The largest preferred size not above `count`, or 0 when none is reachable.
        func largestPreferred(atMost count: Int) -> Int {
            for size in preferredDescending where size <= count { return size }
            return 0
        }
    }
}
