import CicadaCore
import Testing

import CicadaEngine

/// Milliseconds and microseconds of virtual time, in the machine's nanoseconds.
private func ms(_ value: UInt64) -> UInt64 { value * 1_000_000 }
private func us(_ value: UInt64) -> UInt64 { value * 1_000 }

/// Drives a batcher in virtual time the way the engine will: it keeps the one timer the machine
/// asks for, fires it when time passes it, and records every outcome with its time.
private struct BatcherTestHarness {
    typealias Machine = DynamicBatcherStateMachine<Int>

    var machine: Machine
    private(set) var now: UInt64 = 0
    private(set) var timer: UInt64?
    private(set) var dispatched: [(instance: Int, batch: [Int], atNanos: UInt64)] = []
    private(set) var rejected: [(id: Int, reason: BatcherRejection, atNanos: UInt64)] = []
    /// The actions returned by the latest event.
    private(set) var last: [Machine.Action] = []

    init(_ config: BatcherConfig) { machine = Machine(config: config) }

    var batches: [[Int]] { dispatched.map(\.batch) }

    mutating func enqueue(_ id: Int, priority: Int? = nil, timeoutMicros: UInt64? = nil) {
        apply(machine.enqueue(id, priority: priority, timeoutMicros: timeoutMicros, nowNanos: now))
    }

    mutating func enqueue(_ ids: some Sequence<Int>, priority: Int? = nil) {
        for id in ids { enqueue(id, priority: priority) }
    }

    mutating func free(_ instance: Int) { apply(machine.instanceFree(instance, nowNanos: now)) }

    mutating func cancel(_ id: Int) { apply(machine.cancel(id)) }

    mutating func reconfigure(_ config: BatcherConfig) {
        apply(machine.reconfigure(config, nowNanos: now))
    }

    /// Moves virtual time to `target`, firing the timer at its exact moment on the way.
    mutating func run(until target: UInt64) {
        while let due = timer, due <= target {
            now = max(now, due)
            timer = nil
            apply(machine.timerFired(nowNanos: now))
        }
        now = max(now, target)
    }

    private mutating func apply(_ actions: [Machine.Action]) {
        last = actions
        for action in actions {
            switch action {
            case .dispatch(let instance, let batch): dispatched.append((instance, batch, now))
            case .reject(let id, let reason): rejected.append((id, reason, now))
            case .setTimer(let at): timer = at
            case .cancelTimer: timer = nil
            }
        }
    }
}

/// The event mix of one randomised run.
struct RandomMix: Sendable, CustomStringConvertible {
    var name: String
    var stream: UInt64
    var events: Int
    var maxStepMicros: UInt64
    /// Percentages of enqueue, instance-free and cancel events; the rest reconfigure.
    var enqueue: Int
    var free: Int
    var cancel: Int
    var queueSizes: [Int]
    var defaultTimeouts: [UInt64]

    var description: String { name }

    /// Short queues, frequent reconfiguring and queue-full rejections.
    static let shallow = RandomMix(
        name: "shallow", stream: 7, events: 600, maxStepMicros: 400, enqueue: 60, free: 30, cancel: 5,
        queueSizes: [0, 0, 5, 40], defaultTimeouts: [0, 0, 2_000, 20_000])
    /// Slow instances and many cancels and expiries: deep queues full of stale slots, which
    /// drives compaction and head trimming.
    static let deep = RandomMix(
        name: "deep", stream: 11, events: 3_000, maxStepMicros: 20, enqueue: 78, free: 5, cancel: 16,
        queueSizes: [0], defaultTimeouts: [0, 40_000])
}

/// A deliberately naive second reading of the dispatch rule: it re-sorts the whole queue on
/// every event. The property test checks the real machine, with its lazy deletion and
/// compaction, against it action for action.
private struct ReferenceBatcher {
    typealias Action = DynamicBatcherStateMachine<Int>.Action
    struct Item {
        var id: Int
        var level: Int
        var enqueueNanos: UInt64
        var deadline: UInt64?
        var delayed: Bool
        var order: Int
    }

    var config: BatcherConfig
    var items: [Item] = []
    var busy: [Bool]
    var now: UInt64 = 0
    var counter = 0
    var timer: UInt64?

