import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaRunner
import CicadaScenario
import CicadaTestTarget
import Foundation
import Testing

/// Within 2 ms or 5% of the truth, as the issue asks.
func close(_ measuredMicros: Double?, toMillis truth: Double) -> Bool {
    guard let m = measuredMicros else { return false }
    let ms = m / 1000
    return abs(ms - truth) <= max(2, 0.05 * truth)
}

@Suite(.serialized) struct StreamingTests {
    let scenario = """
    target: http://127.0.0.1:1
    users: 2
    spawn_rate: 100
    run_time: 2s
    prompts: prompts/sample-prompts.txt
    goodput: {ttft: 80ms, tpot: 20ms}
    tasks:
      - {name: gen, kind: openai-completions, model: m, max_tokens: 20}
    thresholds: ["ttft.p(99)<100ms", "tpot.p(95)<15ms", "goodput>=1"]
    """

    func run(_ yaml: String, _ config: TestTarget.Config) throws -> RunResult {
        try runRecording(yaml, config).result
    }

    /// The run's result and how late the server itself was with each stream's tokens.
    func runRecording(_ yaml: String, _ config: TestTarget.Config) throws -> (result: RunResult, lateness: [TestTarget.StreamLateness]) {
        let target = TestTarget(config: config)
        try target.start()
        defer { target.stop() }
        var s = try ScenarioReader().parse(yaml, file: "inline.yaml", baseDirectory: scenariosDirectory())
        s.target = target.baseURL
        let run = try LoadRun(plan: RunPlan(scenario: s, environment: [:]), options: RunOptions(workers: 1))
        return (try run.run(), target.streamLateness)
    }

    /// The median of `values` (the lower middle one).
    func median(_ values: [Double]) -> Double { values.sorted()[(values.count - 1) / 2] }

    /// The client's figures against what the server actually did: its schedule (TTFT 50 ms, a
    /// token every 10 ms) plus its own lateness, which it records per stream. On a quiet
    /// machine the lateness is a fraction of a millisecond and this is the schedule itself; on
    /// a busy one the server falls behind and the client must see exactly that, no more.
    @Test func ttftAndTpotMatchTheServersPace() throws {
        let (r, late) = try runRecording(scenario, .init(ttft: .milliseconds(50), interToken: .milliseconds(10)))
        let l = try #require(r.snapshot.total.llm)
        #expect(l.streams > 10)
        #expect(r.snapshot.total.failures == 0)
        try #require(late.count >= l.streams - 2, "the server recorded \(late.count) streams, the client \(l.streams)")
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        let ttft = median(late.map { 50 + ms($0.first) })
        let tpot = late.map { 10 + (ms($0.last) - ms($0.first)) / Double($0.tokens - 1) }.reduce(0, +) / Double(late.count)
        let e2el = median(late.map { 50 + 19 * 10 + ms($0.last) })
        #expect(close(l.ttft.percentile(50).map { Double($0) }, toMillis: ttft), "ttft p50 \(String(describing: l.ttft.percentile(50))) µs, the server's \(ttft) ms")
        #expect(close(l.tpot.meanMicros, toMillis: tpot), "tpot mean \(String(describing: l.tpot.meanMicros)) µs, the server's \(tpot) ms")
        #expect(close(l.itl.percentile(50).map { Double($0) }, toMillis: 10))
        #expect(close(l.e2el.percentile(50).map { Double($0) }, toMillis: e2el), "e2el p50, the server's \(e2el) ms")
        #expect(l.outputTokens == 20 * l.streams)
        #expect(l.usageReported == l.streams)
        #expect(l.inputTokens == 7 * l.streams)
        #expect(l.goodRequests == l.streams)
        #expect(r.passed, "\(r.thresholds.map { "\($0.threshold.spec.expression)=\($0.measuredText)" })")
        let json = JSONReport(startNanos: r.startNanos).render(r)
        #expect(json.contains("\"p99_ttft_ms\""))
        #expect(json.contains("\"request_goodput\""))
    }

    @Test func countsChunksWhenUsageIsMissing() throws {
        let r = try run(scenario, .init(ttft: .milliseconds(5), interToken: .milliseconds(2), reportUsage: false))
        let l = try #require(r.snapshot.total.llm)
        #expect(l.usageReported == 0)
        #expect(l.outputTokens == 20 * l.streams)
    }

    @Test func errorsInsideA200StreamAreFailures() throws {
        let r = try run(scenario, .init(ttft: .milliseconds(5), interToken: .milliseconds(2), streamErrorAfter: 3))
        #expect(r.snapshot.total.failuresByKind[.streamError] == r.snapshot.total.requests)
        #expect(r.snapshot.errors.entries.keys.contains { $0.message == "error in stream: model crashed" })
    }

    @Test func nonStreamingResponsesHaveNoTokenFigures() throws {
        let yaml = scenario.replacingOccurrences(of: "max_tokens: 20}", with: "max_tokens: 20, stream: false}")
            .replacingOccurrences(of: "thresholds: [\"ttft.p(99)<100ms\", \"tpot.p(95)<15ms\", \"goodput>=1\"]", with: "thresholds: [\"ttft.p(99)<100ms\"]")
        let r = try run(yaml, .init(ttft: .milliseconds(5), interToken: .milliseconds(1)))
        #expect(r.snapshot.total.requests > 0)
        #expect(r.snapshot.total.llm == nil)
        #expect(r.thresholds.first?.measuredText == "no data")
        #expect(LLMReport.text(r, goodputConfigured: true) == nil)
        #expect(JSONReport().render(r).contains("\"llm\": null"))
    }

    @Test func theEnginesChatStreamIsMeasured() throws {
        let server = try EngineServer(config: EngineConfig(batching: .seed, cacheEntries: 0))
        try server.start()
        defer { server.stop() }
        var s = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 4
        spawn_rate: 100
        run_time: 2s
        tasks: [{name: chat, kind: openai-chat, prompt: "hello {{uuid}}", max_tokens: 8}]
        """, file: "inline.yaml")
        s.target = server.baseURL
        let r = try LoadRun(plan: RunPlan(scenario: s, environment: [:]), options: RunOptions(workers: 1)).run()
        let l = try #require(r.snapshot.total.llm)
        #expect(r.snapshot.total.failures == 0)
        #expect(l.outputTokens == 8 * l.streams)
        #expect(l.usageReported == l.streams)
        // The chat stream's first chunk is role-only: TTFT (vLLM) comes before first content.
        #expect(l.ttft.percentile(50)! <= l.firstContent.percentile(50)!)
        #expect(l.tpot.count > 0)
    }
}

func scenariosDirectory() -> String {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("scenarios").path
}
