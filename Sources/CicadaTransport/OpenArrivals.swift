import CicadaCore

/// The open model's arrivals on one worker: which are due, which start, which wait in the
/// queue and which are dropped. Pure: time comes in as nanoseconds on the run clock; what to
/// do comes out as ``Event``s, so it is tested in virtual time (`OpenArrivalsTests`).
///
/// Every worker walks the same seeded ``ArrivalSchedule`` and takes the arrivals whose index
/// is its own modulo the worker count, so the run's schedule does not depend on the workers.
/// An arrival's intended start is its slot on the schedule (through the live ``RateWarp``),
/// never when a slot freed up: a queued arrival is timed from its arrival, which is what keeps
/// coordinated omission out of the open model.
struct OpenArrivals {
    /// What the worker must do as arrivals come due.
    enum Event: Equatable {
        /// An arrival came due `lagNanos` after its intended start (the generator's lag).
        case due(lagNanos: UInt64)
        /// Start arrival `index` now; it was meant to start at `intendedNanos`.
        case start(index: UInt64, intendedNanos: UInt64)
        /// The queue was full: the arrival is dropped (counted, never sent).
        case drop
    }

    let worker: Int
    let workerCount: Int
    /// The run's start on its clock; schedule offsets are from it.
    let startNanos: UInt64
    /// The most requests this worker has in flight; more wait in the queue.
    let maxInFlight: Int
    /// The most arrivals waiting (this worker's share); more are dropped and counted.
    let maxQueue: Int
    private var schedule: ArrivalSchedule
    private var pending: (index: UInt64, position: Double)?
    private var queue: [(index: UInt64, intendedNanos: UInt64)] = []
    private var queueHead = 0
    /// The rate warp in force (live rate changes).
    var warp = RateWarp()

    init(load: OpenLoad, seed: UInt64, worker: Int, workerCount: Int, startNanos: UInt64) {
        self.worker = worker; self.workerCount = workerCount; self.startNanos = startNanos
        maxInFlight = max(1, RunControl.share(of: load.maxInFlight, worker: worker, workerCount: workerCount))
        maxQueue = RunControl.share(of: load.maxQueue ?? OpenLoad.defaultMaxQueue, worker: worker, workerCount: workerCount)
        schedule = ArrivalSchedule(load: load, seed: seed)
    }

    /// Arrivals waiting for a free slot (at the end: those that never started, counted as dropped).
    var queued: Int { queue.count - queueHead }

    /// Starts what can start at `now` with `inFlight` requests busy: queued arrivals first
    /// (FIFO), then each arrival that has come due, which starts, queues or is dropped.
    /// `inFlight` is read again after each start (a start may fail without taking a slot).
    mutating func advance(now: UInt64, inFlight: () -> Int, _ handle: (Event) -> Void) {
        while queueHead < queue.count, inFlight() < maxInFlight {
            let a = queue[queueHead]
            queueHead += 1
            handle(.start(index: a.index, intendedNanos: a.intendedNanos))
        }
        if queueHead > 1024, queueHead * 2 > queue.count { queue.removeFirst(queueHead); queueHead = 0 }
        while true {
            if pending == nil { pending = nextOwnArrival() }
            // Past the schedule's end the arrival waits (a later rate change may bring it in).
            guard let a = pending, let intended = intendedNanos(position: a.position), intended <= now else { break }
            pending = nil
            handle(.due(lagNanos: now - intended))
            if inFlight() < maxInFlight, queueHead == queue.count {
                handle(.start(index: a.index, intendedNanos: intended))
            } else if queue.count - queueHead >= maxQueue {
                handle(.drop)
            } else {
                queue.append((a.index, intended))
            }
        }
    }

    /// When the worker must look again, with `inFlight` busy: now if a queued arrival can take
    /// a free slot, else the next arrival's intended start while a slot is free (nil: nothing
    /// to wait for but a response).
    func nextDueNanos(now: UInt64, inFlight: Int) -> UInt64? {
        guard inFlight < maxInFlight else { return nil }
        if queueHead < queue.count { return now }
        if let a = pending { return intendedNanos(position: a.position) }
        return nil
    }

    /// An arrival's intended start on the run clock under the rate changes so far; nil past
    /// the schedule's end.
    private func intendedNanos(position: Double) -> UInt64? {
        schedule.offsetNanos(forPosition: position, warp: warp).map { startNanos &+ $0 }
    }

    private mutating func nextOwnArrival() -> (index: UInt64, position: Double) {
        while true {
            let a = schedule.nextPosition()
            if a.index % UInt64(workerCount) == UInt64(worker) { return a }
        }
    }
}
