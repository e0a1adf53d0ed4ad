import Foundation
import Testing
@testable import CicadaCore

/// `cicada dash --shards` facing shards that answer nonsense or are of an older version: a
/// hand-written `/live` is refused when read and cannot trap the merge; a threshold whose
/// inputs only some shards sent gets no verdict; the p99 line appears once any shard sends it.
@Suite struct ShardLiveRobustnessTests {
    static func engine(queue: Int, executions: UInt64, batches: UInt64) -> ShardLiveState.EngineFigures {
        .init(label: "modelled: A100", preset: "continuous", maxBatchSize: 8, maxQueueDelayUs: 100, queueSize: queue,
              executions: executions, inferences: executions, batchSizes: [4: batches], memoryUsedBytes: 1, memoryTotalBytes: 2)
    }

    /// A shard of two with every gauge and counter near the top of its type.
    static func huge(_ index: Int) -> ShardLiveState {
        var s = ShardLiveThresholdTests.shard(index, of: 2, 10, millis: 5, thresholds: nil)
        s.users = Int.max - 1; s.inFlight = Int.max; s.targetUsers = Int.max
        s.dropped = UInt64.max - 3; s.cutOff = UInt64.max
        s.errors = [.init(method: "GET", name: "a", message: "HTTP 503", occurrences: UInt64.max - 1)]
        s.engine = engine(queue: Int.max, executions: UInt64.max, batches: UInt64.max)
        return s
    }

    @Test func hugeFiguresFromTwoShardsMergeWithoutATrap() throws {
        let states = [Self.huge(0), Self.huge(1)]
        let snap = try #require(ShardLiveState.merged(states))
        #expect(snap.gauges.users == Int.max && snap.gauges.inFlight == Int.max && snap.targetUsers == Int.max)
        #expect(snap.dropped == UInt64.max && snap.cutOff == UInt64.max)
        #expect(snap.errors.entries.values.first?.occurrences == UInt64.max)
        #expect(snap.total.requests == 20, "the counts that fit are still added exactly")
        let engines = try #require(ShardLiveState.mergedEngines(states))
        #expect(engines.queueSize == Int.max && engines.batchSizes[4] == UInt64.max)
        #expect(engines.averageBatchSize == 1)
    }

    @Test func smallFiguresStillAddExactly() throws {
        var a = ShardLiveThresholdTests.shard(0, of: 2, 10, millis: 5, thresholds: nil), b = ShardLiveThresholdTests.shard(1, of: 2, 10, millis: 5, thresholds: nil)
        a.users = 3; b.users = 4; a.dropped = 5; b.dropped = 6
        a.engine = Self.engine(queue: 2, executions: 10, batches: 3); b.engine = Self.engine(queue: 5, executions: 30, batches: 4)
        let snap = try #require(ShardLiveState.merged([a, b]))
        #expect(snap.gauges.users == 7 && snap.dropped == 11)
        let engines = try #require(ShardLiveState.mergedEngines([a, b]))
        #expect(engines.queueSize == 7 && engines.batchSizes[4] == 7)
    }

    @Test(arguments: ["users", "dropped", "engine.queue_size", "engine.executions", "errors[0].occurrences", "in_flight"])
    func aShardAnsweringNonsenseIsRefusedNamingTheKey(_ key: String) throws {
        var s = ShardLiveThresholdTests.shard(0, of: 2, 10, millis: 5, thresholds: ["p(99)<100ms"])
        s.engine = Self.engine(queue: 1, executions: 1, batches: 1)
        s.errors = [.init(method: "GET", name: "a", message: "HTTP 503", occurrences: 1)]
        // The shard as written reads back.
        #expect(try ShardLiveState.read(Data(s.json().utf8)) == s)
        switch key {
        case "users": s.users = Int.max
        case "in_flight": s.inFlight = -1
        case "dropped": s.dropped = UInt64.max
        case "engine.queue_size": s.engine?.queueSize = Int.max
        case "engine.executions": s.engine?.executions = ShardLiveState.countLimit + 1
        default: s.errors[0].occurrences = UInt64.max
        }
        do {
            _ = try ShardLiveState.read(Data(s.json().utf8))
            Issue.record("a /live with \(key) out of range was read")
        } catch {
            #expect(error.message.hasPrefix("at \(key): ") && error.message.contains("out of range"), "\(error.message)")
        }
    }

