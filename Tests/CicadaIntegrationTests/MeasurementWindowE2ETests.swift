import CicadaCore
import CicadaReport
import CicadaRunner
import CicadaScenario
import CicadaSession
import CicadaTelemetry
import CicadaTestTarget
import Foundation
import Testing
@testable import cicada

/// Warm-up windows, `--requests-out` and reasoning streams, end to end against the local test
/// target on 127.0.0.1.
@Suite(.serialized) struct MeasurementWindowE2ETests {
    static let yaml = "target: http://127.0.0.1:1\nusers: 2\nspawn_rate: 100\nrun_time: 3s\nwait_time: constant(0.01)\ntasks: [{name: p, path: /health}]\ntelemetry: {gpu: none}\n"

    func lines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// On both transports (issue 17): the fast path keeps the same windows and records.
    @Test(arguments: [TransportChoice.curl, .fast])
    func theJSONLHasOneLinePerRequestAndItsCountsEqualTheSummarys(transport: TransportChoice) throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var request = SessionRequest(file: "s.yaml", workers: 2, localTargetServiceTime: .milliseconds(1),
                                     reports: ReportRequest(json: dir.path + "/r.json"), progress: false)
        request.warmup = .duration(.milliseconds(1200))
        request.cooldown = .milliseconds(500)
        request.requestsOut = dir.path + "/req.jsonl"
        let yaml = Self.yaml + "transport: \(transport.rawValue)\n"
        let s = try RunSession(document: try ScenarioReader().parseDocument(yaml, file: "s.yaml"), request: request)
        let out = CapturedOutput()
        let result = try s.run(view: nil, output: out.output, stopSignal: { false })
        #expect(result.results[0].transport == transport.rawValue)
        let snap = result.results[0].snapshot
        let rows = try lines(dir.path + "/req.jsonl")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/req.jsonl.partial"))
        #expect(snap.total.requests > 10 && snap.excludedWarmup > 0 && snap.excludedCooldown > 0)
        #expect(UInt64(rows.count) == snap.total.requests + snap.excludedWarmup + snap.excludedCooldown)
        #expect(UInt64(rows.filter { $0["window"] as? String == "measured" }.count) == snap.total.requests)
        #expect(UInt64(rows.filter { $0["window"] as? String == "warmup" }.count) == snap.excludedWarmup)
        #expect(UInt64(rows.filter { $0["window"] as? String == "cooldown" }.count) == snap.excludedCooldown)
        #expect(rows.allSatisfy { ($0["status"] as? Int) == 200 && $0["task"] as? String == "p" })
        // Every warm-up line started (intended) before 500 ms, every measured one at or after it.
        for r in rows {
            let offset = try #require(r["intended_offset_us"] as? Int)
            let w = r["window"] as? String
            if w == "warmup" { #expect(offset < 1_200_000) } else { #expect(offset >= 1_200_000) }
            let sent = try #require(r["sent_unix_us"] as? Int), end = try #require(r["end_unix_us"] as? Int)
            #expect(end >= sent)
        }
        #expect(result.results[0].requestLog?.written == UInt64(rows.count))
        #expect(result.results[0].requestLog?.dropped == 0)
        let summary = out.summary.withLock { $0 }
        #expect(summary.contains("Measured window: 1.2 s .. 2.5 s"), "\(summary)")
        #expect(summary.contains("Requests out: \(rows.count) lines"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/r.json"))) as? [String: Any])
        let window = try #require(json["measurement_window"] as? [String: Any])
        #expect(window["start_s"] as? Double == 1.2 && window["end_s"] as? Double == 2.5)
        #expect((window["excluded_warmup"] as? Int).map(UInt64.init) == snap.excludedWarmup)
        #expect(((json["totals"] as? [String: Any])?["requests"] as? Int).map(UInt64.init) == snap.total.requests)
        let timeline = try #require(json["timeline"] as? [[String: Any]])
        #expect(timeline.first?["window"] as? String == "warmup")
    }

