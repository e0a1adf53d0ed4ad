import CicadaCore
@testable import CicadaDashboard
import Testing

/// The shard dashboard's `+`/`-` (`cicada dash --shards`): relative to each shard's own
/// multiplier, never an absolute one counted by the dashboard; the thresholds panel fed with the
/// merged verdicts; the shard table's rate column. Time is passed in.
@Suite struct ShardKeysTests {
    /// A shard dashboard's controller over the open fixture's snapshot and its thresholds.
    static func shards(open: Bool = true) -> DashboardController {
        var config = DashboardController.Configuration(scenarioName: "sharded", targetDescription: "2 shards, merged live", isOpenModel: open)
        config.followsShards = true
        var c = DashboardController(configuration: config, lanes: [DashboardLane(name: "all shards", config: "")])
        let m = open ? Fixture.open() : Fixture.closed()
        c.update(snapshot: m.snapshot, thresholds: m.thresholds, lane: 0)
        return c
    }

    @Test func plusAndMinusScaleEachShardsOwnRateNeverSetOne() {
        var c = Self.shards()
        let t = Controllers.at(0)
        let up = c.handle(.character("+"), at: t)
        #expect(up == [.scaleRate(1.1), .note("arrival rate x1.1 on every shard, each from its own rate", lane: nil)])
        // Pressed again: the same factor, not 1.21: the dashboard keeps no count of its own that
        // could overwrite a multiplier a shard already has.
        #expect(c.handle(.character("="), at: Controllers.at(0.5)).first == .scaleRate(1.1))
        #expect(c.handle(.character("-"), at: Controllers.at(1)) == [.scaleRate(1 / 1.1), .note("arrival rate /1.1 on every shard, each from its own rate", lane: nil)])
        #expect(c.rateScale == 1, "no absolute multiplier is tracked for shards")
        #expect(!up.contains { if case .setRateScale = $0 { true } else { false } })
    }

    @Test func theMessageShowsForItsLifetimeOnTheInjectedClock() {
        var c = Self.shards()
        _ = c.handle(.character("+"), at: Controllers.at(10))
        #expect(c.viewModel(at: Controllers.at(10))?.message == "arrival rate x1.1 on every shard, each from its own rate")
        #expect(c.viewModel(at: Controllers.at(12.9))?.message != nil)
        #expect(c.viewModel(at: Controllers.at(13.1))?.message == nil)
        // Marked on the charts at the snapshot's elapsed time.
        #expect(c.marks.last?.detail == "arrival rate x1.1 on every shard, each from its own rate")
    }

    @Test func aRunOfThisProcessStillSetsItsOwnMultiplier() {
        // The single-run dashboard is the only writer of its RunControl's rate: it keeps the absolute form.
        let c = Controllers.single(open: true)
        #expect(c.handle(.character("+"), at: Controllers.at(0)).first == .setRateScale(1.1))
    }

    @Test func closedModelShardsOnlyExplain() {
        var c = Self.shards(open: false)
        #expect(c.handle(.character("+"), at: Controllers.at(0)) == [.note("the arrival rate applies to the open model; use w/s for users", lane: nil)])
    }

    @Test func theThresholdsPanelShowsTheVerdictsItIsGiven() throws {
        var c = Self.shards()
        let ok = try Threshold(ThresholdSpec("qps>=100"))
        let slow = try Threshold(ThresholdSpec("p(99)<100ms"))
        let snap = Fixture.open().snapshot
        c.update(snapshot: snap, thresholds: [ThresholdResult(threshold: ok, passed: true, measured: 120),
                                              ThresholdResult(threshold: slow, passed: false, measured: 250)], lane: 0)
        let text = try #require(c.frame(width: 160, height: 48, at: Controllers.at(0))).text
        #expect(text.contains("Thresholds") && text.contains("1/2 pass"), "\(text)")
        #expect(text.contains("qps>=100") && text.contains("p(99)<100ms"))
    }

    @Test func theShardTableShowsEachShardsMultiplierWhenTheShardsHaveOne() throws {
        var m = Fixture.open()
        var a = ShardLine(index: 0, url: "http://127.0.0.1:9001", state: "up", healthy: true, qps: 10, p99Micros: 5_000, ack: "ok: rate x1.1 of its own")
        var b = ShardLine(index: 1, url: "http://127.0.0.1:9002", state: "up", healthy: true, qps: 20, p99Micros: 5_000, ack: "ok: rate x1.1 of its own")
        a.rateScale = 1.1; b.rateScale = 2.2
        m.shards = [a, b]
        let rows = DashboardRenderer().render(m, width: 160, height: 48).text.split(separator: "\n").map(String.init)
        let head = try #require(rows.firstIndex { $0.contains("Shard") && $0.contains("State") && $0.contains("Rate") }, "\(rows)")
        #expect(rows[head + 1].contains("x1.100") && rows[head + 2].contains("x2.200"), "\(rows[head + 1])\n\(rows[head + 2])")
        // Closed-model shards have no multiplier: no column.
        a.rateScale = nil; b.rateScale = nil
        m.shards = [a, b]
        let closed = DashboardRenderer().render(m, width: 160, height: 48).text.split(separator: "\n").map(String.init)
        let closedHead = try #require(closed.firstIndex { $0.contains("Shard") && $0.contains("State") && $0.contains("Last key") })
        #expect(!closed[closedHead].contains("Rate"))
    }
}

/// The shard dashboard's engine panel: the shards' engines added, labelled modelled; batching
/// keys explain that each shard's engine is its own.
@Suite struct ShardEnginePanelTests {
    @Test func theEnginePanelShowsWhenTheShardsSendAnEngine() throws {
        var c = ShardKeysTests.shards()
        #expect(c.viewModel(at: Controllers.at(0))?.engine == nil, "no engine sent: no panel")
        let line = EngineLine(presetName: "seed", maxBatchSize: 32, preferredBatchSizes: [], maxQueueDelayMicros: 500, queueSize: 8,
                              averageBatchSize: 2.5, batchSizes: [2: 30, 4: 10], cacheHitRate: nil,
                              label: "modelled: A100-80GB / deepseek-llm-7b / fp16 (2 engines)")
        c.update(engine: EngineReading(line: line, memoryFraction: 0.75, presetNames: [], baseURL: ""), lane: 0)
        #expect(c.viewModel(at: Controllers.at(0))?.engine == line)
        let text = try #require(c.frame(width: 160, height: 48, at: Controllers.at(0))).text
        #expect(text.contains("Engine") && text.contains("modelled: A100-80GB"), "\(text)")
    }

    @Test(arguments: ["b", "[", "]", "{", "}"])
    func batchingKeysSayEachShardsEngineIsItsOwn(_ key: String) {
        var c = ShardKeysTests.shards()
        #expect(c.handle(.character(Character(key)), at: Controllers.at(0)) == [.note("batching keys act on a run's own engine; each shard's engine is its own", lane: nil)])
    }
}