    /// A shard of the version before `thresholds`: no thresholds, no threshold windows, no telemetry peaks.
    static func older(_ index: Int, of count: Int) -> ShardLiveState {
        var s = ShardLiveThresholdTests.shard(index, of: count, 500, millis: 500, thresholds: nil, gpu: 0.99)
        s.extraWindows = []; s.telemetryPeaks = nil
        // What it sends reads back the same (the keys are absent from its JSON).
        #expect(!s.json().contains("\"windows\"") && !s.json().contains("telemetry_peaks"))
        return s
    }

    @Test func aThresholdSomeShardsSentNoInputsForIsPartialNeverAVerdict() throws {
        // The newer shard is fast with a cool GPU; the older one is slow with a hot one.
        let newer = ShardLiveThresholdTests.shard(0, of: 2, 500, millis: 10, thresholds: ShardLiveThresholdTests.gate, gpu: 0.5)
        let results = try #require(ShardLiveState.thresholdResults([newer, Self.older(1, of: 2)]))
        func result(_ e: String) throws -> ThresholdResult { try #require(results.first { $0.threshold.spec.expression == e }) }
        for e in ["p(99)<100ms over 30s", "gpu_memory<90%"] {
            let r = try result(e)
            #expect(r.noVerdict == "partial: 1 of 2 shards" && r.measured == nil && !r.passed, "\(e): \(r)")
            #expect(r.measuredText == "partial: 1 of 2 shards")
        }
        // Cumulative figures come from every shard: judged, and the older shard's slow half fails it.
        let whole = try result("p(99)<100ms")
        #expect(whole.noVerdict == nil && whole.passed == false && (whole.measured ?? 0) > 400)
        // The default window (10 s) comes from every shard too.
        let same = ShardLiveState.thresholdResults([newer, Self.older(1, of: 2)].map { var s = $0; s.thresholds = ["p(99)<100ms over 10s"].map { ThresholdSpec($0) }; return s })
        #expect(same?.first?.noVerdict == nil && same?.first?.passed == false)
    }

    @Test func aWindowNoShardSentIsNoDataAndAllShardsSendingGiveAVerdict() throws {
        // Both newer, but the 30 s threshold was given to shard 0 only and neither keeps that window.
        var a = ShardLiveThresholdTests.shard(0, of: 2, 500, millis: 10, thresholds: ["p(99)<100ms over 30s"])
        var b = ShardLiveThresholdTests.shard(1, of: 2, 500, millis: 10, thresholds: [])
        let both = try #require(ShardLiveState.thresholdResults([a, b])?.first)
        #expect(both.noVerdict == nil && both.passed)
        b.extraWindows = []
        #expect(ShardLiveState.thresholdResults([a, b])?.first?.noVerdict == "partial: 1 of 2 shards")
        a.extraWindows = []
        #expect(ShardLiveState.thresholdResults([a, b])?.first?.noVerdict == "no data: 0 of 2 shards")
    }

    @Test func theP99LineAppearsOnceAnyShardSendsIt() {
        let old = Self.older(0, of: 2)
        #expect(ShardLiveState.p99ThresholdMillis([old]) == nil)
        let newer = ShardLiveThresholdTests.shard(1, of: 2, 10, millis: 10, thresholds: ["p(99)<250ms over 30s", "p(99)<120ms"])
        #expect(ShardLiveState.p99ThresholdMillis([old, newer]) == 120)
    }
}