    @Test func aReasoningStreamSplitsTTFTAsDocumented() throws {
        var config = TestTarget.Config(ttft: .milliseconds(20), interToken: .milliseconds(5))
        config.reasoningTokens = 6
        let target = TestTarget(config: config)
        try target.start()
        defer { target.stop() }
        var s = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 1
        run_time: 1s
        tasks:
          - {name: think, kind: openai-completions, model: m, prompt: "2+2?", max_tokens: 10}
        """, file: "r.yaml")
        s.target = target.baseURL
        let r = try LoadRun(plan: RunPlan(scenario: s, environment: [:]), options: RunOptions(workers: 1)).run()
        let l = try #require(r.snapshot.total.llm)
        #expect(l.streams > 3 && r.snapshot.total.failures == 0)
        #expect(l.reasoningStreams == l.streams)
        #expect(l.reasoningTokens == 6 * l.streams)          // usage's reasoning_tokens
        #expect(l.answerTokens == 4 * l.streams)
        #expect(l.reasoningUsageReported == l.streams)
        // TTFT is the first token of either kind: the first reasoning chunk, sent at 20 ms; the
        // first answer chunk cannot come before 20 + 6 x 5 = 50 ms.
        let firstReasoning = try #require(l.firstReasoning.min), firstAnswer = try #require(l.firstContent.min)
        #expect(firstReasoning >= 20_000)
        #expect(firstAnswer >= 50_000)
        #expect(l.ttft.count == l.firstReasoning.count && l.ttft.max == l.firstReasoning.max && l.ttft.min == l.firstReasoning.min)
        #expect(l.firstReasoning.max! < l.firstContent.max!)
        let text = try #require(LLMReport.text(r, goodputConfigured: false))
        #expect(text.contains("Reasoning tokens:") && text.split(separator: "\n").contains { $0.hasPrefix("Reasoning tokens counted by:") && $0.hasSuffix(" usage") })
        let json = JSONReport(startNanos: r.startNanos).render(r)
        #expect(json.contains("\"total_reasoning_tokens\": \(l.reasoningTokens)"))
        #expect(json.contains("\"reasoning_tokens_method\": \"usage\""))
    }

    /// No usage from the server and a `tokenizer:`: the stream's text is counted with it.
    @Test(arguments: [TransportChoice.curl, .fast])
    func withoutUsageATokenizerCountsTheStreamsText(transport: TransportChoice) throws {
        let target = TestTarget(config: .init(ttft: .milliseconds(5), interToken: .milliseconds(2), reportUsage: false))
        try target.start()
        defer { target.stop() }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
        var s = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 1
        run_time: 1s
        tokenizer: tiny-tokenizer.json
        tasks:
          - {name: gen, kind: openai-completions, model: m, prompt: "hi", max_tokens: 4}
        """, file: "t.yaml", baseDirectory: fixtures)
        s.target = target.baseURL
        s.transport = transport
        let tokenizer = try #require(s.tokenizer)
        let r = try LoadRun(plan: RunPlan(scenario: s, environment: [:]), options: RunOptions(workers: 1)).run()
        #expect(r.transport == transport.rawValue)
        let l = try #require(r.snapshot.total.llm)
        #expect(l.streams > 3 && r.snapshot.total.failures == 0)
        // The target streams " tok0 tok1 tok2 tok3": pieces " tok" (4 bytes, no merge in the
        // tiny tokenizer) and a digit, 5 tokens a chunk, 20 in all, where chunks would say 4.
        let expected = tokenizer.count(" tok0 tok1 tok2 tok3")
        #expect(expected == 20)
        #expect(l.outputTokens == UInt64(expected) * l.streams)
        #expect(l.tokenizerCounted == l.streams && l.usageReported == 0)
        let json = JSONReport(startNanos: r.startNanos).render(r)
        #expect(json.contains("\"output_tokens_method\": \"tokenizer\""))
    }

    /// A full queue drops and counts; what fits is written, one line each, and the file
    /// appears under its name only when finished.
    @Test func theWriterDropsAndCountsWhatDoesNotFit() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 1
        tasks: [{name: gen, kind: openai-chat, model: "m-7b", prompt: "hi"}]
        """, file: "w.yaml")
        let plan = try RunPlan(scenario: scenario, environment: [:])
        let path = dir.path + "/w.jsonl"
        let writer = try RequestLogWriter(path: path, plan: plan, capacity: 3, runStartNanos: { 1_000 })
        let records = (0..<5).map { i in
            RequestRecord(RequestOutcome(statIndex: 0, intendedNanos: 2_000 + UInt64(i), sentNanos: 3_000, endNanos: 9_000, ttfbMicros: 4,
                                         status: 200, failure: nil, error: nil, bytesIn: 1, bytesOut: 1),
                          worker: 0, sequence: UInt64(i), phase: .measured)
        }
        writer.accept(records, droppedUpstream: 4)
        #expect(!FileManager.default.fileExists(atPath: path))
        let summary = writer.finish()
        #expect(summary.written == 3)
        #expect(summary.dropped == 2 + 4)
        #expect(summary.error == nil)
        let rows = try lines(path)
        #expect(rows.count == 3)
        #expect(rows.map { $0["seq"] as? Int } == [0, 1, 2])
        #expect(rows.allSatisfy { $0["model"] as? String == "m-7b" && $0["task"] as? String == "gen" })
        #expect(rows.first?["sent_offset_us"] as? Int == 2 && rows.first?["end_offset_us"] as? Int == 8)
        #expect(rows.first?["first_byte_offset_us"] as? Int == 6)
        #expect(rows.first?["first_token_unix_us"] is NSNull)
    }

    /// A record of a conversation turn or a weighted model's pick names its turn and the model
    /// picked, not the task's literal body model.
    @Test func linesNameTheTurnAndThePickedModel() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        users: 1
        tasks:
          - {name: chat, kind: openai-chat, conversations: [["q1", "q2"]]}
          - {name: gen, kind: openai-completions, model: [{name: big, weight: 3}, {name: small, weight: 1}], prompt: hi}
        """, file: "t.yaml")
        let plan = try RunPlan(scenario: scenario, environment: [:])
        let path = dir.path + "/t.jsonl"
        let writer = try RequestLogWriter(path: path, plan: plan, runStartNanos: { 0 })
        func record(_ stat: Int, turn: BreakdownKey?, model: BreakdownKey?) -> RequestRecord {
            var o = RequestOutcome(statIndex: stat, intendedNanos: 1, sentNanos: 2, endNanos: 3, ttfbMicros: nil, status: 200,
                                   failure: nil, error: nil, bytesIn: 0, bytesOut: 0)
            o.turnGroup = turn.flatMap { plan.breakdown.keys.firstIndex(of: $0) } ?? -1
            o.modelGroup = model.flatMap { plan.breakdown.keys.firstIndex(of: $0) } ?? -1
            return RequestRecord(o, worker: 0, sequence: 0, phase: .measured)
        }
        writer.accept([record(0, turn: .turn(2), model: nil), record(1, turn: nil, model: .model("small"))], droppedUpstream: 0)
        _ = writer.finish()
        let rows = try lines(path)
        #expect(rows.count == 2)
        #expect(rows[0]["turn"] as? Int == 2 && rows[0]["task"] as? String == "chat", "\(rows[0])")
        #expect(rows[1]["model"] as? String == "small" && rows[1]["turn"] is NSNull)
    }

    @Test func flagsReachTheRequest() throws {
        let r = try Run.parse(["s.yaml", "--warmup", "500r", "--cooldown", "20s", "--telemetry", "http://127.0.0.1:9400/metrics",
                               "--telemetry", "http://127.0.0.1:9401/metrics", "--requests-out", "r.jsonl", "--requests-sample", "0.25"]).request()
        #expect(r.warmup == .requests(500))
        #expect(r.cooldown == .seconds(20))
        #expect(r.telemetryURLs == ["http://127.0.0.1:9400/metrics", "http://127.0.0.1:9401/metrics"])
        #expect(r.requestsOut == "r.jsonl" && r.requestsSample == 0.25)
        #expect(throws: (any Error).self) { try Run.parse(["s.yaml", "--warmup", "soon"]).request() }
    }

    @Test func telemetryFlagsAddPrometheusSources() throws {
        var request = SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero)
        request.telemetryURLs = ["http://127.0.0.1:9/metrics"]
        let s = try RunSession(document: try ScenarioReader().parseDocument(Self.yaml, file: "s.yaml"), request: request)
        defer { s.close() }
        #expect(s.scenario.telemetry.prometheus == ["http://127.0.0.1:9/metrics"])
        #expect(s.lanes[0].telemetry.contains(.prometheus(url: "http://127.0.0.1:9/metrics")))
    }

    @Test(arguments: [
        ("warmup 3s", "nothing would be measured"),
        ("cooldown 3s", "leave nothing"),
        ("telemetry", "--telemetry"),
        ("sample", "--requests-sample needs --requests-out"),
        ("out", "--requests-out"),
    ])
    func badMeasurementFlagsAreUsageErrors(_ change: String, _ message: String) throws {
        var request = SessionRequest(file: "s.yaml", workers: 1, localTargetServiceTime: .zero)
        switch change {
        case "warmup 3s": request.warmup = .duration(.seconds(3))
        case "cooldown 3s": request.cooldown = .seconds(3)
        case "telemetry": request.telemetryURLs = ["127.0.0.1:9/metrics"]
        case "sample": request.requestsSample = 0.5
        default: request.requestsOut = "/nonexistent-dir/r.jsonl"
        }
        do {
            let s = try RunSession(document: try ScenarioReader().parseDocument(Self.yaml, file: "s.yaml"), request: request)
            s.close()
            Issue.record("no error for \(message)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
