import CicadaCore

/// The closed model's users on one worker: who exists, who is due, what each sends next, and
/// when each is due again. Pure: time comes in as nanoseconds on the run clock, nothing here
/// sends, so it is tested in virtual time (`ClosedUsersTests`).
///
/// User `i` of the run lives on worker `i % workerCount` (see ``RunControl/share(of:worker:workerCount:)``);
/// its random stream is seeded by its global id, so a run's requests do not depend on how many
/// workers share it. Concrete and in this module on purpose: called per request, it must be
/// specialised into the worker's loop (see ``WakeHeap``).
struct ClosedUsers {
    /// One simulated user.
    struct User {
        var id: Int
        var rng: SeededRandom
        var seq: UInt64 = 0
        var onStartNext = 0
        var sequentialNext = 0
        var inFlight = false
        var retiring = false
        var active = true
        /// Intended start of the next request (ns on the run clock).
        var wakeNanos: UInt64
    }

    let worker: Int
    let workerCount: Int
    let seed: UInt64
    private(set) var users: [User] = []
    private var freeSlots: [Int] = []
    /// Users started and not yet retired (retiring ones still count until their request ends).
    private(set) var activeCount = 0
    private var wakeups = WakeHeap()

    init(worker: Int, workerCount: Int, seed: UInt64) {
        self.worker = worker; self.workerCount = workerCount; self.seed = seed
    }

    /// The earliest moment a user may be due (nil: none waiting).
    var nextWakeNanos: UInt64? { wakeups.minKey }

    /// Brings this worker's users to `want`: new users are due at once; surplus users retire,
    /// the most recently spawned first (as Locust does), each when its request in flight ends.
    mutating func reconcile(want: Int, now: UInt64) {
        while activeCount < want {
            let id = worker + workerCount * activeCount
            let user = User(id: id, rng: SeededRandom(seed: seed, stream: UInt64(id) + 1), wakeNanos: now)
            let slot: Int
            if let s = freeSlots.popLast() { users[s] = user; slot = s } else { users.append(user); slot = users.count - 1 }
            activeCount += 1
            wakeups.push(now, slot)
        }
        if activeCount > want {
            var order = users.indices.filter { users[$0].active && !users[$0].retiring }
            order.sort { users[$0].id > users[$1].id }
            for slot in order.prefix(activeCount - want) {
                users[slot].retiring = true
                if !users[slot].inFlight { retire(slot) }
            }
        }
    }

    private mutating func retire(_ slot: Int) {
        users[slot].active = false
        activeCount -= 1
        freeSlots.append(slot)
    }

    /// The next user due at `now`, with its intended start; nil when none is. Stale wake-ups
    /// (retired users, users already in flight) are skipped.
    mutating func popDue(now: UInt64) -> (slot: Int, intendedNanos: UInt64)? {
        while let k = wakeups.minKey, k <= now {
            let (_, slot) = wakeups.pop()!
            guard users[slot].active, !users[slot].retiring, !users[slot].inFlight else { continue }
            let intended = users[slot].wakeNanos
            guard intended <= now else { wakeups.push(intended, slot); continue }
            return (slot, intended)
        }
        return nil
    }

    /// What the user in `slot` sends next: its `on_start` steps in order, then its tasks
    /// (weighted pick or in sequence), with its sequence number; marks it in flight.
    mutating func beginRequest(slot: Int, onStartCount: Int, flow: TaskFlow, taskCount: Int, picker: TaskPicker) -> (ref: Transfer.TaskRef, seq: UInt64) {
        let ref: Transfer.TaskRef
        if users[slot].onStartNext < onStartCount {
            ref = .onStart(users[slot].onStartNext)
            users[slot].onStartNext += 1
        } else {
            switch flow {
            case .weighted:
                ref = .task(picker.pick(&users[slot].rng))
            case .sequential:
                ref = .task(users[slot].sequentialNext)
                users[slot].sequentialNext = (users[slot].sequentialNext + 1) % taskCount
            }
        }
        let seq = users[slot].seq
        users[slot].seq += 1
        users[slot].inFlight = true
        return (ref, seq)
    }

    /// The user's random stream, lent out for the request's templates (``returnRandom``
    /// gives it back), so no access to the users is held while the request is sent.
    func random(slot: Int) -> SeededRandom { users[slot].rng }
    mutating func returnRandom(_ rng: SeededRandom, slot: Int) { users[slot].rng = rng }

    /// The request could not be sent at all (it was recorded as a failure); the user is free.
    mutating func abandonRequest(slot: Int) { users[slot].inFlight = false }

    /// The user's request ended at `end`: a retiring user retires; otherwise it is due again
    /// after its wait (from the response, Locust's rule) or on its pacing grid (one period after
    /// this request's slot, so a slow response does not shift the grid). With `retryAfterNanos`
    /// (the server's `Retry-After`, when the scenario honours it) the user is due no earlier
    /// than that long after the response.
    mutating func finished(slot: Int, intendedNanos: UInt64, sentNanos: UInt64, endNanos: UInt64, wait: WaitTime, retryAfterNanos: UInt64? = nil) {
        users[slot].inFlight = false
        if users[slot].retiring { retire(slot); return }
        if let period = wait.pacingPeriod {
            users[slot].wakeNanos = intendedNanos &+ period.nanos
        } else {
            let w = wait.wait(taskTook: .nanos(endNanos &- sentNanos), rng: &users[slot].rng)
            users[slot].wakeNanos = endNanos &+ w.nanos
        }
        if let after = retryAfterNanos { users[slot].wakeNanos = max(users[slot].wakeNanos, endNanos &+ after) }
        wakeups.push(max(users[slot].wakeNanos, endNanos), slot)
    }
}
