import Synchronization

/// The knobs a running load reads and the runner (or the dashboard) turns.
///
/// Shared by the runner and every worker through atomics: workers read it once per loop turn,
/// never under a lock (the retarget URL and the rate warp, which change rarely, are re-read
/// under their lock only when their generation counter moves).
public final class RunControl: Sendable {
    private let _targetUsers = Atomic<Int>(0)
    private let _paused = Atomic<Bool>(false)
    private let _stopStarting = Atomic<Bool>(false)
    private let _abort = Atomic<Bool>(false)
    private let _userOffset = Atomic<Int>(0)
    private let _resetRequested = Atomic<Bool>(false)
    private let _targetGeneration = Atomic<Int>(0)
    private let _targetOverride = Mutex<String?>(nil)
    private let _warp = Mutex<(warp: RateWarp, load: OpenLoad?)>((RateWarp(), nil))
    private let _warpGeneration = Atomic<Int>(0)
    private let _runStart = Atomic<UInt64>(0)
    private let _requestTickets = Atomic<UInt64>(0)
    private let _splitWeights = Mutex<(weights: [Int]?, shifts: [SplitShift])>((nil, []))
    private let _splitGeneration = Atomic<Int>(0)
    /// The run's clock: a live rate change is dated on it (``rateScale``).
    public let clock: any TimeSource

    /// The next run-wide start number (0 for the run's first request): a request-count
    /// warm-up's order. One relaxed atomic add, taken only when the warm-up is a count.
    public func takeRequestTicket() -> UInt64 { _requestTickets.add(1, ordering: .relaxed).oldValue }

    /// Readies the controls for another run of the same load (`--repeat`): new requests may
    /// start again, a request-count warm-up counts from the first request again, and what was
    /// changed live during the last run (pause, added users, the rate multiplier, a pending
    /// reset, canary weights) is undone, so every repetition sends the scenario's own schedule.
    public func rearm() {
        stopStarting = false
        abort = false
        paused = false
        userOffset = 0
        resetRequested = false
        _requestTickets.store(0, ordering: .relaxed)
        _warp.withLock { $0.warp = RateWarp() }
        _warpGeneration.add(1, ordering: .releasing)
        if splitWeights != nil { setSplitWeights(nil) }
        _splitWeights.withLock { $0.shifts = [] }
    }

    /// The phase of a request starting now, meant to start at `intendedNanos`: what a worker
    /// records it under (``IntervalStats/record(_:method:name:phase:)``).
    public func phase(in plan: RunPlan, intendedNanos: UInt64, startNanos: UInt64) -> MeasurementPhase {
        let window = plan.scenario.measurement
        if window.isEmpty { return .measured }
        return window.phase(intendedNanos: intendedNanos, startNanos: startNanos, durationNanos: plan.scenario.load.duration?.nanos,
                            ticket: window.needsTicket ? takeRequestTicket() : nil)
    }

    /// - Parameter clock: the run's clock, the one ``runStartNanos`` is read on.
    public init(clock: any TimeSource = MonotonicTimeSource()) { self.clock = clock }

    /// Closed model: how many users should be running now, all workers together.
    public var targetUsers: Int {
        get { _targetUsers.load(ordering: .acquiring) }
        set { _targetUsers.store(newValue, ordering: .releasing) }
    }
    /// Open model: a multiplier on the scenario's arrival rate (the dashboard's `+`/`-`).
    /// Setting it changes the rate from now on (see ``RateWarp``); arrivals already due stay.
    public var rateScale: Double {
        get { warp.scale }
        set { setRateScale(newValue, nowNanos: clock.nowNanos()) }
    }

    /// Sets the rate multiplier as of `nowNanos` on the run's clock: from then on the open
    /// model's arrivals come at `scale` times the scenario's rate (see ``RateWarp``).
    public func setRateScale(_ scale: Double, nowNanos: UInt64) {
        let start = _runStart.load(ordering: .acquiring)
        let seconds = start == 0 || nowNanos < start ? 0 : Double(nowNanos - start) / 1e9
        _warp.withLock { w in
            let base = w.load?.cumulativeArrivals(atSeconds: seconds) ?? 0
            w.warp.setScale(scale, atBase: base)
        }
        _warpGeneration.add(1, ordering: .releasing)
    }

    /// Where the schedule's positions fall under the rate changes so far.
    public var warp: RateWarp { _warp.withLock { $0.warp } }
    /// Bumped on every rate change; workers compare it once per turn (one atomic load) and
    /// re-read ``warp`` only when it moved.
    public var warpGeneration: Int { _warpGeneration.load(ordering: .acquiring) }