    init(_ config: BatcherConfig) {
        self.config = config
        busy = Array(repeating: false, count: max(1, config.instanceCount))
    }

    var maxBatch: Int { max(1, config.maxBatchSize) }
    var preferred: [Int] {
        let valid = Set(config.preferredBatchSizes.filter { $0 >= 1 && $0 <= maxBatch })
        return valid.isEmpty ? [maxBatch] : valid.sorted(by: >)
    }
    var levels: Int { max(1, config.priorityLevels) }
    var defaultLevel: Int { min(max(config.defaultPriorityLevel, 1), levels) - 1 }
    var instances: Int { max(1, config.instanceCount) }
    var delayNanos: UInt64 { config.maxQueueDelayMicros * 1_000 }
    var firstFree: Int? { (0..<instances).first { !busy[$0] } }
    var serviceOrder: [Item] {
        items.sorted { ($0.level, $0.delayed ? 1 : 0, $0.order) < ($1.level, $1.delayed ? 1 : 0, $1.order) }
    }

    mutating func enqueue(_ id: Int, priority: Int?, timeoutMicros: UInt64?, nowNanos: UInt64) -> [Action] {
        now = max(now, nowNanos)
        var out: [Action] = []
        expire(&out)
        if config.maxQueueSize > 0, items.count >= config.maxQueueSize {
            out.append(.reject(id, .queueFull))
        } else {
            let level = priority.flatMap { (1...levels).contains($0) ? $0 - 1 : nil } ?? defaultLevel
            var timeout = config.defaultTimeoutMicros
            if config.allowTimeoutOverride, let own = timeoutMicros, own != 0, own < timeout { timeout = own }
            items.append(
                Item(id: id, level: level, enqueueNanos: now, deadline: timeout == 0 ? nil : now + timeout * 1_000,
                    delayed: false, order: counter))
            counter += 1
            dispatch(&out)
        }
        updateTimer(&out)
        return out
    }

    mutating func instanceFree(_ instance: Int, nowNanos: UInt64) -> [Action] {
        now = max(now, nowNanos)
        if instance < busy.count { busy[instance] = false }
        while busy.count > instances, busy.last == false { busy.removeLast() }
        return settle()
    }

    mutating func timerFired(nowNanos: UInt64) -> [Action] {
        now = max(now, nowNanos)
        if let t = timer, now >= t { timer = nil }
        return settle()
    }

    mutating func reconfigure(_ new: BatcherConfig, nowNanos: UInt64) -> [Action] {
        now = max(now, nowNanos)
        config = new
        while busy.count < instances { busy.append(false) }
        while busy.count > instances, busy.last == false { busy.removeLast() }
        for i in items.indices where items[i].level >= levels { items[i].level = defaultLevel }
        return settle()
    }

    mutating func cancel(_ id: Int) -> [Action] {
        guard let index = items.firstIndex(where: { $0.id == id }) else { return [] }
        items.remove(at: index)
        var out: [Action] = []
        dispatch(&out)
        updateTimer(&out)
        return out
    }

    private mutating func settle() -> [Action] {
        var out: [Action] = []
        expire(&out)
        dispatch(&out)
        updateTimer(&out)
        return out
    }

    private mutating func expire(_ out: inout [Action]) {
        let due = items.filter { !$0.delayed && ($0.deadline ?? .max) <= now }.sorted { $0.order < $1.order }
        for item in due {
            let index = items.firstIndex { $0.id == item.id }!
            if config.timeoutAction == .reject {
                items.remove(at: index)
                out.append(.reject(item.id, .timeout))
            } else {
                items[index].delayed = true
                items[index].order = counter
                counter += 1
            }
        }
    }

    private mutating func dispatch(_ out: inout [Action]) {
        while !items.isEmpty, let instance = firstFree {
            let order = serviceOrder
            let count = min(order.count, maxBatch)
            let best = preferred.first { $0 <= count } ?? 0
            let oldest = order.prefix(count).map(\.enqueueNanos).min()!
            let exceeded = delayNanos > 0 && now - oldest >= delayNanos
            let size: Int
            if best > 0, !exceeded {
                size = best
            } else if count >= preferred[0] || exceeded || delayNanos == 0 {
                size = count
            } else {
                return
            }
            let batch = order.prefix(size).map(\.id)
            items.removeAll { batch.contains($0.id) }
            busy[instance] = true
            out.append(.dispatch(instance: instance, batch: batch))
        }
    }

