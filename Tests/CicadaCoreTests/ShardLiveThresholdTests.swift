import Foundation
import Testing
@testable import CicadaCore

/// The thresholds `cicada dash --shards` shows: sent in each shard's `/live`, judged once on the
/// merged figures (k6-operator judges each pod alone, so one slow pod fails the gate and two
/// half-loaded pods each fail a rate floor the run meets).
@Suite struct ShardLiveThresholdTests {
    /// `n` requests of `millis` ms each, `failed` of them with HTTP 503.
    static func stats(_ n: Int, millis: Double, failed: Int = 0) -> RequestStats {
        var s = RequestStats()
        for k in 0..<n {
            let start = UInt64(k) * 1_000_000
            var o = RequestOutcome(statIndex: 0, intendedNanos: start, sentNanos: start, endNanos: start + UInt64(millis * 1e6), ttfbMicros: 5,
                                   status: k < failed ? 503 : 200, failure: nil, error: nil, bytesIn: 1, bytesOut: 1)
            if k < failed { o.failure = .http5xx }
            s.record(o)
        }
        return s
    }

    /// A shard's state from a snapshot as its status server builds it: `n` requests of `millis` ms
    /// over 10 s, the same in its default window and in a 30 s threshold window.
    static func shard(_ index: Int, of count: Int, _ n: Int, millis: Double, failed: Int = 0, thresholds: [String]?,
                      gpu: Double? = nil) -> ShardLiveState {
        let st = stats(n, millis: millis, failed: failed)
        var snap = Snapshot(elapsed: .seconds(10), names: ["a"], methods: ["GET"], perStat: [st], total: st,
                            windows: [10: WindowStats(span: .seconds(10), perStat: [st], total: st),
                                      30: WindowStats(span: .seconds(10), perStat: [st], total: st)],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: WorkerGauges(), targetUsers: nil, targetRate: 50, measuredSeconds: 10)
        if let gpu {
            var t = TelemetrySummary()
            t.gpuMemoryPeakFraction = gpu; t.gpuMemoryPeakWhere = "nvml GPU \(index)"
            snap.telemetry = t
        }
        return ShardLiveState(snapshot: snap, scenario: "s", shard: ShardSpec(index: index, count: count)!, finished: false, isOpenModel: true,
                              paused: false, rateScale: 1, userOffset: 0, thresholds: thresholds.map { $0.map { ThresholdSpec($0) } })
    }

    static let gate = ["p(99)<100ms", "qps>=100", "error_rate<1%", "p(99)<100ms over 30s", "gpu_memory<90%"]

    @Test func theThresholdsAreJudgedOnceOnTheMergedShardsNotPerShard() throws {
        // Shard 0: 990 requests at 10 ms; shard 1: 10 at 500 ms, 5 failed; GPUs at 50 % and 95 %.
        let fast = Self.shard(0, of: 2, 990, millis: 10, thresholds: Self.gate, gpu: 0.5)
        let slow = Self.shard(1, of: 2, 10, millis: 500, failed: 5, thresholds: Self.gate, gpu: 0.95)
        let results = try #require(ShardLiveState.thresholdResults([fast, slow]))
        #expect(results.map(\.threshold.spec.expression) == Self.gate)
        func verdict(_ e: String) -> ThresholdResult? { results.first { $0.threshold.spec.expression == e } }
        // 1,000 requests, 10 slow: the 990th value is 10 ms, so p99 holds for the run as a whole,
        // though the slow shard alone fails it and neither shard alone reaches 100 req/s.
        #expect(verdict("p(99)<100ms")?.passed == true)
        #expect(try #require(verdict("p(99)<100ms")?.measured) < 11)
        #expect(verdict("qps>=100")?.passed == true && verdict("qps>=100")?.measured == 100)
        #expect(verdict("p(99)<100ms over 30s")?.passed == true, "the 30 s windows are added shard by shard")
        // 5 failures in 1,000: 0.5 %.
        #expect(verdict("error_rate<1%")?.measured == 0.005 && verdict("error_rate<1%")?.passed == true)
        // The highest GPU memory of any shard's GPUs.
        #expect(verdict("gpu_memory<90%")?.measured == 0.95 && verdict("gpu_memory<90%")?.passed == false)

        // Per shard (what k6-operator does), the verdicts differ: the point of judging them merged.
        let perShard = [fast, slow].map { s in Self.gate.map { try! Threshold(ThresholdSpec($0)).evaluate(s.snapshot) } }
        #expect(perShard[1][0].passed == false, "the slow shard alone fails p99")
        #expect(perShard[0][1].passed == false && perShard[1][1].passed == false, "neither shard alone reaches 100 req/s")
        #expect(perShard[1][2].passed == false, "the slow shard alone has 50 % errors")
    }

