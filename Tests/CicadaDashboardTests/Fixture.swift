import CicadaCore
import CicadaDashboard
import Foundation
import Testing

/// Hand-built, deterministic dashboard models.
enum Fixture {
    static let gib: UInt64 = 1 << 30

    /// An outcome of `stat` at `at` seconds after start that took `took` ms.
    static func outcome(_ stat: Int, at: Double, took: Double, status: Int = 200, failure: FailureKind? = nil,
                        error: String? = nil, stream: StreamOutcome? = nil) -> RequestOutcome {
        let start = UInt64(at * 1e9)
        var o = RequestOutcome(statIndex: stat, intendedNanos: start, sentNanos: start, endNanos: start + UInt64(took * 1e6),
                               ttfbMicros: UInt64(took * 500), status: status, failure: failure, error: error, bytesIn: 100, bytesOut: 20)
        o.stream = stream
        return o
    }

    /// Builds cumulative stats, a window of each length in `windows` and the error table from
    /// (time, outcome) pairs; the run has lasted `elapsed` seconds.
    static func snapshot(names: [String], methods: [String], outcomes: [RequestOutcome], elapsed: Double, windows: [Int],
                         defaultWindow: Int, lagMicros: [UInt64], users: Int, targetUsers: Int?, targetRate: Double?) -> Snapshot {
        var per = Array(repeating: RequestStats(), count: names.count)
        var total = RequestStats()
        var errors = ErrorTable()
        for o in outcomes {
            per[o.statIndex].record(o); total.record(o)
            if let e = o.error { errors.record(ErrorKey(method: methods[o.statIndex], name: names[o.statIndex], message: e), atNanos: o.endNanos) }
        }
        var ws: [Int: WindowStats] = [:]
        for w in windows {
            let from = max(0, elapsed - Double(w))
            var wp = Array(repeating: RequestStats(), count: names.count)
            var wt = RequestStats()
            for o in outcomes where Double(o.intendedNanos) / 1e9 >= from { wp[o.statIndex].record(o); wt.record(o) }
            ws[w] = WindowStats(span: .fromSeconds(elapsed - from), perStat: wp, total: wt)
        }
        var lag = LatencyHistogram()
        for v in lagMicros { lag.record(micros: v) }
        return Snapshot(elapsed: .fromSeconds(elapsed), names: names, methods: methods, perStat: per, total: total, windows: ws,
                        defaultWindowSeconds: defaultWindow, errors: errors, scheduleLag: lag, dropped: 0,
                        gauges: WorkerGauges(users: users, inFlight: 3, queued: 0), targetUsers: targetUsers, targetRate: targetRate,
                        measuredSeconds: elapsed)
    }

    static func verdicts(_ expressions: [String], _ s: Snapshot) -> [ThresholdResult] {
        expressions.map { try! Threshold(ThresholdSpec($0)).evaluate(s) }
    }

