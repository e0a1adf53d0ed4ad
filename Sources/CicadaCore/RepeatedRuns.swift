/// One repetition's own figures, beside the pooled result of `cicada run --repeat K`.
public struct RepetitionFigures: Sendable, Equatable {
    /// 1-based.
    public var index: Int
    /// The seed the repetition ran with (every repetition runs the scenario's seed).
    public var seed: UInt64
    public var requests: UInt64
    public var failures: UInt64
    public var measuredSeconds: Double
    /// Nil when not measured (no time, no requests).
    public var qps: Double?
    public var errorRate: Double?
    /// Corrected latency percentiles and mean (ms), and raw p99 (ms); nil with no requests.
    public var p50Millis: Double?
    public var p90Millis: Double?
    public var p95Millis: Double?
    public var p99Millis: Double?
    public var meanMillis: Double?
    public var rawP99Millis: Double?
    public var stopReason: StopReason

    /// The figures of `result`, the `index`-th repetition, run with `seed`.
    public init(index: Int, seed: UInt64, result: RunResult) {
        let s = result.snapshot, h = s.total.corrected
        func ms(_ v: UInt64?) -> Double? { v.map { Double($0) / 1000 } }
        self.index = index; self.seed = seed
        requests = s.total.requests; failures = s.total.failures; measuredSeconds = s.measuredSeconds
        qps = s.qps; errorRate = s.total.errorRate
        p50Millis = ms(h.percentile(50)); p90Millis = ms(h.percentile(90)); p95Millis = ms(h.percentile(95)); p99Millis = ms(h.percentile(99))
        meanMillis = h.meanMicros.map { $0 / 1000 }
        rawP99Millis = ms(s.total.raw.percentile(99))
        stopReason = result.stopReason
    }
}

/// Pools the results of a scenario run K times back to back (`cicada run --repeat K`).
public enum RepeatedRuns {
    /// One result for K repetitions: histograms and counters added exactly (percentiles are
    /// read from the added histograms, never averaged), the measured time summed (so `qps` is
    /// all requests over all measured seconds), the timeline and events laid end to end with a
    /// `repeat` event at each repetition's start, thresholds judged again on the pooled figures.
    /// Sliding windows, gauges and telemetry are the last repetition's. The stop reason is the
    /// first abort or interruption, if any. Each repetition's own figures go in `repetitions`.
    ///
    /// - Parameters:
    ///   - results: the repetitions in order; at least one.
    ///   - seeds: each repetition's seed, index for index.
    ///   - thresholds: the run's thresholds, judged on the pool.
    public static func pooled(_ results: [RunResult], seeds: [UInt64], thresholds: [Threshold]) -> RunResult {
        precondition(!results.isEmpty, "pooled needs a result")
        var out = results[results.count - 1]
        let first = results[0]
        var snap = out.snapshot
        var perStat = first.snapshot.perStat
        var total = RequestStats(), errors = ErrorTable(), lag = LatencyHistogram()
        var groups: [RequestStats] = []
        // A split's step windows, pooled by step number like the groups (each repetition
        // starts again at step 1).
        var splitSteps: [RequestStats] = []
        var dropped: UInt64 = 0, cutOff: UInt64 = 0, warm: UInt64 = 0, cool: UInt64 = 0
        var measured = 0.0, elapsed = 0.0, cpu = 0.0
        var excluded: RequestStats?
        var line = Timeline()
        var events: [RunEvent] = []
        var stop = StopReason.completed
        for (i, r) in results.enumerated() {
            let s = r.snapshot
            if i > 0 { for j in perStat.indices where j < s.perStat.count { perStat[j].merge(s.perStat[j]) } }
            total.merge(s.total)
            for (k, v) in s.errors.entries { errors.add(k, v) }
            lag.merge(s.scheduleLag)
            if groups.count < s.groups.count { groups += Array(repeating: RequestStats(), count: s.groups.count - groups.count) }
            for j in s.groups.indices { groups[j].merge(s.groups[j]) }
            if splitSteps.count < s.splitSteps.count { splitSteps += Array(repeating: RequestStats(), count: s.splitSteps.count - splitSteps.count) }
            for j in s.splitSteps.indices { splitSteps[j].merge(s.splitSteps[j]) }
            dropped += s.dropped; cutOff += s.cutOff; warm += s.excludedWarmup; cool += s.excludedCooldown
            if let e = s.excluded { var x = excluded ?? RequestStats(); x.merge(e); excluded = x }
            events.append(RunEvent(t: elapsed, kind: "repeat", detail: "repetition \(i + 1) of \(results.count) (seed \(seeds.indices.contains(i) ? seeds[i] : 0))"))
            for p in r.timeline.points { var q = p; q.t += elapsed; line.append(q) }
            for e in r.events { var x = e; x.t += elapsed; events.append(x) }
            measured += s.measuredSeconds
            elapsed += s.elapsed.seconds
            cpu += r.cpuSeconds
            if stop == .completed { stop = r.stopReason }
        }
        snap.perStat = perStat; snap.total = total; snap.errors = errors; snap.scheduleLag = lag; snap.groups = groups
        snap.splitSteps = splitSteps
        snap.dropped = dropped; snap.cutOff = cutOff; snap.excludedWarmup = warm; snap.excludedCooldown = cool; snap.excluded = excluded
        snap.measuredSeconds = measured
        snap.elapsed = .fromSeconds(elapsed)
        out.snapshot = snap
        out.thresholds = thresholds.map { $0.evaluate(snap) }
        out.stopReason = stop
        out.timeline = line
        out.events = events.sorted { $0.t < $1.t }
        out.startedAtUnix = first.startedAtUnix
        out.startNanos = first.startNanos
        out.cpuSeconds = cpu
        out.secondWindows = nil
        out.taskSecondWindows = []
        out.repetitions = results.enumerated().map { i, r in
            RepetitionFigures(index: i + 1, seed: seeds.indices.contains(i) ? seeds[i] : 0, result: r)
        }
        return out
    }
}
