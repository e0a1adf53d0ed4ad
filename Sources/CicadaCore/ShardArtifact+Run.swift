import Foundation

extension ShardArtifact {
    /// One shard's artifact from its finished run.
    ///
    /// - Parameters:
    ///   - timeline: what completed in each wall-clock second (``ShardTimelineRecorder``).
    ///   - startAtUnix: the `--start-at` moment, if one was given.
    ///   - writtenAtUnix: CLOCK_REALTIME now.
    public init(result: RunResult, shard: ShardSpec, identity: RunIdentity, thresholds: [ThresholdSpec], timeline: [SecondRecord],
                startAtUnix: Double?, writtenAtUnix: Double) {
        let snap = result.snapshot
        let start = result.startedAtUnix
        func unix(_ nanos: UInt64) -> Double { start + Double(Int64(bitPattern: nanos &- result.startNanos)) / 1e9 }
        let (reason, abort): (String, String?) = {
            switch result.stopReason {
            case .completed: return ("completed", nil)
            case .interrupted: return ("interrupted", nil)
            case .thresholdAbort(let e): return ("threshold_abort", e)
            }
        }()
        let record = ShardRecord(index: shard.index, startedAtUnix: start, monotonicStartNanos: result.startNanos, startAtUnix: startAtUnix,
                                 measuredSeconds: snap.measuredSeconds, stopReason: reason, abortThreshold: abort,
                                 writtenAtUnix: writtenAtUnix, workers: result.workers, cpuSeconds: result.cpuSeconds)
        self.init(identity: identity, shardCount: shard.count, shards: [record], target: result.target,
                  modelDescription: result.modelDescription, thresholds: thresholds, goodputConfigured: result.goodputConfigured,
                  names: snap.names, methods: snap.methods, perStat: snap.perStat, scheduleLag: snap.scheduleLag,
                  dropped: snap.dropped, cutOff: snap.cutOff,
                  errors: snap.errors.entries.map { k, v in
                      ErrorRecord(method: k.method, name: k.name, message: k.message, occurrences: v.occurrences,
                                  firstSeenUnix: unix(v.firstSeenNanos), lastSeenUnix: unix(v.lastSeenNanos))
                  },
                  timeline: timeline,
                  events: result.events.map { EventRecord(unix: start + $0.t, shard: shard.index, kind: $0.kind, detail: $0.detail) })
        split = SplitRecord(result: result)
    }

    /// The run these shards measured together, as one ``RunResult`` for the normal summary and
    /// reports: counters and histograms as added, rates over the merged span (the earliest
    /// start to the latest end), every threshold judged again on the merged figures.
    ///
    /// Figures the artifact does not carry stay absent: sliding windows (so a threshold `over
    /// 30s` has no data), telemetry, and per-second percentiles where an artifact has no
    /// per-second histograms (written by an older version).
    public func runResult() -> RunResult {
        let start = shards.map(\.startedAtUnix).min() ?? 0
        let end = shards.map { $0.startedAtUnix + $0.measuredSeconds }.max() ?? start
        let span = Swift.max(0, end - start)
        // Error times become nanoseconds on a notional clock whose start is `base`.
        let base: UInt64 = 1_000_000_000
        func nanos(_ unix: Double) -> UInt64 { Self.notionalNanos(unix, start: start, base: base) }
        var table = ErrorTable()
        for e in errors {
            table.add(ErrorKey(method: e.method, name: e.name, message: e.message),
                      ErrorStat(occurrences: e.occurrences, firstSeenNanos: nanos(e.firstSeenUnix), lastSeenNanos: nanos(e.lastSeenUnix)))
        }
        var total = RequestStats()
        for s in perStat { total.merge(s) }
        var snap = Snapshot(elapsed: .fromSeconds(span), names: names, methods: methods, perStat: perStat, total: total, windows: [:],
                            defaultWindowSeconds: 10, errors: table, scheduleLag: scheduleLag, dropped: dropped,
                            gauges: WorkerGauges(), targetUsers: nil, targetRate: nil, measuredSeconds: span)
        snap.cutOff = cutOff
        var line = Timeline()
        for s in timeline {
            // A point at the end of its second: what completed in that second (1 s, so counts are
            // rates), and the percentiles of that second's merged histogram where every shard kept one.
            func ms(_ p: Double) -> Double? { s.corrected?.percentile(p).map { Double($0) / 1000 } }
            line.append(TimelinePoint(t: Double(s.second + 1) - start, users: s.users, qps: Double(s.requests),
                                      failuresPerSecond: Double(s.failures), p50Millis: ms(50), p95Millis: ms(95), p99Millis: ms(99)))
        }
        var stop = StopReason.completed
        if let aborted = shards.first(where: { $0.stopReason == "threshold_abort" }) {
            stop = .thresholdAbort(aborted.abortThreshold ?? "")
        } else if shards.contains(where: { $0.stopReason == "interrupted" }) {
            stop = .interrupted
        }
        let results = thresholds.compactMap { try? Threshold($0) }.map { $0.evaluate(snap) }
        var result = RunResult(scenarioName: identity.scenario, target: target, snapshot: snap, thresholds: results, stopReason: stop,
                               timeline: line, events: events.map { RunEvent(t: $0.unix - start, kind: $0.kind, detail: "shard \($0.shard): \($0.detail)") },
                               startedAtUnix: start, cpuSeconds: shards.reduce(0) { $0 + $1.cpuSeconds },
                               workers: shards.reduce(0) { $0 + $1.workers },
                               modelDescription: "\(modelDescription) (\(shards.count) of \(shardCount) shards)", startNanos: base)
        result.goodputConfigured = goodputConfigured
        if let split {
            result.split = split.result(snapshot: snap, startUnix: start, base: base)
            result.snapshot.groupKeys = result.split!.members.map { .target($0.name) }
            result.snapshot.groups = split.stats
        }
        // The per-second records as the windows a confidence interval resamples.
        // `measuredSeconds` leaves out a warm-up while the records are dated from the run's real
        // start, so the windows end no earlier than the end of the last second with a request.
        let lastSecond = timeline.last(where: { $0.requests > 0 }).map { Double($0.second) + 1 }
        result.secondWindows = SecondWindows(records: timeline, startUnix: start, endUnix: Swift.max(end, lastSecond ?? end))
        return result
    }

