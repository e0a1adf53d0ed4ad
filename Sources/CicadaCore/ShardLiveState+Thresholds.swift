/// The thresholds of a distributed run judged live on the shards' merged figures: what
/// `cicada dash --shards` shows in its thresholds panel.
///
/// Each shard sends its thresholds in `/live` (`thresholds`, added to `cicada.live/v1`), with
/// the sliding windows they judge (`windows`) and its telemetry peaks (`telemetry_peaks`), so
/// the dashboard judges every threshold once, on the shards added together, exactly as
/// `cicada merge` does at the end: one verdict for the whole run, never one per shard.
extension ShardLiveState {
    /// The highest telemetry readings of a shard's run so far: the figures that `gpu_memory`,
    /// `kv_cache` and `queue_waiting` thresholds judge.
    ///
    /// Each is the highest any source reported, so the highest over the shards is the run's:
    /// shards that poll the same server report the same peak, shards that poll their own report
    /// theirs, and the threshold is about the highest of any.
    public struct TelemetryPeaks: Sendable, Equatable, Codable {
        /// The highest used/total of any GPU (0...1); nil when no GPU was read.
        public var gpuMemory: Double?
        /// Where that peak came from, e.g. "nvml GPU 0 NVIDIA H200".
        public var gpuMemoryWhere: String?
        /// Whether the GPU peak is a modelled figure (the embedded engine's device model).
        public var gpuMemoryModelled: Bool
        /// The highest KV-cache fill (0...1) and waiting-request count any server reported.
        public var kvCache: Double?
        public var queueWaiting: Double?

        /// Peaks with the given figures.
        public init(gpuMemory: Double?, gpuMemoryWhere: String? = nil, gpuMemoryModelled: Bool = false, kvCache: Double? = nil,
                    queueWaiting: Double? = nil) {
            self.gpuMemory = gpuMemory; self.gpuMemoryWhere = gpuMemoryWhere; self.gpuMemoryModelled = gpuMemoryModelled
            self.kvCache = kvCache; self.queueWaiting = queueWaiting
        }

        /// The peaks of `summary`; nil when it has none of them (nothing to judge).
        public init?(_ summary: TelemetrySummary) {
            guard summary.gpuMemoryPeakFraction != nil || summary.kvCachePeak != nil || summary.queueWaitingPeak != nil else { return nil }
            self.init(gpuMemory: summary.gpuMemoryPeakFraction, gpuMemoryWhere: summary.gpuMemoryPeakWhere,
                      gpuMemoryModelled: summary.gpuMemoryPeakModelled, kvCache: summary.kvCachePeak, queueWaiting: summary.queueWaitingPeak)
        }

        /// The highest of each figure over `all`; nil when none has any.
        public static func highest(_ all: [TelemetryPeaks]) -> TelemetryPeaks? {
            guard !all.isEmpty else { return nil }
            let gpu = all.filter { $0.gpuMemory != nil }.max { $0.gpuMemory! < $1.gpuMemory! }
            return TelemetryPeaks(gpuMemory: gpu?.gpuMemory, gpuMemoryWhere: gpu?.gpuMemoryWhere, gpuMemoryModelled: gpu?.gpuMemoryModelled ?? false,
                                  kvCache: all.compactMap(\.kvCache).max(), queueWaiting: all.compactMap(\.queueWaiting).max())
        }

        /// A telemetry summary carrying only these peaks (what thresholds read).
        public var summary: TelemetrySummary {
            var t = TelemetrySummary()
            t.gpuMemoryPeakFraction = gpuMemory; t.gpuMemoryPeakWhere = gpuMemoryWhere; t.gpuMemoryPeakModelled = gpuMemoryModelled
            t.kvCachePeak = kvCache; t.queueWaitingPeak = queueWaiting
            return t
        }
    }

    /// The thresholds the shards sent, each expression once: the union in shard order (so a
    /// threshold given to one shard only with `--threshold` is judged too, on the whole run);
    /// nil when no shard sent any list (shards of an older version).
    public static func thresholdSpecs(_ states: [ShardLiveState]) -> [ThresholdSpec]? {
        let lists = states.sorted { $0.shardIndex < $1.shardIndex }.compactMap(\.thresholds)
        guard !lists.isEmpty else { return nil }
        var seen = Set<String>(), out: [ThresholdSpec] = []
        for spec in lists.joined() where seen.insert(spec.expression).inserted { out.append(spec) }
        return out
    }

    /// The p99 latency bound of the thresholds `states` sent (the latency chart's threshold
    /// line), in ms: the first whole-run `p(99)<...` with no task and no window of its own; nil
    /// when none sent one yet.
    public static func p99ThresholdMillis(_ states: [ShardLiveState]) -> Double? {
        let parsed = (thresholdSpecs(states) ?? []).compactMap { try? Threshold($0) }
        return parsed.first { t in t.metric == .latency && t.aggregate == .percentile(99) && t.task == nil && t.windowSeconds == nil }?.bound
    }

