import CicadaCore
import CicadaDashboard
import Foundation
import Testing
@testable import cicada
@testable import CicadaSession

/// `cicada dash --shards` against two in-process shards (status servers on 127.0.0.1 with
/// their own ``RunControl``): `+` scales each shard's own multiplier, and the thresholds each
/// shard sends in `/live` are judged once on the merged figures.
@Suite(.serialized) struct ShardDashPanelsTests {
    typealias FakeShard = ShardControlTests.FakeShard

    /// A shard dashboard's controller for the open model, as `ShardDashboard` builds it.
    static func controller() -> DashboardController {
        var config = DashboardController.Configuration(scenarioName: "fake", targetDescription: "2 shards", isOpenModel: true)
        config.followsShards = true
        return DashboardController(configuration: config, lanes: [DashboardLane(name: "all shards", config: "")])
    }

    @Test func plusMultipliesEachShardsOwnRateFromWhereItIs() throws {
        let shards = try (0..<2).map { try FakeShard(index: $0, count: 2, open: true) }
        // Shard 1 is already at x2 (a script's POST /control, or another dashboard).
        shards[1].control.rateScale = 2
        for s in shards { s.update(requests: 10, millis: 5, users: 0) }
        let bases = shards.map(\.base)
        var feed = ShardLiveFeed(urls: bases)
        _ = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 0)
        #expect(feed.shards(at: 0).map(\.rateScale) == [1, 2])

