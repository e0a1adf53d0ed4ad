/// An immutable view of a run at one moment: what every printer, report and threshold reads.
///
/// Built by the ``Aggregator``; the dashboard, the headless printer and the report writers
/// never see raw samples, only snapshots.
public struct Snapshot: Sendable {
    /// Time since the test started.
    public var elapsed: Duration
    /// Stat names (task names) in scenario order.
    public var names: [String]
    /// HTTP method of each stat name.
    public var methods: [String]
    /// Cumulative stats per name.
    public var perStat: [RequestStats]
    /// Cumulative stats of all names together.
    public var total: RequestStats
    /// Sliding windows by length in seconds (always includes the default window).
    public var windows: [Int: WindowStats]
    /// The default window's length in seconds.
    public var defaultWindowSeconds: Int
    public var errors: ErrorTable
    public var scheduleLag: LatencyHistogram
    public var dropped: UInt64
    /// Requests cut off in flight at the end of the run (in no latency figure).
    public var cutOff: UInt64 = 0
    public var gauges: WorkerGauges
    /// The target user count (closed model) or arrival rate (open model) now.
    public var targetUsers: Int?
    public var targetRate: Double?
    /// Seconds over which `total` was measured (test start .. now, after any reset).
    public var measuredSeconds: Double
    /// GPU memory and server gauges, when the run polls any telemetry source.
    public var telemetry: TelemetrySummary?
    /// The consistency probe's findings so far (`consistency:`), when the run has a probe: the
    /// live `inconsistent_outputs` diagnosis reads them from each snapshot.
    public var consistency: ConsistencySummary?
    /// Breakdown groups (conversation turns, models) and their cumulative stats, index for
    /// index (`groups` may be shorter: a group with no request yet has no entry).
    public var groupKeys: [BreakdownKey] = []
    public var groups: [RequestStats] = []
    /// A `split:` run's cumulative stats per step window and member (index step · members +
    /// member; shorter when the last windows have no request yet); empty without a split.
    public var splitSteps: [RequestStats] = []
    /// Requests that started in the warm-up / the cool-down: sent, in no figure above.
    public var excludedWarmup: UInt64 = 0
    public var excludedCooldown: UInt64 = 0
    /// The excluded requests' own stats (both phases, all names), for the timeline only.
    public var excluded: RequestStats?
    /// The warm-up and cool-down the figures leave out.
    public var measurement = MeasurementWindow()
    /// Where the measured window begins, in seconds from the test start; nil while a
    /// request-count warm-up has not ended.
    public var measuredFromSeconds: Double? = 0
    /// Where it ends (the cool-down's start), in seconds from the test start; nil without a
    /// cool-down (it ends when the last request does).
    public var measuredToSeconds: Double?
    /// The phase the run is in at this snapshot (the dashboard's "warm-up" label).
    public var phase: MeasurementPhase = .measured

    public init(elapsed: Duration, names: [String], methods: [String], perStat: [RequestStats], total: RequestStats,
                windows: [Int: WindowStats], defaultWindowSeconds: Int, errors: ErrorTable, scheduleLag: LatencyHistogram,
                dropped: UInt64, gauges: WorkerGauges, targetUsers: Int?, targetRate: Double?, measuredSeconds: Double) {
        self.elapsed = elapsed; self.names = names; self.methods = methods; self.perStat = perStat; self.total = total
        self.windows = windows; self.defaultWindowSeconds = defaultWindowSeconds; self.errors = errors
        self.scheduleLag = scheduleLag; self.dropped = dropped; self.gauges = gauges
        self.targetUsers = targetUsers; self.targetRate = targetRate; self.measuredSeconds = measuredSeconds
    }

    /// Completed requests per second over the whole run; nil before any time has passed.
    public var qps: Double? { measuredSeconds > 0 ? Double(total.requests) / measuredSeconds : nil }

    /// Requests per second of one stat name over the whole run.
    public func qps(of index: Int) -> Double? { measuredSeconds > 0 ? Double(perStat[index].requests) / measuredSeconds : nil }

    /// The default sliding window.
    public var window: WindowStats? { windows[defaultWindowSeconds] }

    /// Index of a stat name.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// Stats over the last few seconds of a run.
public struct WindowStats: Sendable {
    /// How much time the window covers (shorter than its length early in a run).
    public var span: Duration
    public var perStat: [RequestStats]
    public var total: RequestStats
    /// Warm-up and cool-down requests in the window (in no figure; for the timeline).
    public var excluded: RequestStats?
    public init(span: Duration, perStat: [RequestStats], total: RequestStats) { self.span = span; self.perStat = perStat; self.total = total }
    /// Completed requests per second in the window.
    public var qps: Double? { span > .zero ? Double(total.requests) / span.seconds : nil }
}