    @Test func aSlowShardFailsTheRunsGateWhenItIsSlowEnough() throws {
        // 900 at 10 ms and 100 at 500 ms: p99 of the run is 500 ms, though shard 0 alone passes.
        let states = [Self.shard(0, of: 2, 900, millis: 10, thresholds: ["p(99)<100ms"]), Self.shard(1, of: 2, 100, millis: 500, thresholds: ["p(99)<100ms"])]
        let r = try #require(ShardLiveState.thresholdResults(states)?.first)
        #expect(r.passed == false)
        #expect(try #require(r.measured) > 400)
        #expect(try Threshold(ThresholdSpec("p(99)<100ms")).evaluate(states[0].snapshot).passed, "shard 0 alone passes")
    }

    @Test func theShardsListsAreJoinedEachExpressionOnce() {
        let a = Self.shard(1, of: 3, 10, millis: 10, thresholds: ["p(99)<100ms", "qps>=1"])
        let b = Self.shard(0, of: 3, 10, millis: 10, thresholds: ["qps>=1", "error_rate<5%"])
        let old = Self.shard(2, of: 3, 10, millis: 10, thresholds: nil)
        // In shard order: shard 0's list, then what shard 1 adds; a shard that sent none adds none.
        #expect(ShardLiveState.thresholdSpecs([a, b, old])?.map(\.expression) == ["qps>=1", "error_rate<5%", "p(99)<100ms"])
        // Shards of an older version send no list: no panel, rather than an empty one that reads "all pass".
        #expect(ShardLiveState.thresholdSpecs([old]) == nil)
        #expect(ShardLiveState.thresholdResults([old]) == nil)
        // A threshold with no data fails, as in a run.
        let none = Self.shard(0, of: 1, 10, millis: 10, thresholds: ["nosuchtask: p(99)<100ms"])
        #expect(ShardLiveState.thresholdResults([none]) == [ThresholdResult(threshold: try! Threshold(ThresholdSpec("nosuchtask: p(99)<100ms")), passed: false, measured: nil)])
    }

    @Test func theAddedKeysReadBackAndAnOlderShardsJSONStillReads() throws {
        let s = Self.shard(1, of: 2, 50, millis: 20, failed: 1, thresholds: Self.gate, gpu: 0.4)
        #expect(s.extraWindows.map(\.seconds) == [30], "the threshold's 30 s window, not the default one")
        #expect(s.telemetryPeaks == ShardLiveState.TelemetryPeaks(gpuMemory: 0.4, gpuMemoryWhere: "nvml GPU 1"))
        let text = s.json()
        #expect(text.contains("\"thresholds\":[{\"abort_on_fail\":false,\"delay_abort_eval_s\":0,\"expression\":\"p(99)<100ms\"}"), "\(text.prefix(400))")
        #expect(text.contains("\"telemetry_peaks\":{\"gpu_memory\":0.4"))
        let back = try ShardLiveState.read(Data(text.utf8))
        #expect(back == s)
        #expect(ShardLiveState.thresholdResults([back]) == ShardLiveState.thresholdResults([s]))

        // A state with none of the added keys (a shard of an older version): read, with no thresholds.
        var old = s
        old.thresholds = nil; old.extraWindows = []; old.telemetryPeaks = nil
        let oldText = old.json()
        #expect(!oldText.contains("thresholds") && !oldText.contains("\"windows\"") && !oldText.contains("telemetry_peaks"))
        #expect(try ShardLiveState.read(Data(oldText.utf8)).thresholds == nil)

        // A bad threshold is a clear error naming its place.
        let bad = text.replacingOccurrences(of: "\"expression\":\"qps>=100\"", with: "\"expression\":\"qps>>=x\"")
        do { _ = try ShardLiveState.read(Data(bad.utf8)); Issue.record("a bad threshold was read") } catch {
            #expect(error.message.contains("thresholds[1]"), "\(error.message)")
        }
        let badWindow = text.replacingOccurrences(of: "\"windows\":[{\"seconds\":30", with: "\"windows\":[{\"seconds\":0")
        #expect(badWindow != text)
        do { _ = try ShardLiveState.read(Data(badWindow.utf8)); Issue.record("a bad window was read") } catch {
            #expect(error.message.contains("windows[0].seconds"), "\(error.message)")
        }
    }
}

