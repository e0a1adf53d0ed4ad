import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaScenario
import CicadaReport
import CicadaSweep
import CicadaTestTarget
import Foundation
import Testing

@Suite(.serialized) struct SweepTests {
    func sweep(_ yaml: String) throws -> SweepAnalysis {
        let doc = try ScenarioReader().parseDocument(yaml, file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        let engine = doc.engine ?? EngineConfig()
        let runner = SweepRunner(scenario: doc.scenario, spec: spec, workers: 1)
        let points = try runner.run { batching in
            var config = engine
            config.batching = batching
            config.cacheEntries = 0
            config.tokenizer = .approximate   // the rates were chosen for 10-token prompts (a uuid is ~30 in cicada-tiny)
            return config
        }
        return SweepAnalysis(points: points, p99SLOMillis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
    }

    @Test func batchingRaisesSustainableThroughputAndSlowDelaysAreNeverRecommended() throws {
        let a = try sweep("""
        target: embedded
        engine:
          presets: [{name: patient, max_batch_size: 64, preferred_batch_sizes: [64], max_queue_delay_us: 200000}]
        arrival: {rate: 10, max_in_flight: 4000}
        run_time: 5s
        tasks: [{name: p, kind: predict, prompt: "q {{uuid}}"}]
        sweep: {presets: [no-batching, seed, patient], rates: [40, 200], warmup: 500ms, measure: 2s, slo: {p99: 100ms}}
        """)
        let s = Dictionary(uniqueKeysWithValues: a.sustainable.map { ($0.preset, $0.rate) })
        #expect(s["no-batching"]! == 40)
        #expect(s["seed"]! == 200)
        // A 200 ms queue delay can never hold a 100 ms p99 at these rates.
        #expect(s["patient"]! == nil)
        #expect(a.recommendation == "seed")
        #expect(a.reason.contains("seed sustains 200 req/s"))
        #expect(a.text().contains("RECOMMENDATION: seed"))
        #expect(a.text().contains("* modelled by the embedded engine"), "engine figures are labelled modelled")
    }

    @Test func outOfMemoryPointsAreReportedAsSuch() throws {
        let a = try sweep("""
        target: embedded
        engine: {gpu: A10, model: deepseek-coder-33b}
        arrival: {rate: 10, max_in_flight: 100}
        run_time: 5s
        tasks: [{name: p, kind: predict, prompt: "q"}]
        sweep: {presets: [seed], rates: [10, 20], warmup: 0s, measure: 1s}
        """)
        #expect(a.points.count == 1)
        #expect(a.points.first?.verdict(p99Millis: 100, maxErrorRate: 0.01) == .outOfMemory)
        #expect(a.recommendation == nil)
        #expect(a.text().contains("out_of_memory"))
    }

    @Test func paretoFrontAndRecommendationArePure() {
        func p(_ preset: String, _ rate: Double, _ qps: Double, _ p99: Double) -> SweepPoint {
            SweepPoint(preset: preset, rate: rate, achievedQPS: qps, p50Millis: p99 / 2, p99Millis: p99, errorRate: 0, outOfMemory: 0, averageBatchSize: nil, memoryFraction: nil)
        }
        let a = SweepAnalysis(points: [p("a", 100, 100, 50), p("a", 200, 150, 300), p("b", 100, 100, 30), p("b", 200, 199, 90)], p99SLOMillis: 100, maxErrorRate: 0.01)
        #expect(a.paretoFront.map { "\($0.preset)@\(Int($0.rate))" } == ["b@100", "b@200"])
        #expect(a.recommendation == "b")
        #expect(a.sustainable.first { $0.preset == "a" }?.rate == 100)
    }
}

@Suite struct StabilityCheckTests {
    /// Feeds windows of `qps` req/s and mean latency `ms` (1 s each) cumulatively.
    func feed(_ windows: [(qps: Double, ms: Double)], check: inout StabilityCheck) -> [Bool] {
        var n: UInt64 = 0, sum = 0.0, t = 0.0
        return windows.map { w in
            n += UInt64(w.qps); sum += w.qps * w.ms * 1000; t += 1
            return check.add(requests: n, latencyMicros: sum, atSeconds: t)
        }
    }

    @Test func threeAgreeingWindowsAreStable() {
        var c = StabilityCheck(windows: 3, tolerance: 0.1)
        let stable = feed([(100, 20), (104, 21), (98, 20.5)], check: &c)
        #expect(stable == [false, false, true])
    }

    @Test func aTransientDelaysStabilityUntilItLeavesTheLastWindows() {
        var c = StabilityCheck(windows: 3, tolerance: 0.1)
        let stable = feed([(50, 80), (100, 20), (101, 20), (99, 21)], check: &c)
        #expect(stable == [false, false, false, true])
    }

    @Test func growingLatencyOrFlappingThroughputNeverSettle() {
        var overload = StabilityCheck(windows: 3, tolerance: 0.1)
        // A queue that keeps growing: mean latency rises window after window.
        let growing = feed((1...10).map { (88, Double($0) * 500) }, check: &overload)
        #expect(!growing.contains(true))
        var flapping = StabilityCheck(windows: 3, tolerance: 0.1)
        let flaps = feed([(100, 20), (130, 20), (100, 20), (130, 20)], check: &flapping)
        #expect(!flaps.contains(true))
    }

    @Test func anEmptyWindowIsNeverStable() {
        var c = StabilityCheck(windows: 2, tolerance: 0.5)
        let gaps = feed([(100, 20), (0, 0), (100, 20)], check: &c)
        #expect(gaps == [false, false, false])
        let settled = c.add(requests: 300, latencyMicros: 300 * 20_000, atSeconds: 4)
        #expect(settled)
    }
}

@Suite(.serialized) struct SweepAxesTests {
    @Test func concurrencySweepOverNamedTargetsStopsWhenStable() throws {
        let fast = TestTarget(config: .init(serviceTime: .milliseconds(2)))
        let slow = TestTarget(config: .init(serviceTime: .milliseconds(100)))
        try fast.start(); try slow.start()
        defer { fast.stop(); slow.stop() }
        let doc = try ScenarioReader().parseDocument("""
        target: http://127.0.0.1:1
        users: 1
        run_time: 5s
        tasks: [{name: p, method: POST, path: /predict, json: {input: "q {{seq}}"}}]
        sweep:
          targets: [{name: fast, url: "\(fast.baseURL)"}, {name: slow, url: "\(slow.baseURL)"}]
          concurrency: [2, 4]
          warmup: 200ms
          measure: 8s
          stable: {windows: 2, window: 1s, tolerance: 50%}
          slo: {p99: 50ms}
        """, file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        #expect(spec.axis == .concurrency && spec.levels == [2, 4] && !spec.usesEngine)
        let points = try SweepRunner(scenario: doc.scenario, spec: spec, workers: 1).run { _ in EngineConfig() }
        let a = SweepAnalysis(points: points, p99SLOMillis: 50, maxErrorRate: 0.01)
        let fastPoints = points.filter { $0.preset == "fast" }
        #expect(fastPoints.count == 2)
        #expect(fastPoints.allSatisfy { $0.verdict(p99Millis: 50, maxErrorRate: 0.01) == .holds })
        // A steady server settles long before the 8 s limit; the figures cover the stable windows.
        #expect(fastPoints[0].stable == true)
        #expect((fastPoints[0].measuredSeconds ?? 99) < 4)
        // 100 ms per request can never meet a 50 ms p99, whatever the concurrency. (The
        // objective leaves the 2 ms server room for a busy machine: 25x its service time.)
        #expect(points.filter { $0.preset == "slow" }.allSatisfy { $0.verdict(p99Millis: 50, maxErrorRate: 0.01) == .slow })
        #expect(a.recommendation == "fast")
        let top = try #require(a.sustainable.first { $0.preset == "fast" })
        #expect(top.rate == 4)
        #expect((top.throughput ?? 0) > 100, "throughput is the achieved rate at 4 users")
        #expect(a.reason.contains("at 4 users"))
        #expect(a.text().contains("SUSTAINABLE THROUGHPUT"))
        #expect(!a.text().contains("modelled"), "targets have no modelled figures")
    }

    @Test func batchingGridOverQueueDelaysNeverRecommendsADelayPastTheObjective() throws {
        let doc = try ScenarioReader().parseDocument("""
        target: embedded
        engine: {cache: {enabled: false}}
        arrival: {rate: 10, max_in_flight: 4000}
        run_time: 5s
        tasks: [{name: p, kind: predict, prompt: "q {{uuid}}"}]
        sweep:
          grid: {base: seed, max_queue_delay_us: [2000, 200000]}
          rates: [100]
          warmup: 300ms
          measure: 2s
          stable: false
          slo: {p99: 100ms}
        """, file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        #expect(spec.names == ["seed/d2ms", "seed/d200ms"])
        #expect(spec.stability == nil)
        let engine = try #require(doc.engine)
        #expect(engine.precision == .fp16)
        let points = try SweepRunner(scenario: doc.scenario, spec: spec, workers: 1).run { batching in
            var config = engine
            config.batching = batching
            config.cacheEntries = 0
            config.tokenizer = .approximate   // the rates were chosen for 10-token prompts (a uuid is ~30 in cicada-tiny)
            return config
        }
        let a = SweepAnalysis(points: points, p99SLOMillis: 100, maxErrorRate: 0.01)
        #expect(a.recommendation == "seed/d2ms")
        #expect(points.first { $0.preset == "seed/d200ms" }?.verdict(p99Millis: 100, maxErrorRate: 0.01) == .slow)
        #expect(points.allSatisfy { $0.stable == nil })
    }
}

/// The sweep's HTML page: latency against throughput per configuration, the Pareto front, the
/// SLO and the recommendation; a real browser draws it when Chromium is installed.
@Suite struct SweepHTMLTests {
    @Test func thePageShowsTheCurveFrontAndRecommendation() throws {
        func p(_ preset: String, _ rate: Double, _ qps: Double, _ p99: Double) -> SweepPoint {
            SweepPoint(preset: preset, rate: rate, achievedQPS: qps, p50Millis: p99 / 2, p99Millis: p99, errorRate: 0, outOfMemory: 0, averageBatchSize: 4, memoryFraction: 0.3)
        }
        let a = SweepAnalysis(points: [p("a", 100, 100, 50), p("a", 200, 150, 300), p("b", 100, 100, 30), p("b", 200, 199, 90)], p99SLOMillis: 100, maxErrorRate: 0.01)
        let spec = SweepSpec(configurations: [.init(name: "a", kind: .engine(.seed)), .init(name: "b", kind: .engine(.seed))], levels: [100, 200])
        let json = SweepReport.json(a, spec: spec, engine: EngineConfig())
        let html = try HTMLReport.render(json: json)
        #expect(html.contains("<div class=\"verdict pass\">b</div>"))
        #expect(html.contains("p99 latency by achieved throughput"))
        #expect(html.contains("<title>Pareto front</title>") && html.contains("<title>p99 SLO</title>"))
        #expect(html.contains("(modelled)"))
        #expect(html.contains("<th>series</th>"), "points of different throughputs: a row per point under the chart")
        guard FileManager.default.isExecutableFile(atPath: chromiumPath) else { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("sweep.html")
        try html.write(to: file, atomically: true, encoding: .utf8)
        let dom = try HTMLReportE2ETests().chromium(["--dump-dom", file.absoluteString])
        #expect(dom.out.contains("data-rendered=\"charts=1 sized=1\""))
    }
}