    /// The open-model load the rate changes apply to, set by the runner before the load begins.
    public var openLoad: OpenLoad? {
        get { _warp.withLock { $0.load } }
        set { _warp.withLock { $0.load = newValue } }
    }

    /// The run's start on its clock, set by the runner before the load begins.
    public var runStartNanos: UInt64 {
        get { _runStart.load(ordering: .acquiring) }
        set { _runStart.store(newValue, ordering: .releasing) }
    }
    /// No new requests start while paused; in-flight ones finish.
    public var paused: Bool {
        get { _paused.load(ordering: .acquiring) }
        set { _paused.store(newValue, ordering: .releasing) }
    }
    /// The run is ending: start nothing new, let in-flight requests finish.
    public var stopStarting: Bool {
        get { _stopStarting.load(ordering: .acquiring) }
        set { _stopStarting.store(newValue, ordering: .releasing) }
    }
    /// Cancel in-flight requests and exit now.
    public var abort: Bool {
        get { _abort.load(ordering: .acquiring) }
        set { _abort.store(newValue, ordering: .releasing) }
    }

    /// Users added (or, negative, removed) live on top of the scenario's ramp (the dashboard's
    /// `w`/`W`/`s`/`S`, Locust's keys).
    public var userOffset: Int {
        get { _userOffset.load(ordering: .acquiring) }
        set { _userOffset.store(newValue, ordering: .releasing) }
    }
    /// Asks the runner to clear the statistics (the dashboard's `r`); the runner clears the flag.
    public var resetRequested: Bool {
        get { _resetRequested.load(ordering: .acquiring) }
        set { _resetRequested.store(newValue, ordering: .releasing) }
    }

    /// Sends the load to another base URL from now on (nil: back to the scenario's target): the
    /// dashboard's `e` switches between the target and the embedded engine.
    public func retarget(_ baseURL: String?) {
        _targetOverride.withLock { $0 = baseURL }
        _targetGeneration.add(1, ordering: .releasing)
    }
    /// Bumped on every ``retarget(_:)``; workers compare it once per request (one atomic load).
    public var targetGeneration: Int { _targetGeneration.load(ordering: .acquiring) }
    /// The base URL override in force, if any.
    public var targetOverride: String? { _targetOverride.withLock { $0 } }

    /// Sets a `split:` run's member weights from now on (the dashboard's canary steps); nil: the
    /// scenario's. Requests chosen after the change use them.
    /// Each change starts a new step window (``splitShifts``), dated on the run's clock.
    public func setSplitWeights(_ weights: [Int]?) {
        let now = clock.nowNanos()
        _splitWeights.withLock {
            $0.weights = weights
            if let weights { $0.shifts.append(SplitShift(atNanos: now, weights: weights)) }
        }
        _splitGeneration.add(1, ordering: .releasing)
    }
    /// The split weights in force when changed live; nil while the scenario's hold.
    public var splitWeights: [Int]? { _splitWeights.withLock { $0.weights } }
    /// The live weight changes so far, in order: step window `k + 1` began with shift `k`.
    public var splitShifts: [SplitShift] { _splitWeights.withLock { $0.shifts } }
    /// The weights in force and the step window they open (0 before any shift), read together.
    public var splitState: (weights: [Int]?, step: Int) { _splitWeights.withLock { ($0.weights, $0.shifts.count) } }
    /// Bumped on every ``setSplitWeights(_:)``; workers compare it once per request (one atomic load).
    public var splitGeneration: Int { _splitGeneration.load(ordering: .acquiring) }

    /// This worker's share of `users` when users are dealt round-robin: user `i` belongs to
    /// worker `i % workerCount`.
    public static func share(of users: Int, worker: Int, workerCount: Int) -> Int {
        users > worker ? (users - worker + workerCount - 1) / workerCount : 0
    }
}

/// The hand-over point from workers to the aggregator: a mutex-guarded list of intervals.
///
/// Each worker posts at most four times a second, so the lock is never contended for long and
/// never held while measuring.
public final class IntervalOutbox: Sendable {
    /// One worker's report.
    public struct Report: Sendable {
        public var worker: Int
        public var stats: IntervalStats
        public var gauges: WorkerGauges
        public var finished: Bool
        public init(worker: Int, stats: IntervalStats, gauges: WorkerGauges, finished: Bool) {
            self.worker = worker; self.stats = stats; self.gauges = gauges; self.finished = finished
        }
    }
    private let pending = Mutex<[Report]>([])
    public init() {}

    public func post(_ r: Report) { pending.withLock { $0.append(r) } }

    /// Takes every pending report.
    public func drain() -> [Report] { pending.withLock { p in let out = p; p.removeAll(keepingCapacity: true); return out } }
}