/// The shards' embedded engines in `/live` (`engine`, modelled figures), added into one panel.
@Suite struct ShardLiveEngineTests {
    static func figures(queue: Int, executions: UInt64, inferences: UInt64, sizes: [Int: UInt64], used: UInt64,
                        label: String = "modelled: A100-80GB / deepseek-llm-7b / fp16", preset: String = "seed") -> ShardLiveState.EngineFigures {
        ShardLiveState.EngineFigures(label: label, preset: preset, maxBatchSize: 32, maxQueueDelayUs: 500, queueSize: queue, executions: executions,
                                     inferences: inferences, batchSizes: sizes, memoryUsedBytes: used, memoryTotalBytes: 80_000_000_000)
    }

    @Test func theEnginesAreAddedQueuesSummedBatchesPooledMemoryOfTheFullest() throws {
        var a = ShardLiveThresholdTests.shard(0, of: 2, 10, millis: 10, thresholds: nil)
        var b = ShardLiveThresholdTests.shard(1, of: 2, 10, millis: 10, thresholds: nil)
        a.engine = Self.figures(queue: 3, executions: 10, inferences: 40, sizes: [4: 10], used: 20_000_000_000)
        b.engine = Self.figures(queue: 5, executions: 30, inferences: 60, sizes: [2: 30], used: 60_000_000_000)
        let m = try #require(ShardLiveState.mergedEngines([a, b]))
        #expect(m.engines == 2 && m.queueSize == 8)
        // 100 requests in 40 batches: 2.5, not the mean of the shards' means (3.0).
        #expect(m.averageBatchSize == 2.5)
        #expect(m.batchSizes == [4: 10, 2: 30])
        #expect(m.memoryFraction == 0.75)
        #expect(m.label.hasPrefix("modelled:") && m.preset == "seed")
        b.engine?.preset = "throughput"; b.engine?.label = "modelled: H100 / x / fp16"
        let mixed = try #require(ShardLiveState.mergedEngines([a, b]))
        #expect(mixed.preset == "mixed" && mixed.label == "modelled: mixed devices")
        // A shard with no engine adds nothing; none at all: no panel.
        b.engine = nil
        #expect(ShardLiveState.mergedEngines([a, b])?.engines == 1)
        a.engine = nil
        #expect(ShardLiveState.mergedEngines([a, b]) == nil)
    }

    @Test func theEngineReadsBackFromJSON() throws {
        var s = ShardLiveThresholdTests.shard(0, of: 1, 10, millis: 10, thresholds: [])
        s.engine = Self.figures(queue: 2, executions: 3, inferences: 9, sizes: [3: 3], used: 1)
        let text = s.json()
        #expect(text.contains("\"engine\":{") && text.contains("\"max_queue_delay_us\":500") && text.contains("\"batch_sizes\":{\"3\":3}"), "\(text)")
        #expect(try ShardLiveState.read(Data(text.utf8)) == s)
        s.engine = nil
        #expect(!s.json().contains("\"engine\""))
    }
}
