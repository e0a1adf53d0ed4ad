/// What one worker measured since it last reported: the unit handed to the aggregator.
///
/// Workers record into their own `IntervalStats` with no lock and hand it over at most every
/// 250 ms; the aggregator merges it. This is wrk's design: the hot path never shares memory.
public struct IntervalStats: Sendable {
    /// Per stat name, by index into the run's stat names.
    public var perStat: [RequestStats]
    public var errors = ErrorTable()
    /// How late the generator started work against its own schedule (µs): a saturated client
    /// shows here, not as server latency.
    public var scheduleLag = LatencyHistogram()
    /// Open-model arrivals dropped because the queue cap was reached.
    public var dropped: UInt64 = 0
    /// Requests still in flight when the run cut them off (stop timeout, or a second signal):
    /// no outcome, so in no latency figure; counted so their absence is visible.
    public var cutOff: UInt64 = 0
    /// Per breakdown group (``Breakdown/keys``: conversation turns, models); grown as groups
    /// are first recorded, empty for runs without any.
    public var groups: [RequestStats] = []
    /// A `split:` run's members per step window (``RequestOutcome/splitStepSlot``: step ·
    /// members + member), grown as windows are first recorded; empty without a split.
    public var splitSteps: [RequestStats] = []
    /// Requests that started in the warm-up or the cool-down (``MeasurementWindow``): sent and
    /// counted here, in no figure. `excluded` merges both phases (all names together) for the
    /// per-second timeline; nil until one is recorded, so a run without windows pays nothing.
    public var excludedWarmup: UInt64 = 0
    public var excludedCooldown: UInt64 = 0
    public var excluded: RequestStats?
    /// The earliest intended start (ns) of a measured request: where the measured window began
    /// when the warm-up is a request count.
    public var firstMeasuredIntendedNanos: UInt64?
    /// `--requests-out`: which requests to keep a ``RequestRecord`` of (nil: none), the worker,
    /// and the number the next request gets; carried from interval to interval by ``emptied()``.
    public private(set) var sampling: RequestSampling?
    public private(set) var worker = 0
    public private(set) var nextSequence: UInt64 = 0
    /// The records kept this interval, and those dropped past ``RequestSampling/maxPerInterval``.
    public var records: [RequestRecord] = []
    public var recordsDropped: UInt64 = 0

    public init(statCount: Int) { perStat = Array(repeating: RequestStats(), count: statCount) }

    /// An empty interval that keeps records of requests as `sampling` says, for `worker`.
    public init(statCount: Int, sampling: RequestSampling?, worker: Int) {
        self.init(statCount: statCount)
        self.sampling = sampling; self.worker = worker
    }

    /// The next empty interval of the same worker: same sampling, request numbers go on.
    public func emptied() -> IntervalStats {
        var s = IntervalStats(statCount: perStat.count, sampling: sampling, worker: worker)
        s.nextSequence = nextSequence
        return s
    }

    /// Takes the records out (the runner hands them to the sink, not to the aggregator).
    public mutating func takeRecords() -> (records: [RequestRecord], dropped: UInt64) {
        defer { records = []; recordsDropped = 0 }
        return (records, recordsDropped)
    }

    /// Records one finished request; `method` and `name` label a failure row.
    ///
    /// A request of the warm-up or the cool-down (`phase`) is only counted apart: it adds to no
    /// figure, no failure row and no threshold.
    public mutating func record(_ o: RequestOutcome, method: String, name: String, phase: MeasurementPhase = .measured) {
        if let sampling {
            let seq = nextSequence
            nextSequence += 1
            if sampling.keeps(worker: worker, sequence: seq) {
                if records.count < sampling.maxPerInterval {
                    records.append(RequestRecord(o, worker: worker, sequence: seq, phase: phase))
                } else {
                    recordsDropped += 1
                }
            }
        }
        switch phase {
        case .measured:
            firstMeasuredIntendedNanos = Swift.min(firstMeasuredIntendedNanos ?? .max, o.intendedNanos)
        case .warmup, .cooldown:
            if phase == .warmup { excludedWarmup += 1 } else { excludedCooldown += 1 }
            var e = excluded ?? RequestStats()
            e.record(o)
            excluded = e
            return
        }
        perStat[o.statIndex].record(o)
        if o.turnGroup >= 0 { recordGroup(o, o.turnGroup) }
        if o.modelGroup >= 0 { recordGroup(o, o.modelGroup) }
        if o.splitGroup >= 0 { recordGroup(o, o.splitGroup) }
        if o.splitStepSlot >= 0 {
            if splitSteps.count <= o.splitStepSlot { splitSteps += Array(repeating: RequestStats(), count: o.splitStepSlot + 1 - splitSteps.count) }
            splitSteps[o.splitStepSlot].record(o)
        }
        if o.failure != nil {
            errors.record(ErrorKey(method: method, name: name, message: o.error ?? o.failure!.rawValue), atNanos: o.endNanos)
        }
    }

    private mutating func recordGroup(_ o: RequestOutcome, _ g: Int) {
        if groups.count <= g { groups += Array(repeating: RequestStats(), count: g + 1 - groups.count) }
        groups[g].record(o)
    }

    /// Adds another interval into this one.
    public mutating func merge(_ o: IntervalStats) {
        for i in perStat.indices where i < o.perStat.count { perStat[i].merge(o.perStat[i]) }
        errors.merge(o.errors)
        scheduleLag.merge(o.scheduleLag)
        dropped += o.dropped
        cutOff += o.cutOff
        if groups.count < o.groups.count { groups += Array(repeating: RequestStats(), count: o.groups.count - groups.count) }
        for i in o.groups.indices { groups[i].merge(o.groups[i]) }
        if splitSteps.count < o.splitSteps.count { splitSteps += Array(repeating: RequestStats(), count: o.splitSteps.count - splitSteps.count) }
        for i in o.splitSteps.indices { splitSteps[i].merge(o.splitSteps[i]) }
        excludedWarmup += o.excludedWarmup
        excludedCooldown += o.excludedCooldown
        if let oe = o.excluded { var e = excluded ?? RequestStats(); e.merge(oe); excluded = e }
        if let f = o.firstMeasuredIntendedNanos { firstMeasuredIntendedNanos = Swift.min(firstMeasuredIntendedNanos ?? .max, f) }
    }

    /// Whether nothing was recorded.
    public var isEmpty: Bool {
        perStat.allSatisfy { $0.requests == 0 } && errors.entries.isEmpty && scheduleLag.isEmpty && dropped == 0 && cutOff == 0
            && excludedWarmup == 0 && excludedCooldown == 0
    }
}

/// Gauges a worker reports with each interval: absolute values, not deltas.
public struct WorkerGauges: Sendable, Equatable {
    public var users: Int
    public var inFlight: Int
    public var queued: Int
    public init(users: Int = 0, inFlight: Int = 0, queued: Int = 0) { self.users = users; self.inFlight = inFlight; self.queued = queued }
}
