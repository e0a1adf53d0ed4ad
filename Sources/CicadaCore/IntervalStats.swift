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

    public init(statCount: Int) { perStat = Array(repeating: RequestStats(), count: statCount) }

    /// Records one finished request; `method` and `name` label a failure row.
    public mutating func record(_ o: RequestOutcome, method: String, name: String) {
        perStat[o.statIndex].record(o)
        if o.failure != nil {
            errors.record(ErrorKey(method: method, name: name, message: o.error ?? o.failure!.rawValue), atNanos: o.endNanos)
        }
    }

    /// Adds another interval into this one.
    public mutating func merge(_ o: IntervalStats) {
        for i in perStat.indices where i < o.perStat.count { perStat[i].merge(o.perStat[i]) }
        errors.merge(o.errors)
        scheduleLag.merge(o.scheduleLag)
        dropped += o.dropped
        cutOff += o.cutOff
    }

    /// Whether nothing was recorded.
    public var isEmpty: Bool {
        perStat.allSatisfy { $0.requests == 0 } && errors.entries.isEmpty && scheduleLag.isEmpty && dropped == 0 && cutOff == 0
    }
}

/// Gauges a worker reports with each interval: absolute values, not deltas.
public struct WorkerGauges: Sendable, Equatable {
    public var users: Int
    public var inFlight: Int
    public var queued: Int
    public init(users: Int = 0, inFlight: Int = 0, queued: Int = 0) { self.users = users; self.inFlight = inFlight; self.queued = queued }
}
