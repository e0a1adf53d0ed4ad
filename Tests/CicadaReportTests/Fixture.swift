import CicadaCore

/// Hand-built, deterministic runs for the report tests.
enum Fixture {
    static let ms: UInt64 = 1_000_000
    /// The monotonic clock's reading at the run's start.
    static let startNanos: UInt64 = 5_000_000_000
    static let startUnix = 1_700_000_000.25

    /// An outcome of `statIndex` intended at `at` ms after start, sent `late` ms after that,
    /// ending `took` ms after the send.
    static func outcome(_ statIndex: Int, at: Double, late: Double = 0, took: Double, status: Int = 200,
                        failure: FailureKind? = nil, error: String? = nil, ttfb: UInt64? = nil, bytesIn: UInt64 = 100) -> RequestOutcome {
        let intended = startNanos + UInt64(at * 1e6)
        let sent = intended + UInt64(late * 1e6)
        return RequestOutcome(statIndex: statIndex, intendedNanos: intended, sentNanos: sent, endNanos: sent + UInt64((took * 1e6).rounded()),
                              ttfbMicros: ttfb, status: status, failure: failure, error: error, bytesIn: bytesIn, bytesOut: 20)
    }

    /// Two names: `predict` (POST; two 503s, two requests late by 100 ms so corrected and raw
    /// differ, one at 123.456 ms) and `health` (GET; fast, no TTFB).
    static func stats() -> (perStat: [RequestStats], errors: ErrorTable) {
        var predict = RequestStats(), health = RequestStats()
        let took: [Double] = [1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 8.0]
        for (i, t) in took.enumerated() { predict.record(outcome(0, at: Double(i) * 1000, took: t, ttfb: 900)) }
        predict.record(outcome(0, at: 9000, late: 100, took: 23.456, status: 503, failure: .http5xx, error: "HTTP 503", ttfb: 20_000, bytesIn: 0))
        predict.record(outcome(0, at: 9500, late: 100, took: 23.456, status: 503, failure: .http5xx, error: "HTTP 503", ttfb: 20_000, bytesIn: 0))
        for (i, t) in [0.5, 0.6, 0.7].enumerated() { health.record(outcome(1, at: Double(i) * 1000, took: t, bytesIn: 2)) }
        var errors = ErrorTable()
        errors.record(ErrorKey(method: "POST", name: "predict", message: "HTTP 503"), atNanos: startNanos + 9_123 * ms)
        errors.record(ErrorKey(method: "POST", name: "predict", message: "HTTP 503"), atNanos: startNanos + 9_623 * ms)
        errors.record(ErrorKey(method: "GET", name: "health", message: "bad \"json\", line 1"), atNanos: startNanos + 30_000 * ms)
        return ([predict, health], errors)
    }

    static func snapshot(lagMicros: [UInt64] = Array(repeating: 50, count: 98) + [120, 900], dropped: UInt64 = 0) -> Snapshot {
        let (perStat, errors) = stats()
        var total = RequestStats()
        for s in perStat { total.merge(s) }
        // The window holds only the last two predict requests (the slow ones) and nothing of health.
        var wPredict = RequestStats()
        wPredict.record(outcome(0, at: 9000, late: 100, took: 23.456, status: 503, failure: .http5xx))
        wPredict.record(outcome(0, at: 9500, late: 100, took: 23.456, status: 503, failure: .http5xx))
        var wTotal = RequestStats()
        wTotal.merge(wPredict)
        let window = WindowStats(span: .seconds(10), perStat: [wPredict, RequestStats()], total: wTotal)
        var lag = LatencyHistogram()
        for v in lagMicros { lag.record(micros: v) }
        return Snapshot(elapsed: .seconds(60), names: ["predict", "health"], methods: ["POST", "GET"], perStat: perStat, total: total,
                        windows: [10: window], defaultWindowSeconds: 10, errors: errors, scheduleLag: lag, dropped: dropped,
                        gauges: WorkerGauges(users: 10, inFlight: 3, queued: 0), targetUsers: 10, targetRate: nil, measuredSeconds: 60)
    }

    /// Threshold verdicts for ``snapshot()``, built by hand (expression, passed, measured) so the
    /// report tests do not depend on the evaluator.
    static let verdicts: [(String, Bool, Double?)] = [
        ("p(99)<100ms", false, 123.456), ("error_rate<20%", true, 2.0 / 13), ("health: p(95)<10ms", true, 0.7),
        ("health: ttfb.p(95)<5ms", false, nil),
    ]

    static func thresholds(_ verdicts: [(String, Bool, Double?)]) -> [ThresholdResult] {
        verdicts.map { v in
            ThresholdResult(threshold: try! Threshold(ThresholdSpec(v.0, abortOnFail: v.0.hasPrefix("p(99)"))), passed: v.1, measured: v.2)
        }
    }

    static func result(snapshot: Snapshot = snapshot(), verdicts: [(String, Bool, Double?)] = verdicts, stopReason: StopReason = .completed) -> RunResult {
        let thresholds = thresholds(verdicts)
        var timeline = Timeline()
        timeline.append(TimelinePoint(t: 1, users: 10, qps: 2.5, failuresPerSecond: 0, p50Millis: 1.2, p95Millis: 4, p99Millis: 8))
        timeline.append(TimelinePoint(t: 2, users: 10, qps: 0, failuresPerSecond: 0, p50Millis: nil, p95Millis: nil, p99Millis: nil))
        return RunResult(scenarioName: "checkout", target: "http://127.0.0.1:8080", snapshot: snapshot, thresholds: thresholds,
                         stopReason: stopReason, timeline: timeline, events: [RunEvent(t: 1.5, kind: "users", detail: "10 users running")],
                         startedAtUnix: startUnix, cpuSeconds: 3, workers: 2, modelDescription: "closed: 10 users, wait constant(1s)")
    }

    /// A run that measured nothing.
    static func emptyResult() -> RunResult {
        let snap = Snapshot(elapsed: .zero, names: ["predict"], methods: ["POST"], perStat: [RequestStats()], total: RequestStats(),
                            windows: [:], defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: WorkerGauges(), targetUsers: nil, targetRate: nil, measuredSeconds: 0)
        return RunResult(scenarioName: "empty", target: "http://x", snapshot: snap, thresholds: [], stopReason: .interrupted,
                         timeline: Timeline(), events: [], startedAtUnix: 0, cpuSeconds: 0, workers: 1, modelDescription: "open: 5.0/s constant arrivals, max_in_flight 10")
    }
}
