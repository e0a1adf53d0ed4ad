import CicadaCore
import CicadaEngine
import CicadaScenario
import CicadaSweep
import Foundation
import Testing

/// The live sweep's skip and stop, through the runner's ``SweepControl`` (no terminal), and the
/// whole view in a real terminal (tmux): the curve grows, `n` skips, `q` stops, the reports
/// hold the points measured so far, the exit status is the sweep's own, the terminal is sane.
@Suite(.serialized) struct LiveSweepTests {
    static let yaml = """
    name: tiny-sweep
    target: embedded
    engine: {cache: {enabled: false}}
    arrival: {rate: 10, max_in_flight: 400}
    run_time: 5s
    tasks: [{name: p, kind: predict, prompt: "q {{uuid}}"}]
    """

    @Test func skipKeepsThePartialPointAndStopEndsTheSweepWithWhatWasMeasured() throws {
        // 3 s at 20/s: 60 requests, so the two or three still in flight when the point ends on a
        // busy machine keep it above the 95% of the offered rate a holding point needs.
        let doc = try ScenarioReader().parseDocument(Self.yaml + "\nsweep: {presets: [seed, no-batching], rates: [10, 20, 40, 80], warmup: 200ms, measure: 3s, slo: {p99: 2s}}\n",
                                                     file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        var runner = SweepRunner(scenario: doc.scenario, spec: spec, workers: 1)
        let control = SweepControl()
        runner.control = control
        // onStage runs on the runner's thread, the one that called run().
        final class Stages { var all: [SweepRunner.Stage] = [] }
        let stages = Stages()
        // The keys, pressed as each stage starts: n in point 1's warm-up, nothing in point 2,
        // n in point 3's measurement, q in point 4's.
        runner.onStage = { stage, _, _ in
            stages.all.append(stage)
            switch (stage.index, stage.phase) {
            case (1, .warmup), (3, .measure): control.requestSkip()
            case (4, .measure): control.requestStop()
            default: break
            }
        }
        let points = try runner.run { batching in var c = doc.engine ?? EngineConfig(); c.batching = batching; return c }
        #expect(stages.all.map(\.index) == [1, 2, 2, 3, 3, 4, 4], "point 1 ends in its warm-up; the sweep ends after point 4")
        #expect(stages.all.allSatisfy { $0.total == 8 && $0.configuration == "seed" })
        // Point 1 measured nothing, so it is not kept; 2 ran in full; 3 and 4 were cut short.
        #expect(points.map(\.rate) == [20, 40, 80])
        #expect(points.map(\.skipped) == [false, true, true])
        #expect(points.map { $0.verdict(p99Millis: 2000, maxErrorRate: 0.01) } == [.holds, .skipped, .skipped], "\(points)")
        #expect(points[1].measuredSeconds.map { $0 < 1 } == true, "cut short: \(points[1])")
        // The analysis counts only what held in full.
        let a = SweepAnalysis(points: points, p99SLOMillis: 2000, maxErrorRate: 0.01)
        #expect(a.sustainable.first { $0.preset == "seed" }?.rate == 20)
        #expect(a.recommendation == "seed")
        #expect(!a.paretoFront.contains { $0.skipped })
        let json = SweepReport.json(a, spec: spec, engine: nil)
        #expect(json.contains("\"skipped\":true") && json.contains("\"verdict\":\"skipped\""))
        let csv = SweepReport.csv(points, spec: spec).split(separator: "\n")
        #expect(csv[0].hasSuffix(",verdict,skipped,output_tok_s") && csv[1].contains(",holds,false,") && csv[2].contains(",skipped,true,"))
        #expect(SweepReport.pointLine(points[1], spec: spec).contains("skipped, partial: cut short after"))
    }

    /// The curve's other x: output tokens per second, measured for LLM streams, absent (never 0)
    /// for a workload that has no tokens.
    @Test func outputTokensPerSecondIsMeasuredForLLMStreamsOnly() throws {
        func points(_ task: String) throws -> [SweepPoint] {
            let doc = try ScenarioReader().parseDocument(Self.yaml.replacingOccurrences(of: #"tasks: [{name: p, kind: predict, prompt: "q {{uuid}}"}]"#, with: task)
                + "\nsweep: {presets: [seed], rates: [10], warmup: 0s, measure: 1s, slo: {p99: 1s}}\n", file: "sweep.yaml")
            let spec = try #require(doc.sweep)
            return try SweepRunner(scenario: doc.scenario, spec: spec, workers: 1).run { b in var c = doc.engine ?? EngineConfig(); c.batching = b; return c }
        }
        let chat = try points(#"tasks: [{name: c, kind: openai-chat, model: deepseek-llm-7b, prompt: "q {{uuid}}", max_tokens: 16}]"#)
        let tokens = try #require(chat.first?.outputTokensPerSecond)
        // About 16 tokens per answer at about the offered rate.
        #expect(tokens > 16 * 0.5 * chat[0].achievedQPS && tokens <= 16 * 1.01 * chat[0].achievedQPS, "\(chat)")
        let predict = try points(#"tasks: [{name: p, kind: predict, prompt: "q {{uuid}}"}]"#)
        #expect(predict.count == 1 && predict[0].outputTokensPerSecond == nil)
    }

    @Test(.enabled(if: tmuxAvailable)) func liveSweepInARealTerminal() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = dir.appendingPathComponent("sweep.yaml").path
        try (Self.yaml + "\nsweep: {presets: [seed, no-batching], rates: [10, 20, 40], warmup: 500ms, measure: 6s, slo: {p99: 2s}}\n")
            .write(toFile: scenario, atomically: true, encoding: .utf8)
        let json = dir.appendingPathComponent("sweep.json").path, csv = dir.appendingPathComponent("sweep.csv").path
        let pane = TerminalStormTests.Pane("sweep")
        pane.send("\(cicadaBinary) sweep \(scenario) --json \(json) --csv \(csv); echo EXITED=$?")

        // The first point completes and the curve shows it; the second one is measuring.
        let grown = pane.waitFor(timeout: 90) { $0.contains("1 measured") && $0.contains("point 2 of 6") && $0.contains("measuring") }
        #expect(grown.contains("cicada sweep"), "screen:\n\(grown)")
        #expect(grown.contains("front: A@10"), "screen:\n\(grown)")
        #expect(grown.contains("p99 vs achieved req/s") && grown.contains("A seed"))
        #expect(grown.contains("n skip point"))

        // n skips point 2: its partial measurement joins the curve.
        tmux(["-L", pane.socket, "send-keys", "-t", "S", "n"])
        let skipped = pane.waitFor(timeout: 30) { $0.contains("2 measured") && $0.contains("point 3 of 6") && $0.contains("measuring") }
        #expect(skipped.contains("2 measured"), "screen:\n\(skipped)")

        // q stops the sweep during point 3: the analysis is printed on a restored terminal.
        tmux(["-L", pane.socket, "send-keys", "-t", "S", "q"])
        let after = pane.waitFor(timeout: 60) { $0.range(of: "EXITED=[0-9]", options: .regularExpression) != nil }
        #expect(after.contains("EXITED=0"), "screen:\n\(after)")
        #expect(after.contains("RECOMMENDATION: seed"), "screen:\n\(after)")
        #expect(after.contains("skipped"))

        // The reports hold the points measured so far: 1 in full, 2 skipped, 3 cut by q.
        let data = try #require(FileManager.default.contents(atPath: json))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let points = try #require(obj["points"] as? [[String: Any]])
        #expect(points.map { $0["rate"] as? Double } == [10, 20, 40], "\(points)")
        #expect(points.map { $0["skipped"] as? Bool } == [false, true, true])
        #expect(points.map { $0["verdict"] as? String } == ["holds", "skipped", "skipped"])
        #expect(obj["recommendation"] as? String == "seed")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)

        pane.expectSaneTerminal(sttyFile: dir.appendingPathComponent("stty").path, "after q in the live sweep")

        // --headless in the same terminal: the point lines, as before, and no dashboard.
        let one = dir.appendingPathComponent("one.yaml").path
        try (Self.yaml + "\nsweep: {presets: [seed], rates: [10], warmup: 0s, measure: 1s, slo: {p99: 2s}}\n")
            .write(toFile: one, atomically: true, encoding: .utf8)
        pane.send("clear; \(cicadaBinary) sweep \(one) --headless; echo HEADLESS=$?")
        let headless = pane.waitFor(timeout: 60) { $0.range(of: "HEADLESS=[0-9]", options: .regularExpression) != nil }
        #expect(headless.contains("HEADLESS=0") && headless.contains("sweep: seed @ 10/s -> "), "screen:\n\(headless)")
        #expect(!headless.contains("p99 vs achieved req/s") && !headless.contains("n skip point"))
    }
}