    /// Closed model, 10 users, two tasks, 60 s into a 120 s run: thresholds, one NVML GPU,
    /// a history with a three-second hole (t 33...35) and two events.
    static func closed() -> DashboardModel {
        var outcomes: [RequestOutcome] = []
        for i in 0..<600 {
            let at = Double(i) / 10
            if i % 50 == 7 {
                outcomes.append(outcome(0, at: at, took: 35, status: 503, failure: .http5xx, error: "HTTP 503"))
            } else {
                outcomes.append(outcome(0, at: at, took: i % 97 == 0 ? 150 : 8 + Double((i * 37) % 100) * 0.4))
            }
        }
        for i in 0..<120 { outcomes.append(outcome(1, at: Double(i) / 2, took: 1 + Double(i % 5) * 0.5)) }
        outcomes.append(outcome(1, at: 41, took: 0.2, status: 0, failure: .connection, error: "connection refused"))
        outcomes.append(outcome(1, at: 42, took: 0.2, status: 0, failure: .connection, error: "connection refused"))
        var s = snapshot(names: ["predict", "health"], methods: ["POST", "GET"], outcomes: outcomes, elapsed: 60, windows: [10, 60],
                         defaultWindow: 10, lagMicros: Array(repeating: 200, count: 99) + [900], users: 10, targetUsers: 10, targetRate: nil)
        var t = TelemetrySummary()
        t.gpus = [.init(source: "nvml", modelled: false, name: "NVIDIA H200", usedBytes: 87 * gib + gib / 4, totalBytes: 141 * gib, ageSeconds: 0.4, stale: false)]
        t.gpuMemoryPeakFraction = 0.64
        t.gpuMemoryPeakWhere = "nvml GPU 0 NVIDIA H200"
        s.telemetry = t
        var history: [TimelinePoint] = []
        for t in 1...60 where !(33...35).contains(t) {
            let users = min(10, t / 3)
            history.append(TimelinePoint(t: Double(t), users: users, qps: Double(users) * 4.8 + Double(t % 7) * 0.3,
                                         failuresPerSecond: t % 10 == 7 ? 2 : 0, p50Millis: 12 + Double(t % 5),
                                         p95Millis: 30 + Double((t * 7) % 20), p99Millis: 60 + Double((t * 13) % 70)))
        }
        return DashboardModel(snapshot: s, scenarioName: "predict-smoke", targetDescription: "http://127.0.0.1:8000", runTime: .seconds(120),
                              thresholds: verdicts(["p(99)<100ms", "error_rate<1%", "gpu_memory<90%", "health: p(95)<10ms"], s),
                              history: history, events: [RunEvent(t: 20, kind: "users", detail: "+5 users"), RunEvent(t: 45, kind: "window", detail: "60s")],
                              windowSeconds: 60, p99ThresholdMillis: 100, generatorCPUPercent: 23)
    }

    /// Open model at 50/s against the embedded engine, streamed chat answers, 95 s into an
    /// unbounded run; the generator is late (lag p99 > 10 ms), a modelled GPU, a message.
    static func open() -> DashboardModel {
        var outcomes: [RequestOutcome] = []
        for i in 0..<(95 * 48) {
            let at = Double(i) / 48
            let ttft = 80 + Double((i * 31) % 120)
            let tpot = 10 + Double((i * 17) % 10)
            let stream = StreamOutcome(ttftMicros: UInt64(ttft * 1000), firstContentMicros: UInt64(ttft * 1000), tpotMicros: UInt64(tpot * 1000),
                                       e2elMicros: UInt64((ttft + tpot * 127) * 1000), itlMicros: [], outputTokens: 128, inputTokens: 40,
                                       outputTokensFromUsage: true)
            if i % 400 == 3 {
                outcomes.append(outcome(0, at: at, took: 30_000, status: 0, failure: .timeout, error: "timed out after 30000 ms"))
            } else {
                outcomes.append(outcome(0, at: at, took: ttft + tpot * 127, stream: stream))
            }
        }
        var s = snapshot(names: ["chat"], methods: ["POST"], outcomes: outcomes, elapsed: 95, windows: [10, 60], defaultWindow: 10,
                         lagMicros: Array(repeating: 300, count: 95) + [12_000, 14_000, 15_000, 16_000, 18_000], users: 0, targetUsers: nil, targetRate: 50)
        var t = TelemetrySummary()
        t.gpus = [.init(source: "engine", modelled: true, name: "A100-80GB", usedBytes: 71 * gib, totalBytes: 80 * gib, ageSeconds: 0.2, stale: false)]
        t.gpuMemoryPeakFraction = 0.89
        t.gpuMemoryPeakModelled = true
        t.kvCachePeak = 0.43
        t.queueWaitingPeak = 14
        s.telemetry = t
        var history: [TimelinePoint] = []
        for t in 1...95 {
            let dip = (70...74).contains(t)
            history.append(TimelinePoint(t: Double(t), users: 0, qps: dip ? 31 + Double(t % 3) : 47.5 + Double(t % 4) * 0.5,
                                         failuresPerSecond: t % 9 == 0 ? 0.5 : 0, p50Millis: 1500 + Double(t % 9) * 20,
                                         p95Millis: 2100 + Double((t * 7) % 11) * 30, p99Millis: dip ? 3900 : 2600 + Double((t * 5) % 13) * 40))
        }
        let engine = EngineLine(presetName: "seed", maxBatchSize: 32, preferredBatchSizes: [8, 16], maxQueueDelayMicros: 500, queueSize: 14,
                                averageBatchSize: 11.3, batchSizes: [1: 40, 4: 120, 8: 300, 16: 210, 32: 35], cacheHitRate: 0.125,
                                label: "modelled: A100-80GB / deepseek-llm-7b / fp16")
        return DashboardModel(snapshot: s, scenarioName: "chat-open", targetDescription: "embedded engine: A100-80GB / deepseek-llm-7b",
                              thresholds: verdicts(["ttft.p(99)<250ms", "output_throughput>5000", "error_rate<1%"], s), history: history,
                              events: [RunEvent(t: 72, kind: "preset", detail: "seed")], windowSeconds: 60, generatorCPUPercent: 87,
                              engine: engine, message: "engine: switched to preset seed")
    }
}

