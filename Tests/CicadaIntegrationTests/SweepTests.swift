import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaScenario
import CicadaSweep
import Foundation
import Testing

@Suite(.serialized) struct SweepTests {
    func sweep(_ yaml: String) throws -> SweepAnalysis {
        let doc = try ScenarioReader().parseDocument(yaml, file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        let engine = doc.engine ?? EngineSpec()
        let runner = SweepRunner(document: doc, spec: spec, workers: 1)
        let points = try runner.run { batching in
            EngineConfig(gpu: engine.gpu, model: engine.model, precision: Precision(rawValue: engine.precision)!, batching: batching,
                         presets: engine.presets, cacheEntries: 0, predictOutputTokens: engine.predictOutputTokens)
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