    private mutating func updateTimer(_ out: inout [Action]) {
        let anyFree = firstFree != nil
        var wake: UInt64?
        if anyFree, !items.isEmpty, delayNanos > 0 {
            let order = serviceOrder
            wake = order.prefix(min(order.count, maxBatch)).map(\.enqueueNanos).min()! + delayNanos
        }
        if anyFree || config.timeoutAction == .reject,
            let deadline = items.filter({ !$0.delayed }).compactMap(\.deadline).min()
        {
            wake = min(wake ?? .max, deadline)
        }
        guard wake != timer else { return }
        out.append(wake.map { .setTimer(atNanos: $0) } ?? .cancelTimer)
        timer = wake
    }
}

@Suite("DynamicBatcherStateMachine")
struct DynamicBatcherTests {
    // MARK: Dispatch rule

    @Test("a batch that reaches a preferred size goes before the deadline")
    func preferredSizeGoesAtOnce() {
        var h = BatcherTestHarness(.seed)
        for i in 0..<15 {
            h.run(until: us(UInt64(i)))
            h.enqueue(i)
        }
        #expect(h.dispatched.isEmpty)
        #expect(h.timer == ms(10), "waits for the oldest request's 10 ms delay")
        h.run(until: us(15))
        h.enqueue(15)
        #expect(h.batches == [Array(0..<16)])
        #expect(h.dispatched.first?.atNanos == us(15))
        #expect(h.last.last == .cancelTimer, "nothing left to wait for")
        #expect(h.machine.busyInstances == [0])
    }

    @Test("the largest reachable preferred size is sent, the rest waits")
    func largestPreferredReachable() {
        var h = BatcherTestHarness(.seed)
        h.enqueue(0..<16)
        h.enqueue(100..<140)  // 40 arrive while instance 0 is busy
        #expect(h.timer == nil, "no batch-delay timer while every instance is busy")
        h.run(until: ms(1))
        h.free(0)
        #expect(h.batches.last == Array(100..<132))
        h.free(0)
        #expect(h.batches.count == 2, "8 left: below every preferred size, delay not yet run out")
        #expect(h.timer == ms(10))
        h.run(until: ms(10))
        #expect(h.batches.last == Array(132..<140))
        #expect(h.dispatched.last?.atNanos == ms(10))
    }