/// Golden frames live in `Goldens/<name>.txt` (the frame's ``Frame/text`` plus a final newline).
///
/// Run the tests with `CICADA_UPDATE_GOLDENS=1` to rewrite every golden from the current
/// renderer into the source tree (next to this file); then read the diff by eye before
/// committing, since a rewritten golden passes by construction.
enum Golden {
    static func check(_ frame: Frame, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = frame.text + "\n"
        if ProcessInfo.processInfo.environment["CICADA_UPDATE_GOLDENS"] == "1" {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens/\(name).txt")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let dir = try #require(Bundle.module.url(forResource: "Goldens", withExtension: nil), sourceLocation: sourceLocation)
        let expected = try String(contentsOf: dir.appendingPathComponent("\(name).txt"), encoding: .utf8)
        #expect(text == expected, "golden \(name) differs; rerun with CICADA_UPDATE_GOLDENS=1 to rewrite it", sourceLocation: sourceLocation)
    }
}

extension Fixture {
    /// A comparison of three variants (on the open-model fixture, 95 s in), focused on the second:
    /// the baseline `seed`, `big` (slower), and `none` (overloaded, a hundred times slower, so
    /// the overlaid p99 axis turns logarithmic).
    static func compare() -> DashboardModel {
        var m = open()
        m.message = nil
        m.events = []
        func history(_ p99: Double, _ qps: Double) -> [TimelinePoint] {
            (36...95).map { t in
                TimelinePoint(t: Double(t), users: 0, qps: qps, failuresPerSecond: 0, p50Millis: p99 / 2, p95Millis: p99 * 0.9,
                              p99Millis: p99 + Double(t % 5))
            }
        }
        m.variants = [
            VariantLine(name: "seed", config: "seed: max 64, 10ms", isBaseline: true, qps: 199.5, p50: 21_000, p99: 31_500, errorRate: 0,
                        averageBatchSize: 3.2, memoryFraction: 0.17, history: history(31.5, 199.5)),
            VariantLine(name: "big", config: "big: max 32, 20ms", isBaseline: false, qps: 199.0, p50: 27_000, p99: 41_000, errorRate: 0,
                        averageBatchSize: 5.1, memoryFraction: 0.17, history: history(41, 199)),
            VariantLine(name: "none", config: "no-batching: max 1, 0us", isBaseline: false, qps: 85.8, p50: 3_039_000, p99: 6_230_000,
                        errorRate: 0.004, averageBatchSize: 1, memoryFraction: 0.17, history: history(6230, 85.8)),
        ]
        m.focusedVariant = 1
        m.history = m.variants[1].history
        m.targetDescription = "compare seed vs big vs none (focus: big)"
        return m
    }
}
