import CicadaCore

/// What every load worker shares whatever its transport: this worker's closed-model users or
/// open-model arrivals, when the next one is due, and the hand-over of interval stats.
struct WorkerSchedule {
    /// Closed model: this worker's users (nil in the open model).
    var closed: ClosedUsers?
    /// Open model: this worker's arrivals (nil in the closed model).
    var arrivals: OpenArrivals?
    /// The rate warp's generation last read from the controls.
    var warpGeneration = 0
    /// When stats were last handed over (run clock, ns).
    var lastFlush: UInt64 = 0
    /// The most requests this worker has in flight at once (its users, or its share of
    /// `max_in_flight`).
    let maxInFlight: Int
    /// Whether the arrivals due when the load stopped have been started (once, at the stop).
    var startedDueAtStop = false
    /// The replayed trace, if any, and its blocks built so far (``requestChoices``).
    var trace: WorkerTrace
    /// A `split:` run's chooser (``splitMember``).
    var split = WorkerSplit()
    /// The users' multi-turn conversations (``beginTurn``).
    var chats = WorkerChats()

    init(plan: RunPlan, index: Int, count: Int, startNanos: UInt64, shard: ShardSpec = .single) {
        // The worker's place in the run-wide grid of shards × workers: its users' global ids and
        // its stripe of the global arrival schedule (see ShardSpec).
        let slot = shard.slot(worker: index, workerCount: count)
        trace = WorkerTrace(plan: plan)
        switch plan.scenario.load {
        case .closed(let c):
            maxInFlight = RunControl.share(of: c.peakUsers, worker: slot.index, workerCount: slot.count)
            closed = ClosedUsers(worker: slot.index, workerCount: slot.count, seed: plan.scenario.seed)
        case .open(let o):
            let a = OpenArrivals(load: o, seed: plan.scenario.seed, worker: slot.index, workerCount: slot.count, startNanos: startNanos)
            maxInFlight = a.maxInFlight
            arrivals = a
        }
    }
}

/// A worker that sends requests on the schedule of ``WorkerSchedule``: the curl worker
/// (``LoadWorker``) and the fast HTTP/1.1 worker (``FastWorker``) differ only in how a request
/// goes on the wire (``send``); who is due, when, and what each user does next live here once.
protocol ScheduledWorker: AnyObject {
    var plan: RunPlan { get }
    var index: Int { get }
    var count: Int { get }
    var control: RunControl { get }
    var outbox: IntervalOutbox { get }
    /// The run's start on the run clock (for the warm-up and cool-down of the schedule lag).
    var startNanos: UInt64 { get }
    var stats: IntervalStats { get set }
    var inFlight: Int { get }
    var schedule: WorkerSchedule { get set }
    /// Sends one request; false when it could not be sent at all (recorded as a failure).
    func send(_ ref: Transfer.TaskRef, user: Int, seq: UInt64, slot: Int, intended: UInt64, now: UInt64, rng: inout SeededRandom) -> Bool
}

extension ScheduledWorker {
    /// Starts the users or arrivals due at `now` (nothing while paused).
    func startDue(now: UInt64) {
        if schedule.closed != nil { startDueUsers(now: now) } else { startDueArrivals(now: now) }
    }

    /// Arrivals that came due before the stop but that a late generator had not yet started go
    /// out once, at the stop (late, and timed from their intended start): otherwise a busy
    /// generator would silently send fewer than the schedule, and the shards of a distributed
    /// run would not add up to one run's requests.
    func startDueAtStop(now: UInt64) {
        guard !schedule.startedDueAtStop, schedule.arrivals != nil, !control.paused, !control.abort else { return }
        schedule.startedDueAtStop = true
        startDueArrivals(now: now)
    }

    /// The generator's lateness for one start, left out (like every other figure) when the start
    /// falls in a timed warm-up or the cool-down. A warm-up counted in requests is known only
    /// when the request goes out, so its starts' lateness is kept.
    func recordLag(_ lag: UInt64, intended: UInt64) {
        let w = plan.scenario.measurement
        if !w.isEmpty, w.phase(intendedNanos: intended, startNanos: startNanos, durationNanos: plan.scenario.load.duration?.nanos) != .measured { return }
        stats.scheduleLag.record(nanos: lag)
    }

    /// When the loop must look again for due work (nil: nothing but a response to wait for).
    func nextDueNanos(now: UInt64) -> UInt64? {
        // Arrivals waiting in the queue start as soon as a slot is free: never sleep past one
        // (a freed slot left idle until the next arrival would cap the drain rate).
        schedule.closed?.nextWakeNanos ?? schedule.arrivals?.nextDueNanos(now: now, inFlight: inFlight)
    }

    private func startDueUsers(now: UInt64) {
        schedule.closed!.reconcile(want: RunControl.share(of: control.targetUsers, worker: index, workerCount: count), now: now)
        while let (slot, intended) = schedule.closed!.popDue(now: now) {
            recordLag(now - intended, intended: intended)
            let (ref, seq) = schedule.closed!.beginRequest(slot: slot, onStartCount: plan.scenario.onStart.count, flow: plan.scenario.flow,
                                                           taskCount: plan.scenario.tasks.count, picker: plan.picker)
            // The user's random stream is lent out, so nothing holds the users while sending
            // (a send that fails at once finishes the user inside it).
            var rng = schedule.closed!.random(slot: slot)
            let ok = send(ref, user: schedule.closed!.users[slot].id, seq: seq, slot: slot, intended: intended, now: now, rng: &rng)
            schedule.closed!.returnRandom(rng, slot: slot)
            if !ok { schedule.closed!.abandonRequest(slot: slot) }
        }
    }

