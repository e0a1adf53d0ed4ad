import CicadaCore
import Foundation
import Testing

/// Per-second windows and the bootstrap's confidence intervals, checked on known distributions.
@Suite struct WindowBootstrapTests {
    /// A window whose corrected and raw latencies are `micros`, with `failures` of them failed.
    static func window(_ micros: [UInt64], failures: UInt64 = 0) -> IntervalStats {
        var s = IntervalStats(statCount: 1)
        for (i, m) in micros.enumerated() {
            let o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: m * 1000, ttfbMicros: nil, status: 200,
                                   failure: UInt64(i) < failures ? .http5xx : nil, error: nil, bytesIn: 0, bytesOut: 0)
            s.record(o, method: "GET", name: "x")
        }
        return s
    }

    /// `n` windows of `perWindow` exponential latencies with mean `meanMicros`, seeded.
    static func exponentialRun(windows n: Int, perWindow: Int, meanMicros: Double, seed: UInt64) -> (SecondWindows, LatencyHistogram) {
        var rng = SeededRandom(seed: seed)
        var w = SecondWindows()
        var all = LatencyHistogram()
        for second in 0..<n {
            let values = (0..<perWindow).map { _ in UInt64(max(1, rng.exponential(mean: meanMicros).rounded())) }
            for v in values { all.record(micros: v) }
            w.add(window(values), second: Int64(second))
        }
        return (w, all)
    }

    static func points(_ h: LatencyHistogram, requests: UInt64, seconds: Double) -> [String: Double] {
        var snap = Snapshot(elapsed: .seconds(seconds), names: ["x"], methods: ["GET"], perStat: [], total: RequestStats(), windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(),
                            targetUsers: nil, targetRate: nil, measuredSeconds: seconds)
        snap.total.corrected = h; snap.total.raw = h; snap.total.requests = requests
        return FigureIntervals.points(of: snap)
    }

    @Test func aConstantSeriesHasAPointInterval() throws {
        var w = SecondWindows()
        for second in 0..<20 { w.add(Self.window(Array(repeating: 41_200, count: 50)), second: Int64(second)) }
        var h = LatencyHistogram()
        h.record(micros: 41_200, count: 1000)
        let c = try #require(WindowBootstrap.intervals(runs: [w], points: Self.points(h, requests: 1000, seconds: 20), seed: 7))
        for name in ["p(50)", "p(99)", "mean", "raw.p(99)"] {
            let i = try #require(c.figures[name])
            #expect(i.lower == 41.2 && i.upper == 41.2, "\(name): \(i)")
        }
        let q = try #require(c.figures["qps"])
        #expect(abs(q.lower - 50) < 1e-9 && abs(q.upper - 50) < 1e-9)
        #expect(c.method == "block-bootstrap" && c.windows == 20 && c.blockWindows == 3 && c.resamples == 1000)
        #expect(c.figures["ttft.p(99)"] == nil)   // not measured: no interval
    }

    @Test func aWideSeriesIntervalCoversTheTruePercentile() throws {
        // Exponential latencies (mean 20 ms): the true p50 is 20 ln 2 ms, the true p99 20 ln 100 ms.
        let mean = 20_000.0
        let truth = ["p(50)": mean * log(2) / 1000, "p(90)": mean * log(10) / 1000, "p(99)": mean * log(100) / 1000]
        var covered: [String: Int] = [:]
        let trials = 40
        for t in 0..<trials {
            let (w, h) = Self.exponentialRun(windows: 30, perWindow: 200, meanMicros: mean, seed: 1000 + UInt64(t))
            // Corrected latency only (raw is the same here), to keep the test quick.
            let points = Self.points(h, requests: h.count, seconds: 30).filter { !$0.key.hasPrefix("raw.") }
            let c = try #require(WindowBootstrap.intervals(runs: [w], points: points, seed: UInt64(t), resamples: 200))
            for (name, v) in truth where c.figures[name]?.contains(v) == true { covered[name, default: 0] += 1 }
            let p99 = try #require(c.figures["p(99)"])
            #expect(p99.upper > p99.lower)   // noise gives a real interval
        }
        // 95% intervals: at least 34 of 40 (85%) must hold the truth; a broken interval (a point,
        // or one around the wrong value) holds it far less often.
        for name in truth.keys { #expect(covered[name, default: 0] >= 34, "\(name): \(covered[name, default: 0]) of \(trials)") }
    }

    @Test func resamplingIsSeeded() throws {
        let (w, h) = Self.exponentialRun(windows: 20, perWindow: 100, meanMicros: 10_000, seed: 3)
        let p = Self.points(h, requests: h.count, seconds: 20)
        let a = WindowBootstrap.intervals(runs: [w], points: p, seed: 11, resamples: 200)
        let b = WindowBootstrap.intervals(runs: [w], points: p, seed: 11, resamples: 200)
        let c = WindowBootstrap.intervals(runs: [w], points: p, seed: 12, resamples: 200)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func repetitionsAreResampledInTwoStagesAndTheirDifferenceWidensTheInterval() throws {
        // Two repetitions, each steady within itself, one 10% slower than the other: resampling
        // windows alone would see almost no noise; drawing repetitions carries the difference.
        var a = SecondWindows(), b = SecondWindows()
        var h = LatencyHistogram()
        for s in 0..<20 {
            a.add(Self.window(Array(repeating: 10_000, count: 10)), second: Int64(s))
            b.add(Self.window(Array(repeating: 11_000, count: 10)), second: Int64(s))
        }
        h.record(micros: 10_000, count: 200); h.record(micros: 11_000, count: 200)
        let c = try #require(WindowBootstrap.intervals(runs: [a, b], points: Self.points(h, requests: 400, seconds: 40), seed: 1))
        #expect(c.method == "two-stage-bootstrap" && c.repetitions == 2 && c.windows == 40)
        let p50 = try #require(c.figures["p(50)"])
        #expect(p50.lower == 10 && p50.upper == 11)
    }

    @Test func errorRateIntervalFollowsTheFailures() throws {
        var w = SecondWindows()
        for s in 0..<30 { w.add(Self.window(Array(repeating: 5_000, count: 100), failures: s % 2 == 0 ? 2 : 0), second: Int64(s)) }
        var h = LatencyHistogram()
        h.record(micros: 5_000, count: 3000)
        var p = Self.points(h, requests: 3000, seconds: 30)
        p["error_rate"] = 30.0 / 3000
        let i = try #require(WindowBootstrap.intervals(runs: [w], points: p, seed: 5)?.figures["error_rate"])
        #expect(i.lower < 0.01 && i.upper > 0.01 && i.lower > 0.003 && i.upper < 0.02)
    }

    @Test func windowsStayBoundedAndMergePairwise() {
        var w = SecondWindows(capacity: 10)
        for s in 0..<25 { w.add(Self.window([1000, 2000]), second: Int64(s)) }
        w.flush()
        #expect(w.windows.count <= 10)
        #expect(w.secondsPerWindow == 4)
        #expect(w.windows.reduce(0) { $0 + $1.requests } == 50)
        #expect(w.windows[0][.corrected].values == [1000, 2000] && w.windows[0][.corrected].counts == [4, 4])
        // Warm-up (no measured request) opens no window; a silent second in between is an empty window.
        var g = SecondWindows()
        g.add(IntervalStats(statCount: 1), second: 0)
        g.add(Self.window([1000]), second: 3)
        g.add(Self.window([1000]), second: 5)
        g.add(Self.window([1000]), second: 5)      // two intervals in one second: one window
        g.flush()
        #expect(g.windows.map(\.requests) == [1, 0, 2])
        // The last window ends where the run did: a throughput resample divides by real time.
        g.close(atSeconds: 5.25)
        #expect(g.seconds(of: 0) == 1 && g.seconds(of: 2) == 0.25)
    }

    @Test func streamsGetTokenFigureIntervals() throws {
        // Streams whose TTFT is 100 ms and ITL 10 ms every second: point intervals on them.
        var w = SecondWindows()
        var total = RequestStats()
        for second in 0..<10 {
            var s = IntervalStats(statCount: 1)
            for _ in 0..<20 {
                var o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: 300_000_000, ttfbMicros: nil, status: 200,
                                       failure: nil, error: nil, bytesIn: 0, bytesOut: 0)
                o.stream = StreamOutcome(ttftMicros: 100_000, firstContentMicros: 100_000, tpotMicros: 10_000, e2elMicros: 300_000,
                                         itlMicros: Array(repeating: 10_000, count: 20), outputTokens: 21, inputTokens: nil, outputTokensFromUsage: false)
                s.record(o, method: "POST", name: "chat")
                total.record(o)
            }
            w.add(s, second: Int64(second))
        }
        var snap = Snapshot(elapsed: .seconds(10), names: ["chat"], methods: ["POST"], perStat: [total], total: total, windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(),
                            targetUsers: nil, targetRate: nil, measuredSeconds: 10)
        snap.total = total
        let c = try #require(WindowBootstrap.intervals(runs: [w], points: FigureIntervals.points(of: snap), seed: 1, resamples: 100))
        #expect(c.figures["ttft.p(99)"] == ConfidenceInterval(lower: 100, upper: 100))
        #expect(c.figures["itl.p(50)"] == ConfidenceInterval(lower: 10, upper: 10))
        #expect(c.figures["tpot.p(90)"] == ConfidenceInterval(lower: 10, upper: 10))
        #expect(c.figures["p(99)"] == ConfidenceInterval(lower: 300, upper: 300))
    }

    /// A finished run of `n` requests at `micros` over `seconds`.
    static func result(_ n: UInt64, micros: UInt64, seconds: Double) -> RunResult {
        var s = RequestStats()
        s.corrected.record(micros: micros, count: n); s.raw.record(micros: micros, count: n); s.requests = n
        let snap = Snapshot(elapsed: .seconds(seconds), names: ["x"], methods: ["GET"], perStat: [s], total: s, windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(),
                            targetUsers: nil, targetRate: nil, measuredSeconds: seconds)
        return RunResult(scenarioName: "s", target: "t", snapshot: snap, thresholds: [], stopReason: .completed, timeline: Timeline(),
                         events: [], startedAtUnix: 0, cpuSeconds: 1, workers: 1, modelDescription: "m")
    }

    @Test func repetitionsPoolExactlyAndThresholdsAreJudgedOnThePool() throws {
        let a = Self.result(100, micros: 10_000, seconds: 10), b = Self.result(300, micros: 30_000, seconds: 20)
        let t = try Threshold(ThresholdSpec("p(50)<20ms"))
        let p = RepeatedRuns.pooled([a, b], seeds: [7, 7], thresholds: [t])
        #expect(p.snapshot.total.requests == 400 && p.snapshot.perStat[0].requests == 400)
        #expect(p.snapshot.measuredSeconds == 30 && p.snapshot.qps == 400.0 / 30)
        #expect(p.snapshot.total.corrected.percentile(50) == 30_000)    // from the added histograms
        #expect(p.thresholds.count == 1 && !p.thresholds[0].passed)      // each alone: a passes, b fails; the pool fails
        #expect(p.repetitions.map(\.requests) == [100, 300] && p.repetitions.map(\.seed) == [7, 7])
        #expect(p.events.filter { $0.kind == "repeat" }.map(\.t) == [0, 10])
        #expect(p.cpuSeconds == 2)
    }
}
