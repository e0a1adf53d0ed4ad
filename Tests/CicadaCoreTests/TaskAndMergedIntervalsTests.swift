import CicadaCore
import Foundation
import Testing

/// Intervals beyond the whole single run: each task's own (per-task windows), and a distributed
/// run's, merged from shard artifacts' per-second records.
@Suite struct TaskAndMergedIntervalsTests {
    /// One request of a known stream: the second it completed in, its task, latency and outcome.
    struct Record { var second: Int; var task: Int; var micros: UInt64; var failed: Bool }

    static func outcome(_ r: Record) -> RequestOutcome {
        RequestOutcome(statIndex: r.task, intendedNanos: 0, sentNanos: 0, endNanos: r.micros * 1000, ttfbMicros: nil,
                       status: r.failed ? 503 : 200, failure: r.failed ? .http5xx : nil, error: nil, bytesIn: 0, bytesOut: 0)
    }

    /// `seconds` seconds of two tasks: `fast` always 5 ms and never failing; `slow` exponential
    /// (mean 40 ms, each second's mean drifting), one in ten failed.
    static func stream(seconds: Int, seed: UInt64) -> [Record] {
        var rng = SeededRandom(seed: seed)
        var out: [Record] = []
        for s in 0..<seconds {
            let drift = 1 + 0.5 * sin(Double(s))
            for _ in 0..<30 { out.append(Record(second: s, task: 0, micros: 5_000, failed: false)) }
            for i in 0..<40 {
                out.append(Record(second: s, task: 1, micros: UInt64(max(1, rng.exponential(mean: 40_000 * drift).rounded())), failed: i % 10 == 0))
            }
        }
        return out
    }

    static let names = ["fast", "slow"]

    /// The single run that measured `records`: its snapshot over `seconds`, and its windows as
    /// the runner files them (each second's requests handed over in that second).
    static func singleRun(_ records: [Record], seconds: Int) -> RunResult {
        var all = IntervalStats(statCount: 2)
        var windows = SecondWindows()
        var tasks = SecondWindows.perTask(count: 2)
        for s in 0..<seconds {
            var delta = IntervalStats(statCount: 2)
            for r in records where r.second == s { delta.record(outcome(r), method: "GET", name: names[r.task]) }
            windows.add(delta, second: Int64(s))
            for i in tasks.indices { tasks[i].add(delta, second: Int64(s)) }
            all.merge(delta)
        }
        windows.close(atSeconds: Double(seconds))
        for i in tasks.indices { tasks[i].close(atSeconds: Double(seconds)) }
        var total = RequestStats()
        for s in all.perStat { total.merge(s) }
        let snap = Snapshot(elapsed: .seconds(seconds), names: names, methods: ["GET", "GET"], perStat: all.perStat, total: total, windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0, gauges: WorkerGauges(),
                            targetUsers: nil, targetRate: nil, measuredSeconds: Double(seconds))
        var r = RunResult(scenarioName: "s", target: "http://127.0.0.1:1", snapshot: snap, thresholds: [], stopReason: .completed, timeline: Timeline(),
                          events: [], startedAtUnix: startUnix, cpuSeconds: 0, workers: 1, modelDescription: "m")
        r.secondWindows = windows
        r.taskSecondWindows = tasks
        return r
    }

    static let startUnix = 1_800_000_000.0

    /// Shard `index` of `count`'s artifact, holding the records `index`, `index + count`, ...
    /// of the stream, its per-second records as the shard's recorder files them (Unix seconds).
    static func artifact(_ records: [Record], index: Int, count: Int, seconds: Int, withHistograms: Bool = true) -> ShardArtifact {
        let mine = records.enumerated().filter { $0.offset % count == index }.map(\.element)
        var stats = IntervalStats(statCount: 2)
        var timeline: [ShardArtifact.SecondRecord] = []
        for s in 0..<seconds {
            var delta = IntervalStats(statCount: 2)
            for r in mine where r.second == s { delta.record(outcome(r), method: "GET", name: names[r.task]) }
            var all = RequestStats()
            for x in delta.perStat { all.merge(x) }
            timeline.append(ShardArtifact.SecondRecord(second: Int64(startUnix) + Int64(s), requests: all.requests, failures: all.failures,
                                                       users: 1, corrected: withHistograms ? all.corrected : nil))
            stats.merge(delta)
        }
        let record = ShardArtifact.ShardRecord(index: index, startedAtUnix: startUnix, monotonicStartNanos: 0, startAtUnix: nil,
                                               measuredSeconds: Double(seconds), stopReason: "completed", abortThreshold: nil,
                                               writtenAtUnix: startUnix + Double(seconds), workers: 1, cpuSeconds: 0)
        return ShardArtifact(identity: .init(scenario: "s", scenarioHash: "h", seed: 7, scheduleHash: "x"), shardCount: count, shards: [record],
                             target: "http://127.0.0.1:1", modelDescription: "m", thresholds: [], goodputConfigured: false,
                             names: names, methods: ["GET", "GET"], perStat: stats.perStat, scheduleLag: LatencyHistogram(), dropped: 0, cutOff: 0,
                             errors: [], timeline: timeline, events: [])
    }