    /// A user's request ended: it is due again after its wait (or retires).
    func userFinished(slot: Int, intended: UInt64, sent: UInt64, end: UInt64, retryAfterSeconds: Int64? = nil) {
        // A day at most: past that the run is over anyway, and the sum must not wrap.
        let after = retryAfterSeconds.map { UInt64(min($0, 86_400)) * 1_000_000_000 }
        schedule.closed?.finished(slot: slot, intendedNanos: intended, sentNanos: sent, endNanos: end, wait: plan.waitTime,
                                  retryAfterNanos: plan.honorRetryAfter ? after : nil)
    }

    func startDueArrivals(now: UInt64) {
        let generation = control.warpGeneration
        if generation != schedule.warpGeneration { schedule.arrivals!.warp = control.warp; schedule.warpGeneration = generation }
        // The scheduler is taken out while it runs, so a send can never touch it mid-change.
        var a = schedule.arrivals!
        schedule.arrivals = nil   // the copy above now holds the only reference to the queue: no copy-on-write
        a.advance(now: now, inFlight: { self.inFlight }) { event in
            switch event {
            case .due(let lag): recordLag(lag, intended: now &- lag)
            case .start(let i, let intended): startArrival(index: i, intended: intended, now: now)
            case .drop: stats.dropped += 1
            }
        }
        schedule.arrivals = a
    }

    private func startArrival(index: UInt64, intended: UInt64, now: UInt64) {
        var rng = SeededRandom(seed: plan.scenario.seed, stream: (1 << 40) &+ index)
        let t = plan.picker.pick(&rng)
        _ = send(.task(t), user: Int(index), seq: index, slot: -1, intended: intended, now: now, rng: &rng)
    }

    /// How long the loop may sleep: whole milliseconds for `epoll_wait`, plus the exact
    /// nanoseconds to the next due user or arrival (to arm a timerfd) when one comes first.
    /// `deadline` is the transport's own next deadline (libcurl's timeout, or the earliest
    /// request timeout). Control changes (users, stop) are polled at least every 50 ms, stats
    /// handed over every 250 ms.
    func pollTimeout(now: UInt64, stopping: Bool, deadline: UInt64) -> (millis: Int, preciseNanos: UInt64?) {
        var next = min(schedule.lastFlush &+ LoadWorker.flushNanos, now &+ 50_000_000)
        if deadline <= now { return (0, nil) }
        next = min(next, deadline)
        var due: UInt64?
        if !stopping, !control.paused { due = nextDueNanos(now: now) }
        if let d = due, d < next {
            if d <= now { return (0, nil) }
            return (Int((d - now) / 1_000_000) + 1, d - now)
        }
        if next <= now { return (0, nil) }
        return (Int((next - now + 999_999) / 1_000_000), nil)
    }

    /// Hands this interval's stats to the aggregator and starts a new interval.
    func flush(at now: UInt64, finished: Bool) {
        let gauges = WorkerGauges(users: schedule.closed?.activeCount ?? 0, inFlight: inFlight, queued: schedule.arrivals?.queued ?? 0)
        outbox.post(.init(worker: index, stats: stats, gauges: gauges, finished: finished))
        stats = stats.emptied()
        schedule.lastFlush = now
    }

    /// The run is over: arrivals still queued never started and count as dropped; the last
    /// stats go out with `finished`.
    func finishRun(at end: UInt64) {
        stats.dropped += UInt64(schedule.arrivals?.queued ?? 0)
        flush(at: end, finished: true)
    }

    /// Records a judged response (or transport failure) and frees its user: finishes a stream's
    /// parser and timing at `end`, turns an invalid or failed stream into its failure, sets the
    /// token figures and goodput. Both transports end every request here.
    /// `phase` says whether the request counts (warm-up, cool-down); `onContent` receives the
    /// answer text of the stream's last events (a conversation keeps it); `judged` sees the final
    /// outcome before it is recorded.
    func record(_ outcome: RequestOutcome, spec: TaskSpec, timing: StreamTiming?, sse: inout SSEParser?, slot: Int, retryAfterSeconds: Int64?,
                phase: MeasurementPhase = .measured, onContent: ((String) -> Void)? = nil, judged: ((RequestOutcome) -> Void)? = nil) {
        var outcome = outcome
        let end = outcome.endNanos
        if var timing {
            let dialect = timing.dialect
            sse?.finish { event in
                let c = dialect.classify(event)
                if let onContent, case .choices(let content, _, _, _) = c { onContent(content) }
                timing.record(c, atNanos: end)
            }
            if outcome.failure == nil {
                // The server's own error first; then whether the stream was a valid one at all.
                if let e = timing.error {
                    outcome.failure = .streamError
                    outcome.error = "error in stream: " + e
                } else if let why = timing.invalidReason(bodyBytes: outcome.bytesIn, discardedIncompleteEvent: sse?.discardedIncompleteEvent ?? false) {
                    outcome.failure = .invalidStream
                    outcome.error = why
                }
            }
            let stream = LoadWorker.streamOutcome(timing, tokenizer: plan.scenario.tokenizer)
            outcome.stream = stream
            outcome.good = outcome.failure == nil && (plan.scenario.goodput?.isMet(by: stream) ?? false)
        }
        judged?(outcome)
        stats.record(outcome, method: spec.method, name: spec.name, phase: phase)
        if slot >= 0 { userFinished(slot: slot, intended: outcome.intendedNanos, sent: outcome.sentNanos, end: end, retryAfterSeconds: retryAfterSeconds) }
    }
}