    @Test("a partial batch leaves when the oldest request's delay runs out")
    func partialBatchAtDeadline() {
        var h = BatcherTestHarness(.seed)
        for i in 0..<5 {
            h.run(until: ms(UInt64(i)))
            h.enqueue(i)
            if i > 0 { #expect(h.last.isEmpty, "an unchanged deadline emits no timer action") }
        }
        #expect(h.timer == ms(10))
        h.run(until: ms(10) - 1)
        #expect(h.dispatched.isEmpty)
        h.run(until: ms(10))
        #expect(h.batches == [[0, 1, 2, 3, 4]])
        #expect(h.dispatched.first?.atNanos == ms(10))
        #expect(h.timer == nil)
    }

    @Test("delay 0 sends whatever is queued at once")
    func zeroDelaySendsAtOnce() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 8, maxQueueDelayMicros: 0))
        h.enqueue(1)
        #expect(h.batches == [[1]])
        h.enqueue([2, 3, 4])
        #expect(h.batches.count == 1)
        h.free(0)
        #expect(h.batches == [[1], [2, 3, 4]])
        #expect(h.timer == nil)
    }

    @Test("delay 0 still cuts at a reachable preferred size, as Triton does")
    func zeroDelayPrefersPreferred() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 8, preferredBatchSizes: [4], maxQueueDelayMicros: 0))
        h.enqueue(0)
        h.enqueue(1..<7)
        h.free(0)
        h.free(0)
        #expect(h.batches == [[0], [1, 2, 3, 4], [5, 6]])
    }

    @Test("no batch exceeds the maximum, and a full batch does not wait")
    func neverExceedsMax() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 8, maxQueueDelayMicros: 5_000))
        h.enqueue(0..<8)
        h.enqueue(8..<28)
        h.free(0)
        h.free(0)
        h.free(0)
        #expect(h.batches == [Array(0..<8), Array(8..<16), Array(16..<24)])
        h.run(until: ms(5))
        #expect(h.batches.last == Array(24..<28))
    }

    // MARK: Queue policy

    @Test("a full queue rejects at once with Triton's message")
    func queueFull() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 1, maxQueueSize: 2))
        h.enqueue(0)  // dispatched: the queue is empty again
        h.enqueue([1, 2])
        h.enqueue(3)
        #expect(h.last == [.reject(3, .queueFull)])
        #expect(BatcherRejection.queueFull.message == "Exceeds maximum queue size")
        #expect(h.machine.pendingCount == 2)
        #expect(h.machine.queueFullRejections == 1)
        h.free(0)
        h.enqueue(4)
        #expect(h.rejected.count == 1, "room again once a request left the queue")
    }

    @Test("a REJECT timeout fails the request at its deadline, even with every instance busy")
    func rejectTimeout() {
        var h = BatcherTestHarness(
            BatcherConfig(maxBatchSize: 4, maxQueueDelayMicros: 1_000, defaultTimeoutMicros: 5_000))
        h.enqueue(0..<4)  // fills instance 0
        h.enqueue(10)
        h.run(until: ms(1))
        h.enqueue(11)
        #expect(h.timer == ms(5), "a REJECT deadline is wanted while busy")
        h.run(until: ms(6))
        #expect(h.rejected.map(\.id) == [10, 11])
        #expect(h.rejected.map(\.atNanos) == [ms(5), ms(6)])
        #expect(h.rejected.allSatisfy { $0.reason == .timeout })
        #expect(BatcherRejection.timeout.message == "Request timeout expired")
        #expect(h.machine.pendingCount == 0)
        #expect(h.machine.timeoutRejections == 2)
        h.free(0)
        #expect(h.batches.count == 1)
    }

    @Test("a per-request timeout may only shorten a non-zero default")
    func timeoutOverride() {
        var config = BatcherConfig(
            maxBatchSize: 1, defaultTimeoutMicros: 5_000, allowTimeoutOverride: true)
        var h = BatcherTestHarness(config)
        h.enqueue(0)  // occupies the only instance
        h.enqueue(1, timeoutMicros: 1_000)
        h.enqueue(2, timeoutMicros: 9_000)
        h.run(until: ms(20))
        #expect(h.rejected.map(\.id) == [1, 2])
        #expect(h.rejected.map(\.atNanos) == [ms(1), ms(5)])

        config.allowTimeoutOverride = false
        h = BatcherTestHarness(config)
        h.enqueue(0)
        h.enqueue(1, timeoutMicros: 1_000)
        h.run(until: ms(20))
        #expect(h.rejected.map(\.atNanos) == [ms(5)], "overrides ignored when not allowed")

        config = BatcherConfig(maxBatchSize: 1, allowTimeoutOverride: true)
        h = BatcherTestHarness(config)
        h.enqueue(0)
        h.enqueue(1, timeoutMicros: 1_000)
        h.run(until: ms(20))
        #expect(h.rejected.isEmpty, "Triton: with no default timeout a request cannot add one")
    }

    @Test("a DELAY timeout moves the request behind unexpired ones; it is still served")
    func delayTimeout() {
        var h = BatcherTestHarness(
            BatcherConfig(
                maxBatchSize: 2, maxQueueDelayMicros: 10_000, defaultTimeoutMicros: 5_000,
                timeoutAction: .delay))
        h.enqueue([0, 1])  // instance 0 busy
        h.enqueue(10)
        #expect(h.timer == nil, "a DELAY expiry while all instances are busy needs no wake-up")
        h.run(until: ms(6))
        h.enqueue([11, 12])
        h.run(until: ms(7))
        h.free(0)
        #expect(h.batches.last == [11, 12], "10 expired at 5 ms and went behind 11 and 12")
        #expect(h.machine.timeoutDelays == 1)
        h.free(0)
        #expect(h.batches.count == 2, "10 alone is below the preferred size and its delay runs to 10 ms")
        #expect(h.timer == ms(10))
        h.run(until: ms(10))
        #expect(h.batches.last == [10])
        #expect(h.rejected.isEmpty)
    }

    // MARK: Priority

    @Test("higher priority first, FIFO within a level; unknown levels take the default")
    func priorityOrder() {
        var h = BatcherTestHarness(
            BatcherConfig(maxBatchSize: 8, maxQueueDelayMicros: 1_000, priorityLevels: 3, defaultPriorityLevel: 2))
        h.enqueue(0..<8)  // a full batch: instance 0 busy
        h.enqueue(10, priority: 3)
        h.enqueue(11, priority: 2)
        h.enqueue(12, priority: 1)
        h.enqueue(13, priority: 1)
        h.enqueue(14)
        h.enqueue(15, priority: 9)
        h.enqueue(16, priority: 0)
        h.run(until: ms(2))
        h.free(0)
        #expect(h.batches.last == [12, 13, 11, 14, 15, 16, 10])
    }

    @Test("the batch is cut by priority: the lowest level waits for the next batch")
    func priorityCutsBatch() {
        var h = BatcherTestHarness(
            BatcherConfig(maxBatchSize: 2, maxQueueDelayMicros: 0, priorityLevels: 2, defaultPriorityLevel: 2))
        h.enqueue(0)  // instance 0 busy
        h.enqueue(10, priority: 2)
        h.enqueue(11, priority: 1)
        h.enqueue(12, priority: 1)
        h.free(0)
        h.free(0)
        #expect(h.batches == [[0], [11, 12], [10]])
    }

    // MARK: Starvation (strict priority, as Triton)

    /// Feeds two priority-1 requests per millisecond while a priority-2 request waits.
    private func saturatingHighLoad(_ h: inout BatcherTestHarness, fromMs: UInt64, toMs: UInt64) {
        for t in fromMs..<toMs {
            h.run(until: ms(t))
            h.enqueue(Int(2 * t + 1000), priority: 1)
            h.enqueue(Int(2 * t + 1001), priority: 1)
            h.free(0)
        }
    }

    @Test("a low-priority request rides in the first batch the high level leaves room in")
    func noStarvationWithRoom() {
        var h = BatcherTestHarness(
            BatcherConfig(maxBatchSize: 4, maxQueueDelayMicros: 1_000, priorityLevels: 2, defaultPriorityLevel: 2))
        h.enqueue(99, priority: 2)
        for t in UInt64(0)..<5 {
            h.run(until: ms(t))
            h.enqueue(Int(2 * t), priority: 1)
            h.enqueue(Int(2 * t + 1), priority: 1)
            if t > 0 { h.free(0) }
        }
        #expect(h.batches.first == [0, 1, 99], "continuous high-priority load, but batches had room")
        #expect(h.dispatched.first?.atNanos == ms(1))
    }

    @Test("under load that fills every batch, a REJECT timeout bounds the low-priority wait")
    func starvationBoundedByReject() {
        var h = BatcherTestHarness(
            BatcherConfig(
                maxBatchSize: 2, maxQueueDelayMicros: 10_000, defaultTimeoutMicros: 20_000,
                priorityLevels: 2, defaultPriorityLevel: 2))
        h.enqueue([1, 2], priority: 1)  // a full batch: instance 0 busy
        h.enqueue(99, priority: 2)
        saturatingHighLoad(&h, fromMs: 1, toMs: 40)
        #expect(h.batches.allSatisfy { !$0.contains(99) })
        #expect(h.rejected.count == 1)
        #expect(h.rejected.first?.id == 99)
        #expect(h.rejected.first?.atNanos == ms(20))
    }

    @Test("DELAY does not lift a request over a higher level; it runs once that level drains")
    func delayKeepsStrictPriority() {
        var h = BatcherTestHarness(
            BatcherConfig(
                maxBatchSize: 2, maxQueueDelayMicros: 10_000, defaultTimeoutMicros: 20_000,
                timeoutAction: .delay, priorityLevels: 2, defaultPriorityLevel: 2))
        h.enqueue([1, 2], priority: 1)  // a full batch: instance 0 busy
        h.enqueue(99, priority: 2)
        saturatingHighLoad(&h, fromMs: 1, toMs: 40)
        #expect(h.batches.allSatisfy { !$0.contains(99) })
        let stillPending = h.machine.isPending(99)
        #expect(stillPending)
        h.run(until: ms(40))
        h.free(0)
        #expect(h.batches.last == [99], "high-priority load stopped: 99 (waited 40 ms) goes at once")
        #expect(h.rejected.isEmpty)
    }

    // MARK: Instances

    @Test("two instances share one queue; the lowest-numbered free instance gets the batch")
    func twoInstances() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 4, maxQueueDelayMicros: 1_000, instanceCount: 2))
        h.enqueue(0..<8)
        #expect(h.dispatched.map(\.instance) == [0, 1])
        #expect(h.batches == [Array(0..<4), Array(4..<8)])
        #expect(h.machine.busyInstances == [0, 1])
        h.enqueue(8..<12)
        #expect(h.machine.pendingCount == 4)
        h.free(1)
        #expect(h.dispatched.last?.instance == 1)
        #expect(h.batches.last == Array(8..<12))
        h.free(0)
        h.free(1)
        h.run(until: us(100))
        h.enqueue(20)
        #expect(h.timer == us(1_100))
        h.run(until: us(1_100))
        #expect(h.dispatched.last?.instance == 0)
        #expect(h.dispatched.last?.batch == [20])
    }

    // MARK: Reconfigure

    @Test("reconfigure mid-run: pending requests stay queued and new limits apply at once")
    func reconfigureMidRun() {
        var h = BatcherTestHarness(.seed)
        h.enqueue(0..<10)
        #expect(h.timer == ms(10))
        h.run(until: us(500))
        h.reconfigure(.lowLatency)
        #expect(h.batches == [Array(0..<8)], "8 is a preferred size under the new config")
        #expect(h.machine.pendingCount == 2)
        #expect(h.timer == nil, "instance busy")

        var two = BatcherConfig.lowLatency
        two.instanceCount = 2
        h.reconfigure(two)
        #expect(h.timer == ms(1), "the new instance waits out the new 1 ms delay of request 8")
        h.run(until: ms(1))
        #expect(h.dispatched.last?.instance == 1)
        #expect(h.batches.last == [8, 9])
    }

    @Test("removing an instance retires it once its batch completes")
    func reconfigureShrinkInstances() {
        var config = BatcherConfig(maxBatchSize: 1, instanceCount: 2)
        var h = BatcherTestHarness(config)
        h.enqueue([0, 1])
        #expect(h.machine.busyInstances == [0, 1])
        config.instanceCount = 1
        h.reconfigure(config)
        #expect(h.machine.busyInstances == [0, 1], "instance 1 still finishing")
        h.enqueue(2)
        h.free(1)
        #expect(h.machine.busyInstances == [0])
        #expect(h.batches.count == 2, "the retired instance takes no new work")
        h.free(0)
        #expect(h.dispatched.last?.instance == 0)
        #expect(h.batches.last == [2])
    }

    @Test("fewer priority levels: requests of a vanished level join the default level in order")
    func reconfigureLevels() {
        var config = BatcherConfig(
            maxBatchSize: 8, maxQueueDelayMicros: 1_000, priorityLevels: 3, defaultPriorityLevel: 1)
        var h = BatcherTestHarness(config)
        h.enqueue(0..<8)  // a full batch: instance 0 busy
        h.enqueue(10, priority: 3)
        h.enqueue(11, priority: 2)
        h.enqueue(12, priority: 1)
        h.enqueue(13, priority: 3)
        config.priorityLevels = 2
        config.defaultPriorityLevel = 2
        h.reconfigure(config)
        h.run(until: ms(2))
        h.free(0)
        #expect(h.batches.last == [12, 10, 11, 13], "10 and 13 join level 2 in arrival order")
    }

    @Test("a queue that never empties keeps FIFO order while its storage is trimmed and compacted")
    func longLivedQueue() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 16, maxQueueDelayMicros: 0))
        h.enqueue(0..<3_000)
        var next = 3_000
        var cancelled = Set<Int>()
        for round in 0..<300 {
            if round % 3 == 0 {  // a hole in the middle now and then
                #expect(h.machine.isPending(next - 7))
                cancelled.insert(next - 7)
                h.cancel(next - 7)
            }
            h.enqueue(next..<(next + 8))
            next += 8
            h.free(0)
        }
        while h.machine.pendingCount > 0 { h.free(0) }
        let served = h.batches.flatMap { $0 }
        let inOrder = served == (0..<next).filter { !cancelled.contains($0) }
        #expect(inOrder, "served \(served.count) of \(next - cancelled.count), FIFO broken")
        #expect(h.batches.allSatisfy { $0.count <= 16 })
    }

    // MARK: Cancel, timers, counters

    @Test("cancel withdraws a request and the timer follows")
    func cancelWithdraws() {
        var h = BatcherTestHarness(.seed)
        h.enqueue(0)
        h.run(until: ms(2))
        h.enqueue(1)
        h.cancel(0)
        #expect(h.timer == ms(12), "the deadline now follows request 1")
        h.cancel(1)
        #expect(h.last == [.cancelTimer])
        h.cancel(42)
        #expect(h.last.isEmpty)
        #expect(h.machine.cancellations == 2)
        h.run(until: ms(30))
        #expect(h.dispatched.isEmpty)
    }

    @Test("counters give the average batch size")
    func counters() {
        var h = BatcherTestHarness(BatcherConfig(maxBatchSize: 4, maxQueueDelayMicros: 0))
        #expect(h.machine.averageBatchSize == 0)
        h.enqueue(0)
        h.enqueue(1..<4)
        h.free(0)
        #expect(h.machine.executions == 2)
        #expect(h.machine.inferences == 4)
        #expect(h.machine.averageBatchSize == 2)
    }

    // MARK: Property test

    /// Every dispatched batch is within the max, every request ends exactly once (dispatched,
    /// rejected or cancelled), no state is stuck without a timer, and each event's actions
    /// equal those of ``ReferenceBatcher``.
    @Test(
        "random arrivals, frees, cancels and reconfigures",
        arguments: [RandomMix.shallow, RandomMix.deep], 1...8 as ClosedRange<UInt64>)
    func randomisedInvariants(mix: RandomMix, seed: UInt64) {
        var rng = SeededRandom(seed: seed, stream: mix.stream)
        func randomConfig() -> BatcherConfig {
            let maxBatch = Int.random(in: 1...16, using: &rng)
            let preferred = (1...maxBatch).filter { _ in Int.random(in: 0..<4, using: &rng) == 0 }
            let levels = Int.random(in: 0...3, using: &rng)
            return BatcherConfig(
                maxBatchSize: maxBatch,
                preferredBatchSizes: preferred,
                maxQueueDelayMicros: [0, 100, 1_000, 5_000].randomElement(using: &rng)!,
                maxQueueSize: mix.queueSizes.randomElement(using: &rng)!,
                defaultTimeoutMicros: mix.defaultTimeouts.randomElement(using: &rng)!,
                timeoutAction: Bool.random(using: &rng) ? .reject : .delay,
                allowTimeoutOverride: Bool.random(using: &rng),
                priorityLevels: levels,
                defaultPriorityLevel: levels > 1 ? Int.random(in: 1...levels, using: &rng) : 0,
                instanceCount: Int.random(in: 1...3, using: &rng))
        }

        var config = randomConfig()
        var machine = DynamicBatcherStateMachine<Int>(config: config)
        var reference = ReferenceBatcher(config)
        var now: UInt64 = 0
        var timer: UInt64?
        var busy = Set<Int>()
        var outcome: [Int: String] = [:]
        var pending = Set<Int>()
        var nextID = 0

        /// `eventNanos` is the time the event carried, nil for `cancel`, which carries none.
        func apply(
            _ actions: [DynamicBatcherStateMachine<Int>.Action], _ expected: [ReferenceBatcher.Action],
            eventNanos: UInt64?
        ) {
            #expect(actions == expected, "the machine and the naive reference disagree")
            for action in actions {
                switch action {
                case .dispatch(let instance, let batch):
                    #expect(!batch.isEmpty)
                    #expect(batch.count <= config.maxBatchSize, "batch of \(batch.count) > \(config.maxBatchSize)")
                    #expect(!busy.contains(instance), "instance \(instance) dispatched while busy")
                    #expect(instance >= 0 && instance < config.instanceCount)
                    busy.insert(instance)
                    for id in batch {
                        #expect(outcome[id] == nil, "request \(id) finished twice")
                        outcome[id] = "dispatched"
                        pending.remove(id)
                    }
                case .reject(let id, _):
                    #expect(outcome[id] == nil, "request \(id) finished twice")
                    outcome[id] = "rejected"
                    pending.remove(id)
                case .setTimer(let at):
                    if let t = eventNanos { #expect(at > t, "a timer must lie in the future") }
                    timer = at
                case .cancelTimer:
                    timer = nil
                }
            }
            #expect(machine.pendingCount == pending.count)
            #expect(Set(machine.busyInstances) == busy)
            let anyFree = (0..<config.instanceCount).contains { !busy.contains($0) }
            if anyFree && !pending.isEmpty {
                #expect(timer != nil, "requests pending, an instance free and no timer: stuck")
            }
            #expect(machine.scheduledTimerNanos == timer)
        }

        for _ in 0..<mix.events {
            now += UInt64.random(in: 0...mix.maxStepMicros, using: &rng) * 1_000
            while let due = timer, due <= now {
                timer = nil
                apply(machine.timerFired(nowNanos: due), reference.timerFired(nowNanos: due), eventNanos: due)
            }
            let roll = Int.random(in: 0..<100, using: &rng)
            switch roll {
            case ..<mix.enqueue:
                let id = nextID
                nextID += 1
                pending.insert(id)
                let priority = Bool.random(using: &rng) ? Int.random(in: 0...4, using: &rng) : nil
                let timeout = Bool.random(using: &rng) ? UInt64.random(in: 1...30_000, using: &rng) : nil
                apply(
                    machine.enqueue(id, priority: priority, timeoutMicros: timeout, nowNanos: now),
                    reference.enqueue(id, priority: priority, timeoutMicros: timeout, nowNanos: now),
                    eventNanos: now)
            case ..<(mix.enqueue + mix.free):
                if let instance = busy.randomElement(using: &rng) {
                    busy.remove(instance)
                    apply(
                        machine.instanceFree(instance, nowNanos: now),
                        reference.instanceFree(instance, nowNanos: now), eventNanos: now)
                }
            case ..<(mix.enqueue + mix.free + mix.cancel):
                if let id = pending.randomElement(using: &rng) {
                    pending.remove(id)
                    outcome[id] = "cancelled"
                    apply(machine.cancel(id), reference.cancel(id), eventNanos: nil)
                }
            default:
                config = randomConfig()
                apply(
                    machine.reconfigure(config, nowNanos: now), reference.reconfigure(config, nowNanos: now),
                    eventNanos: now)
            }
        }

        // Drain: stop arrivals, keep freeing instances and firing timers until nothing is left.
        var rounds = 0
        while !pending.isEmpty, rounds < 10_000 {
            rounds += 1
            now += 1_000_000
            while let due = timer, due <= now {
                timer = nil
                apply(machine.timerFired(nowNanos: due), reference.timerFired(nowNanos: due), eventNanos: due)
            }
            for instance in busy.sorted() {
                busy.remove(instance)
                apply(
                        machine.instanceFree(instance, nowNanos: now),
                        reference.instanceFree(instance, nowNanos: now), eventNanos: now)
            }
        }
        #expect(pending.isEmpty)
        #expect(outcome.count == nextID, "every request dispatched, rejected or cancelled exactly once")
        let dispatchedCount = outcome.values.filter { $0 == "dispatched" }.count
        #expect(machine.inferences == dispatchedCount)
    }
}
