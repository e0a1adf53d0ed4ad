import CicadaCore
import CicadaEngine
import CicadaRunner
import CicadaScenario
import CicadaSweep
import Foundation
import Synchronization
import Testing

/// The consistency probe in `cicada sweep`: run at every point's measurement, each point judged
/// against its own first answer, the per-point counts in the table, the point line, the JSON and
/// the CSV.
@Suite(.serialized) struct ConsistencySweepTests {
    func runner(_ yaml: String) throws -> (SweepRunner, EngineConfig) {
        let doc = try ScenarioReader().parseDocument(yaml, file: "sweep.yaml")
        var engine = doc.engine ?? EngineConfig()
        engine.cacheEntries = 0
        return (SweepRunner(scenario: doc.scenario, spec: try #require(doc.sweep), workers: 1), engine)
    }

    static func yaml(precision: String, presets: String = "[seed]", warmup: String = "0s") -> String {
        """
        target: embedded
        engine: {gpu: A100-80GB, model: deepseek-coder-1.3b, precision: \(precision), cache: {enabled: false}}
        arrival: {rate: 20, max_in_flight: 64}
        run_time: 5s
        telemetry: {gpu: none}
        consistency: {interval: 100ms, prompt: "Name the first three primes.", max_tokens: 24}
        tasks: [{name: chat, kind: openai-chat, model: deepseek-coder-1.3b, prompt: "hello {{random_int 1 1000}}", max_tokens: 8, stream: false}]
        sweep: {presets: \(presets), rates: [20], warmup: \(warmup), measure: 1500ms, stable: false}
        """
    }

    @Test func eachPointIsProbedInItsMeasurementAgainstItsOwnFirstAnswer() throws {
        let (made, engine) = try runner(Self.yaml(precision: "fp16", presets: "[seed, throughput]", warmup: "500ms"))
        var runner = made
        // Which stage is running, as the runner announces it; the fake server answers by point.
        let stage = Mutex<SweepRunner.Stage?>(nil)
        let sends = Mutex<[(point: Int, phase: SweepRunner.Stage.Phase?)]>([])
        runner.onStage = { s, _, _ in stage.withLock { $0 = s } }
        runner.probeSender = { _, _, _ in
            let s = stage.withLock { $0 }
            let n = sends.withLock { $0.append((s?.index ?? 0, s?.phase)); return $0.filter { $0.point == s?.index }.count }
            // Point 1 always answers the same; point 2 answers its own text, once differently.
            let text = s?.index == 2 && n == 3 ? "point 2, other" : "point \(s?.index ?? 0)"
            return .response(status: 200, body: Array(#"{"choices":[{"message":{"content":"\#(text)"}}]}"#.utf8))
        }
        let points = try runner.run { b in var c = engine; c.batching = b; return c }
        #expect(points.count == 2)
        // Never in a warm-up.
        #expect(sends.withLock { $0.allSatisfy { $0.phase == .measure } })
        let first = try #require(points[0].consistency), second = try #require(points[1].consistency)
        // A reference per point: point 2's answers are not compared with point 1's.
        #expect(first.compared >= 5 && first.differing == 0, "\(first)")
        #expect(second.compared >= 5 && second.differing == 1, "\(second)")
        #expect(second.samples.first?.position == 7)
        let spec = runner.spec
        #expect(SweepReport.pointLine(points[1], spec: spec).hasSuffix(", inconsistent 1/\(second.compared) (first at character 7)"))
        let analysis = SweepAnalysis(points: points, p99SLOMillis: 100, maxErrorRate: 0.01)
        let text = analysis.text()
        #expect(text.contains("stable  inconsistent   verdict"), "\(text)")
        #expect(text.contains("0/\(first.compared)") && text.contains("1/\(second.compared)"), "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(SweepReport.json(analysis, spec: spec, engine: engine).utf8)) as? [String: Any])
        let jp = try #require(json["points"] as? [[String: Any]])
        let c2 = try #require(jp[1]["consistency"] as? [String: Any])
        #expect(c2["differing"] as? Int == 1 && c2["compared"] as? Int == second.compared && c2["first_position"] as? Int == 7)
        let csv = SweepReport.csv(points, spec: spec).split(separator: "\n")
        #expect(csv[0].hasSuffix(",output_tok_s,probes_compared,probes_differing"))
        #expect(csv[2].hasSuffix(",\(second.compared),1"))
    }

    @Test func int8BreaksBatchInvarianceAndFp16DoesNot() throws {
        var found: [String: ConsistencySummary] = [:]
        for precision in ["int8", "fp16"] {
            let (runner, engine) = try runner(Self.yaml(precision: precision))
            let points = try runner.run { b in var c = engine; c.batching = b; return c }
            found[precision] = try #require(points.first?.consistency)
        }
        let int8 = try #require(found["int8"]), fp16 = try #require(found["fp16"])
        #expect(int8.compared >= 3 && int8.differing >= 1 && int8.failed == 0, "\(int8)")
        // Half the answer is the input's: they part at word 12 of 24 or later.
        #expect((int8.samples.first?.word ?? 0) >= 12, "\(int8.samples)")
        #expect(fp16.compared >= 3 && fp16.differing == 0 && fp16.failed == 0, "\(fp16)")
    }

    @Test func aSweepWithoutAProbeKeepsItsColumns() {
        var p = SweepPoint(preset: "seed", rate: 20, achievedQPS: 20, p50Millis: 5, p99Millis: 9, errorRate: 0, outOfMemory: 0, averageBatchSize: nil, memoryFraction: nil)
        let spec = SweepSpec(configurations: [], levels: [20])
        #expect(SweepReport.csv([p], spec: spec).split(separator: "\n")[0].hasSuffix(",skipped,output_tok_s"))
        #expect(!SweepAnalysis(points: [p], p99SLOMillis: 100, maxErrorRate: 0.01).text().contains("inconsistent"))
        #expect(SweepReport.json(SweepAnalysis(points: [p], p99SLOMillis: 100, maxErrorRate: 0.01), spec: spec, engine: nil).contains("\"consistency\":null"))
        // A probe with nothing to compare shows no figure, never 0.
        var tally = ConsistencyTally(spec: ConsistencySpec(cadence: .everyRequests(100), prompt: "p"))
        tally.record(answer: "only", atSeconds: 1)
        p.consistency = tally.summary
        #expect(SweepReport.pointLine(p, spec: spec).hasSuffix(", inconsistent - (1 probe answers, none to compare)"))
        #expect(SweepReport.csv([p], spec: spec).split(separator: "\n")[1].hasSuffix(",0,"))
        #expect(SweepReport.json(SweepAnalysis(points: [p], p99SLOMillis: 100, maxErrorRate: 0.01), spec: spec, engine: nil)
            .contains("\"consistency\":{\"answered\":1,\"compared\":0,\"differing\":null,\"failed\":0,\"first_position\":null,\"first_word\":null}"))
    }
}