    @Test func eachTaskGetsItsOwnIntervals() throws {
        var r = Self.singleRun(Self.stream(seconds: 30, seed: 5), seconds: 30)
        r.computeIntervals(repetitions: [r], seed: 42, resamples: 300)
        let fast = try #require(r.taskInterval(0)), slow = try #require(r.taskInterval(1)), run = try #require(r.intervals)
        // The constant task: a point interval at 5 ms, no failure, its own 30 requests a second.
        #expect(fast.figures["p(99)"] == ConfidenceInterval(lower: 5, upper: 5))
        #expect(fast.figures["error_rate"] == ConfidenceInterval(lower: 0, upper: 0))
        let fq = try #require(fast.figures["qps"])
        #expect(abs(fq.lower - 30) < 1e-9 && abs(fq.upper - 30) < 1e-9)
        // The noisy task: a real interval holding its own figure, wider than the run's p50 mixes both.
        let sp99 = try #require(slow.figures["p(99)"]), point = try #require(r.snapshot.perStat[1].corrected.percentile(99))
        #expect(sp99.lower < sp99.upper && sp99.contains(Double(point) / 1000))
        let se = try #require(slow.figures["error_rate"])
        #expect(se.contains(0.1))
        // A task's figures are its own, not the run's.
        #expect(slow.figures["p(50)"] != run.figures["p(50)"])
        #expect(slow.figures["ttft.p(99)"] == nil)   // no per-token distributions per task
        // Seeded: the same data and seed give the same task intervals.
        var again = Self.singleRun(Self.stream(seconds: 30, seed: 5), seconds: 30)
        again.computeIntervals(repetitions: [again], seed: 42, resamples: 300)
        #expect(again.taskIntervals == r.taskIntervals)
    }

    @Test func aTaskWindowFilesOnlyItsTask() {
        var w = SecondWindows(stat: 1)
        var delta = IntervalStats(statCount: 2)
        delta.record(Self.outcome(Record(second: 0, task: 0, micros: 1_000, failed: true)), method: "GET", name: "fast")
        delta.record(Self.outcome(Record(second: 0, task: 1, micros: 9_000, failed: false)), method: "GET", name: "slow")
        w.add(delta, second: 0)
        w.flush()
        #expect(w.windows.count == 1)
        #expect(w.windows[0].requests == 1 && w.windows[0].failures == 0)
        #expect(w.windows[0][.corrected].count == 1 && w.windows[0][.corrected].minMicros == 9_000)
        // A task that never ran has no window and so no interval.
        var none = SecondWindows(stat: 1)
        var other = IntervalStats(statCount: 2)
        other.record(Self.outcome(Record(second: 0, task: 0, micros: 1_000, failed: false)), method: "GET", name: "fast")
        none.add(other, second: 0)
        none.close(atSeconds: 1)
        #expect(none.windows.isEmpty)
    }

    /// The stream split over N shards and merged gives the single run's windows, so the same
    /// seed gives the same intervals on every figure the artifacts keep per second (corrected
    /// latency, qps, error rate); the others (raw, per task) are absent, never made up.
    @Test(arguments: [1, 2, 3, 5])
    func mergingShardsOfOneStreamGivesTheSingleRunsIntervals(shards: Int) throws {
        let seconds = 25
        let records = Self.stream(seconds: seconds, seed: 9)
        var single = Self.singleRun(records, seconds: seconds)
        single.computeIntervals(repetitions: [single], seed: 7, resamples: 400)
        let parts = (0..<shards).map { Self.artifact(records, index: $0, count: shards, seconds: seconds) }
        let merged = try #require(try ShardArtifact.merged(parts.reversed()))
        var result = merged.runResult()
        result.computeIntervals(repetitions: [result], seed: merged.identity.seed, resamples: 400)
        let m = try #require(result.intervals), s = try #require(single.intervals)

        let kept = ["p(50)", "p(90)", "p(95)", "p(99)", "mean", "qps", "error_rate"]
        #expect(Set(m.figures.keys) == Set(kept))
        for name in kept {
            let a = try #require(m.figures[name]), b = try #require(s.figures[name])
            #expect(abs(a.lower - b.lower) <= 1e-9 * max(1, abs(b.lower)) && abs(a.upper - b.upper) <= 1e-9 * max(1, abs(b.upper)), "\(name): merged \(a), single \(b)")
        }
        #expect(m.windows == s.windows && m.blockWindows == s.blockWindows && m.method == "block-bootstrap")
        #expect(s.figures["raw.p(99)"] != nil && m.figures["raw.p(99)"] == nil)
        #expect(result.taskIntervals.isEmpty)   // an artifact keeps no per-task seconds
    }

    @Test func anArtifactWithoutPerSecondHistogramsGivesNoLatencyIntervals() throws {
        let records = Self.stream(seconds: 20, seed: 4)
        let merged = try #require(try ShardArtifact.merged([Self.artifact(records, index: 0, count: 2, seconds: 20),
                                                            Self.artifact(records, index: 1, count: 2, seconds: 20, withHistograms: false)]))
        var result = merged.runResult()
        result.computeIntervals(repetitions: [result], seed: 1, resamples: 200)
        let c = try #require(result.intervals)
        #expect(c.figures["p(99)"] == nil && c.figures["mean"] == nil)
        #expect(c.figures["qps"] != nil && c.figures["error_rate"] != nil)
    }
}
