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

    public init(statCount: Int) { perStat = Array(repeating: RequestStats(), count: statCount) }

    /// Records one finished request; `method` and `name` label a failure row.
    public mutating func record(_ o: RequestOutcome, method: String, name: String) {
        perStat[o.statIndex].record(o)
        if o.turnGroup >= 0 { recordGroup(o, o.turnGroup) }
        if o.modelGroup >= 0 { recordGroup(o, o.modelGroup) }
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