        var c = Self.controller()
        let t0 = ContinuousClock.now
        for (k, key) in ["+", "+"].enumerated() {
            for action in c.handle(.character(Character(key)), at: t0 + .seconds(k)) {
                guard let (command, label) = ShardDashboard.command(for: action) else { continue }
                #expect(label == "rate x1.1 of its own")
                let answers = ShardDash.send(command, to: bases, token: nil)
                #expect(answers.allSatisfy { (try? $0.get()) == "ok" }, "\(answers)")
            }
        }
        // Each shard's own multiplier times 1.1 twice: 1.21 and 2.42, not both 1.21.
        #expect(abs(shards[0].control.rateScale - 1.21) < 1e-9 && abs(shards[1].control.rateScale - 2.42) < 1e-9,
                "\(shards.map(\.control.rateScale))")
        #expect(shards.allSatisfy { $0.notes.get().count == 2 })

        // The next poll shows each shard's multiplier in the shard table.
        for s in shards { s.update(requests: 20, millis: 5, users: 0, elapsed: 6) }
        _ = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 1)
        let lines = ShardDashboard.lines(feed.shards(at: 1))
        #expect(lines.map { $0.rateScale.map { ($0 * 1000).rounded() / 1000 } } == [1.21, 2.42])

        // `-` comes back down from each one's own.
        for action in c.handle(.character("-"), at: t0 + .seconds(3)) {
            if let (command, _) = ShardDashboard.command(for: action) { _ = ShardDash.send(command, to: bases, token: nil) }
        }
        #expect(abs(shards[0].control.rateScale - 1.1) < 1e-9 && abs(shards[1].control.rateScale - 2.2) < 1e-9)
    }

    @Test func theShardsThresholdsAreJudgedOnTheirMergedFigures() throws {
        let shards = try (0..<2).map { try FakeShard(index: $0, count: 2) }
        for s in shards {
            var controls = StatusServer.Controls(shard: ShardSpec(index: s === shards[0] ? 0 : 1, count: 2)!, isOpenModel: false,
                                                 control: s.control, token: nil, note: { _ in })
            controls.thresholds = [ThresholdSpec("p(99)<100ms"), ThresholdSpec("qps>=10")]
            s.server.attach(controls)
        }
        // 990 requests at 10 ms on shard 0, 10 at 500 ms on shard 1, each over 5 s.
        shards[0].update(requests: 990, millis: 10, users: 1)
        shards[1].update(requests: 10, millis: 500, users: 1)
        let bases = shards.map(\.base)
        let live = json(try http("GET", bases[1] + "/live").body)
        #expect((live["thresholds"] as? [[String: Any]])?.compactMap { $0["expression"] as? String } == ["p(99)<100ms", "qps>=10"])

        var feed = ShardLiveFeed(urls: bases)
        let answers = ShardDash.pollLive(bases, timeout: .seconds(5))
        let took = feed.take(answers, at: 0)
        let taken = try #require(took)
        let verdicts = try #require(feed.thresholdResults(on: taken.snapshot))
        // Merged: p99 of 1,000 requests is 10 ms, 200 req/s: both pass, though shard 1 alone fails p99.
        #expect(verdicts.map(\.passed) == [true, true], "\(verdicts.map { ($0.threshold.spec.expression, $0.measured as Any) })")
        #expect(try #require(verdicts[0].measured) < 11)
        #expect(verdicts[1].measured == 200)
        let alone = try #require(feed.states[1]).snapshot
        #expect(try Threshold(ThresholdSpec("p(99)<100ms")).evaluate(alone).passed == false)
        #expect(feed.p99ThresholdMillis == 100)
    }
    @Test func theShardsEnginesReachTheEnginePanelLabelledModelled() throws {
        let shards = try (0..<2).map { try FakeShard(index: $0, count: 2) }
        for (i, s) in shards.enumerated() {
            var controls = StatusServer.Controls(shard: ShardSpec(index: i, count: 2)!, isOpenModel: false, control: s.control, token: nil, note: { _ in })
            let figures = ShardLiveState.EngineFigures(label: "modelled: A100-80GB / deepseek-llm-7b / fp16", preset: "seed", maxBatchSize: 32,
                                                       maxQueueDelayUs: 500, queueSize: i + 1, executions: 10, inferences: UInt64(20 + 20 * i),
                                                       batchSizes: [2 + 2 * i: 10], memoryUsedBytes: 40_000_000_000, memoryTotalBytes: 80_000_000_000)
            controls.engine = { figures }
            s.server.attach(controls)
            s.update(requests: 10, millis: 5, users: 1)
        }
        let bases = shards.map(\.base)
        var feed = ShardLiveFeed(urls: bases)
        _ = feed.take(ShardDash.pollLive(bases, timeout: .seconds(5)), at: 0)
        let engines = try #require(feed.mergedEngines)
        #expect(engines.engines == 2 && engines.queueSize == 3 && engines.averageBatchSize == 3)
        let reading = ShardDashboard.reading(engines)
        #expect(reading.line.label.hasPrefix("modelled: ") && reading.line.label.hasSuffix(" (2 engines)"), "\(reading.line.label)")
        #expect(reading.memoryFraction == 0.5 && reading.presetNames.isEmpty)
        // A run with no engine sends none: no panel.
        let plain = try FakeShard(index: 0, count: 1)
        plain.update(requests: 1, millis: 5, users: 1)
        var alone = ShardLiveFeed(urls: [plain.base])
        _ = alone.take(ShardDash.pollLive([plain.base], timeout: .seconds(5)), at: 0)
        #expect(alone.anyAnswered && alone.mergedEngines == nil)
    }
    /// In a real terminal (tmux): two open-model shards, one already at x2; the thresholds panel
    /// judges the merged figures; `+` takes each shard from its own multiplier.
    @Test(.enabled(if: tmuxAvailable)) func theDashboardShowsMergedThresholdsAndScalesEachShardsRate() throws {
        let socket = "cicada-dashpanels-\(getpid())"
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir); tmux(["-L", socket, "kill-server"]) }
        let file = dir.appendingPathComponent("open.yaml")
        try """
        name: sharded-open
        target: http://127.0.0.1:1
        arrival: {rate: 20}
        run_time: 60s
        telemetry: {gpu: none}
        thresholds: ["p(99)<5s", "qps>=1000"]
        tasks: [{name: ping, path: /health}]

        """.write(to: file, atomically: true, encoding: .utf8)
        let shards = try (0..<2).map { i in
            try RunningCicada(["run", file.path, "--local-target", "--workers", "1", "--quiet", "--shard", "\(i)/2", "--status-port", "0"])
        }
        defer { for s in shards where s.process.isRunning { s.signal(SIGTERM); _ = s.wait(limit: 30) } }
        let urls = try shards.map { try $0.statusURL() }
        // Shard 1 is put at x2 from outside the dashboard.
        #expect(try http("POST", urls[1] + "/control", body: #"{"action": "set_rate_scale", "scale": 2}"#).status == 200)
        let command = "env -u CI TERM=screen LANG=C.UTF-8 \(cicadaBinary) dash --shards \(urls.joined(separator: " ")) --interval 500ms"
        tmux(["-L", socket, "new-session", "-d", "-s", "S", "-x", "160", "-y", "48", command])
        // The thresholds, judged on both shards together: p99 holds, 1,000 req/s does not.
        let live = waitFor(socket) { $0.contains("Thresholds 1/2 pass") && $0.contains("x2.000") }
        #expect(live.contains("Thresholds 1/2 pass") && live.contains("p(99)<5s") && live.contains("qps>=1000"), "screen:\n\(live)")
        tmux(["-L", socket, "send-keys", "-t", "S", "+"])
        let scaled = waitFor(socket, timeout: 15) { $0.contains("x1.100") && $0.contains("x2.200") }
        #expect(scaled.contains("x1.100") && scaled.contains("x2.200"), "screen:\n\(scaled)")
        for (u, want) in zip(urls, [1.1, 2.2]) {
            let scale = json(try http("GET", u + "/live").body)["rate_scale"] as? Double
            #expect(scale.map { abs($0 - want) < 1e-9 } == true, "\(u): \(scale as Any)")
        }
        tmux(["-L", socket, "send-keys", "-t", "S", "q"])
    }
}
