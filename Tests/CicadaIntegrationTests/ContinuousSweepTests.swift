import CicadaCore
import CicadaEngine
import CicadaScenario
import CicadaSweep
import Testing

/// `cicada sweep` over a continuous engine walks its max_num_seqs x max_num_batched_tokens grid
/// on fresh continuous engines (issue 16).
@Suite(.serialized) struct ContinuousSweepTests {
    @Test func eachGridPointStartsAContinuousEngineWithItsSettings() {
        var base = EngineConfig()
        base.scheduler = .continuous
        base.continuous.blockSize = 32
        var settings = base.continuous
        settings.maxNumSeqs = 8
        settings.maxNumBatchedTokens = 1024
        let c = SweepRunner.engineConfig(for: .init(name: "cont/s8/t1024", kind: .continuous(settings))) { b in var e = base; e.batching = b; return e }
        #expect(c?.scheduler == .continuous)
        #expect(c?.continuous == settings)
        let dynamic = SweepRunner.engineConfig(for: .init(name: "seed", kind: .engine(.seed))) { b in var e = EngineConfig(); e.batching = b; return e }
        #expect(dynamic?.scheduler == .dynamic && dynamic?.batching == .seed)
        #expect(SweepRunner.engineConfig(for: .init(name: "t", kind: .target("http://127.0.0.1:1"))) { _ in EngineConfig() } == nil)
    }

    @Test func aShortSweepMeasuresEveryGridPoint() throws {
        let doc = try ScenarioReader().parseDocument("""
        target: embedded
        engine: {scheduler: continuous, cache: {enabled: false}}
        arrival: {rate: 5, max_in_flight: 500}
        run_time: 5s
        tasks: [{name: p, kind: predict, prompt: "q {{uuid}}"}]
        sweep: {grid: {max_num_seqs: [4, 64]}, rates: [20], warmup: 0s, measure: 1s, stable: false, slo: {p99: 10s}}
        """, file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        let engine = try #require(doc.engine)
        let points = try SweepRunner(scenario: doc.scenario, spec: spec, workers: 1).run { b in var e = engine; e.batching = b; return e }
        #expect(points.map(\.preset) == ["cont/s4/t8192", "cont/s64/t8192"])
        #expect(points.allSatisfy { $0.errorRate == 0 && $0.achievedQPS > 5 }, "\(points)")
    }
}
