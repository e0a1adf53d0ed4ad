/// Merges workers' interval stats into cumulative totals and sliding windows, and builds
/// snapshots. Owned by one thread (the runner's); workers never touch it.
///
/// Windows are a ring of one-second slots, each the merge of the intervals that arrived in
/// that second of the run; a window of N seconds merges the last N slots. Memory is fixed by
/// the number of slots and names, never by run length. An interval is placed in the second it
/// arrives in, so a window edge is accurate to the hand-over period (250 ms).
public final class Aggregator {
    public let names: [String]
    public let methods: [String]
    public let defaultWindowSeconds: Int
    /// Window lengths (seconds) every snapshot carries.
    public let windowLengths: [Int]
    private let ringLength: Int
    private var ring: [(second: Int64, stats: IntervalStats)]
    private var cumulative: IntervalStats
    private var startNanos: UInt64
    private var measureStartNanos: UInt64
    private var gauges: [Int: WorkerGauges] = [:]
    /// The run's breakdown groups (``Breakdown/keys``), carried into every snapshot.
    public var breakdownKeys: [BreakdownKey] = []
    /// The warm-up and cool-down left out of the figures, and the run's load duration.
    public let measurement: MeasurementWindow
    private let durationNanos: UInt64?
    /// Whether any measured request has been seen (a request-count warm-up is then over).
    private var sawMeasured = false

    /// - Parameters:
    ///   - names: stat names; `IntervalStats.perStat` indexes into these.
    ///   - windowSeconds: the default sliding window (10 s unless configured).
    ///   - extraWindows: more window lengths to keep (for `over 30s` thresholds).
    ///   - measurement: the warm-up and cool-down; their requests arrive counted apart in each
    ///     interval, and the measured time (throughputs' denominator) covers only the window
    ///     between them.
    ///   - durationNanos: the run's load duration (where the cool-down starts from).
    public init(names: [String], methods: [String], startNanos: UInt64, windowSeconds: Int = 10, extraWindows: [Int] = [],
                measurement: MeasurementWindow = MeasurementWindow(), durationNanos: UInt64? = nil) {
        self.measurement = measurement
        self.durationNanos = durationNanos
        self.names = names
        self.methods = methods
        self.defaultWindowSeconds = max(1, windowSeconds)
        self.windowLengths = Array(Set([max(1, windowSeconds)] + extraWindows.filter { $0 > 0 })).sorted()
        self.ringLength = (windowLengths.max() ?? 10) + 1
        self.ring = Array(repeating: (-1, IntervalStats(statCount: names.count)), count: ringLength)
        self.cumulative = IntervalStats(statCount: names.count)
        self.startNanos = startNanos
        self.measureStartNanos = startNanos
    }

    /// Adds a worker's interval, received at `nanos`.
    public func ingest(_ delta: IntervalStats, worker: Int, gauges g: WorkerGauges, atNanos nanos: UInt64) {
        gauges[worker] = g
        guard !delta.isEmpty else { return }
        cumulative.merge(delta)
        if delta.firstMeasuredIntendedNanos != nil { sawMeasured = true }
        let second = Int64((nanos &- min(startNanos, nanos)) / 1_000_000_000)
        let slot = Int(second % Int64(ringLength))
        if ring[slot].second != second { ring[slot] = (second, IntervalStats(statCount: names.count)) }
        ring[slot].stats.merge(delta)
    }

    /// Clears all statistics (the dashboard's `r`), keeping the run going.
    public func reset(atNanos nanos: UInt64) {
        cumulative = IntervalStats(statCount: names.count)
        ring = Array(repeating: (-1, IntervalStats(statCount: names.count)), count: ringLength)
        measureStartNanos = nanos
    }

    /// The run so far, as of `nanos`.
    public func snapshot(atNanos nanos: UInt64, targetUsers: Int? = nil, targetRate: Double? = nil) -> Snapshot {
        let elapsedNanos = nanos &- min(startNanos, nanos)
        let second = Int64(elapsedNanos / 1_000_000_000)
        var windows: [Int: WindowStats] = [:]
        // The measured time runs from the end of the warm-up (or a reset, if later) to the start
        // of the cool-down (or now); during the warm-up it is zero, so every rate is absent.
        let measuredFrom: UInt64?
        if let offset = measurement.measuredStartOffsetNanos {
            measuredFrom = max(measureStartNanos, startNanos &+ offset)
        } else {
            measuredFrom = cumulative.firstMeasuredIntendedNanos.map { max(measureStartNanos, $0) }
        }
        let measuredTo = measurement.measuredEndOffsetNanos(durationNanos: durationNanos).map { min(nanos, startNanos &+ $0) } ?? nanos
        let measuredNanos = measuredFrom.map { measuredTo > $0 ? measuredTo - $0 : 0 } ?? 0
        for length in windowLengths {
            var merged = IntervalStats(statCount: names.count)
            for entry in ring where entry.second >= 0 && entry.second > second - Int64(length) && entry.second <= second {
                merged.merge(entry.stats)
            }
            var total = RequestStats()
            for s in merged.perStat { total.merge(s) }
            // The slots cover `length - 1` whole seconds plus the current, partial one; less
            // if measuring began later.
            let spanNanos = min(UInt64(length - 1) * 1_000_000_000 + elapsedNanos % 1_000_000_000, measuredNanos)
            windows[length] = WindowStats(span: .nanos(spanNanos), perStat: merged.perStat, total: total)
            windows[length]?.excluded = merged.excluded
        }
        var total = RequestStats()
        for s in cumulative.perStat { total.merge(s) }
        var g = WorkerGauges()
        for v in gauges.values { g.users += v.users; g.inFlight += v.inFlight; g.queued += v.queued }
        var snap = Snapshot(
            elapsed: .nanos(elapsedNanos), names: names, methods: methods, perStat: cumulative.perStat, total: total,
            windows: windows, defaultWindowSeconds: defaultWindowSeconds, errors: cumulative.errors,
            scheduleLag: cumulative.scheduleLag, dropped: cumulative.dropped, gauges: g,
            targetUsers: targetUsers, targetRate: targetRate, measuredSeconds: Double(measuredNanos) / 1e9)
        snap.cutOff = cumulative.cutOff
        snap.groupKeys = breakdownKeys
        snap.groups = cumulative.groups
        snap.splitSteps = cumulative.splitSteps
        snap.excludedWarmup = cumulative.excludedWarmup
        snap.excludedCooldown = cumulative.excludedCooldown
        snap.excluded = cumulative.excluded
        snap.measurement = measurement
        snap.measuredFromSeconds = measuredFrom.map { Double($0 &- min(startNanos, $0)) / 1e9 }
        snap.measuredToSeconds = measurement.measuredEndOffsetNanos(durationNanos: durationNanos).map { Double($0) / 1e9 }
        snap.phase = phase(atNanos: nanos)
        return snap
    }

    /// The phase the run is in at `nanos`: what the dashboard labels.
    public func phase(atNanos nanos: UInt64) -> MeasurementPhase {
        if case .requests? = measurement.warmup { return sawMeasured ? .measured : .warmup }
        return measurement.phase(intendedNanos: nanos, startNanos: startNanos, durationNanos: durationNanos)
    }
}