    /// Clock disagreements between the shards beyond `bound` seconds, each as a sentence; empty
    /// when they agree.
    ///
    /// Two signs are checked: shards given one `--start-at` that started further apart than
    /// `bound` (a shard that was late, or whose clock is off), and the gap between each shard's
    /// clock when it wrote its artifact and the artifact file's modification time (`fileTimes`,
    /// by shard index; set by the file system's clock, the same for every shard on a shared
    /// volume), which differs between shards by their clocks' skew (judged against at least one
    /// second, since writing a file takes time).
    public func skewWarnings(bound: Double, fileTimes: [Int: Double] = [:]) -> [String] {
        var out: [String] = []
        let timed = shards.filter { $0.startAtUnix != nil }
        if let first = timed.first {
            let starts = timed.map(\.startedAtUnix)
            let spread = (starts.max() ?? 0) - (starts.min() ?? 0)
            if timed.contains(where: { $0.startAtUnix != first.startAtUnix }) {
                out.append("shards were given different --start-at times")
            }
            if spread > bound {
                let late = timed.max { $0.startedAtUnix < $1.startedAtUnix }!
                out.append("shard start times differ by \(Int((spread * 1000).rounded())) ms (bound \(Int(bound * 1000)) ms); latest: shard \(late.index)")
            }
        }
        // Encoding and writing the file takes time (tens of ms on a loaded machine), so the file
        // times show only skew beyond a second.
        let fileBound = Swift.max(bound, 1)
        let offsets = shards.compactMap { s in fileTimes[s.index].map { (s.index, s.writtenAtUnix - $0) } }
        if offsets.count >= 2 {
            let lo = offsets.min { $0.1 < $1.1 }!, hi = offsets.max { $0.1 < $1.1 }!
            if hi.1 - lo.1 > fileBound {
                out.append("shard clocks disagree by about \(Int(((hi.1 - lo.1) * 1000).rounded())) ms (bound \(Int(fileBound * 1000)) ms): shard \(hi.0) reads \(Int(((hi.1 - lo.1) * 1000).rounded())) ms ahead of shard \(lo.0), judged against the artifact files' modification times")
            }
        }
        return out
    }
}

/// Collects a shard's per-wall-clock-second timeline from the run's once-a-second snapshots:
/// the requests and failures completed since the previous snapshot, filed under the Unix second
/// the snapshot was taken in.
public struct ShardTimelineRecorder: Sendable {
    private var seconds: [Int64: ShardArtifact.SecondRecord] = [:]
    private var lastRequests: UInt64 = 0
    private var lastFailures: UInt64 = 0
    private var lastCorrected = LatencyHistogram()
    public init() {}

    /// Adds the run so far (`snap`, cumulative), taken at `unix` (CLOCK_REALTIME seconds): the
    /// requests, failures and corrected latencies completed since the previous snapshot.
    public mutating func add(_ snap: Snapshot, atUnix unix: Double) {
        let requests = snap.total.requests, failures = snap.total.failures
        // A statistics reset (the dashboard's r) starts the counts again.
        if requests < lastRequests || failures < lastFailures { lastRequests = 0; lastFailures = 0; lastCorrected = LatencyHistogram() }
        let second = Int64(unix.rounded(.down))
        var r = seconds[second] ?? ShardArtifact.SecondRecord(second: second, requests: 0, failures: 0, users: 0, corrected: LatencyHistogram())
        r.requests += requests - lastRequests
        r.failures += failures - lastFailures
        r.users = snap.gauges.users
        // The latencies since the last snapshot: the cumulative histogram's buckets minus the
        // previous one's (a reset between two snapshots that left the count higher: the whole).
        let since = snap.total.corrected.subtracting(lastCorrected) ?? snap.total.corrected
        r.corrected?.merge(since)
        seconds[second] = r
        lastRequests = requests; lastFailures = failures; lastCorrected = snap.total.corrected
    }

    /// The seconds recorded, in order.
    public var records: [ShardArtifact.SecondRecord] { seconds.values.sorted { $0.second < $1.second } }
}