    /// Every threshold the shards sent, judged once on their merged figures
    /// (``merged(_:)``): percentiles from the added histograms, rates over the merged counts,
    /// windows added shard by shard, telemetry at its highest. A threshold with no data fails,
    /// as in a run. Nil when no shard sent thresholds or the shards do not merge.
    public static func thresholdResults(_ states: [ShardLiveState]) -> [ThresholdResult]? {
        guard let snap = merged(states) else { return nil }
        return thresholdResults(states, on: snap)
    }

    /// Every threshold the shards sent, judged once on `snap`, the merge of `states`; a
    /// threshold whose inputs not every shard sent gets no verdict (``ThresholdResult/noVerdict``
    /// "partial: N of M shards", or "no data: ..." when none did), never a pass or a fail on part
    /// of the load. Nil when no shard sent thresholds.
    ///
    /// Mixed versions are the case: a shard of a version before `thresholds` sends no
    /// `windows` nor `telemetry_peaks` (all three came together), so an `over 30s` or a
    /// `gpu_memory` threshold judged on the merge would read only the newer shards' traffic.
    public static func thresholdResults(_ states: [ShardLiveState], on snap: Snapshot) -> [ThresholdResult]? {
        guard let specs = thresholdSpecs(states) else { return nil }
        // Each spec was checked when its state was read; one that does not parse is left out.
        return specs.compactMap { try? Threshold($0) }.map { t in
            let sent = states.filter { sentInputs(of: t, $0) }.count
            guard sent < states.count else { return t.evaluate(snap) }
            var r = ThresholdResult(threshold: t, passed: false, measured: nil)
            r.noVerdict = sent == 0 ? "no data: 0 of \(states.count) shards" : "partial: \(sent) of \(states.count) shards"
            return r
        }
    }

    /// Whether `state` sent what `threshold` reads: its own sliding window for a windowed
    /// threshold (`over 30s`); the telemetry key for a telemetry threshold (a shard of this
    /// version that polls no telemetry has truly no peak, one of an older version has not said);
    /// the cumulative stats, which every shard sends, for the rest.
    static func sentInputs(of threshold: Threshold, _ state: ShardLiveState) -> Bool {
        if threshold.metric.isTelemetry { return state.thresholds != nil }
        guard let w = threshold.windowSeconds else { return true }
        return state.window?.seconds == w || state.extraWindows.contains { $0.seconds == w }
    }

    /// Adds the threshold windows and the telemetry peaks of `states` to their merged snapshot.
    static func addExtras(of states: [ShardLiveState], to snap: inout Snapshot) {
        var byLength: [Int: (span: Double, perStat: [RequestStats])] = [:]
        for s in states {
            for w in s.extraWindows where w.seconds != snap.defaultWindowSeconds {
                var e = byLength[w.seconds] ?? (0, snap.names.map { _ in RequestStats() })
                for i in e.perStat.indices where i < w.perStat.count { e.perStat[i].merge(w.perStat[i]) }
                e.span = Swift.max(e.span, w.spanSeconds)
                byLength[w.seconds] = e
            }
        }
        for (length, e) in byLength {
            var total = RequestStats()
            for st in e.perStat { total.merge(st) }
            snap.windows[length] = WindowStats(span: .fromSeconds(e.span), perStat: e.perStat, total: total)
        }
        snap.telemetry = TelemetryPeaks.highest(states.compactMap(\.telemetryPeaks))?.summary
    }
}

extension ShardLiveState.File {
    /// Reads the keys added later in v1 into `s`, checking each threshold and window.
    func readExtras(into s: inout ShardLiveState) throws(ShardArtifact.ReadProblem) {
        if let thresholds {
            for (i, t) in thresholds.enumerated() {
                do { _ = try Threshold(ThresholdSpec(t.expression)) } catch {
                    throw ShardArtifact.ReadProblem(message: "at thresholds[\(i)]: \(error.message)")
                }
            }
            s.thresholds = thresholds.map { ThresholdSpec($0.expression, abortOnFail: $0.abortOnFail, delayAbortEval: .fromSeconds($0.delayAbortEvalS)) }
        }
        for (k, w) in (windows ?? []).enumerated() {
            guard w.seconds >= 1 else { throw ShardArtifact.ReadProblem(message: "at windows[\(k)].seconds: \(w.seconds) is not a window length") }
            guard w.tasks.map(\.name) == tasks.map(\.name) else {
                throw ShardArtifact.ReadProblem(message: "at windows[\(k)].tasks: the task names differ from tasks'")
            }
            var ws: [RequestStats] = []
            for (i, t) in w.tasks.enumerated() { ws.append(try t.stats("windows[\(k)].tasks[\(i)]")) }
            s.extraWindows.append(ShardLiveState.Window(seconds: w.seconds, spanSeconds: w.spanS, perStat: ws))
        }
        s.telemetryPeaks = telemetryPeaks; s.engine = engine
    }
}
