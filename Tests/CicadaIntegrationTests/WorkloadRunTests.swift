import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaRunner
import CicadaScenario
import CicadaSession
import CicadaSweep
import CicadaTestTarget
import CicadaTransport
import Foundation
import Testing

/// Production-like workloads against the test target (which records what it received) and the
/// embedded engine: conversations carry the server's real answers, traces replay their requests,
/// weighted models are picked and counted apart, hooks reach the server.
@Suite(.serialized) struct WorkloadRunTests {
    func run(_ yaml: String, target: TestTarget, dir: String = scenariosDirectory(), transport: TransportChoice = .auto) throws -> RunResult {
        var s = try ScenarioReader().parse("target: http://127.0.0.1:1\n" + yaml, file: dir + "/inline.yaml", baseDirectory: dir)
        s.target = target.baseURL
        s.transport = transport
        let r = try LoadRun(plan: RunPlan(scenario: s, environment: [:]), options: RunOptions(workers: 1)).run()
        if transport != .auto { #expect(r.transport == transport.rawValue) }
        return r
    }

    /// The JSON body of each recorded request to `path`.
    func bodies(_ target: TestTarget, path: String) -> [[String: JSONValue]] {
        target.recordedRequests.compactMap { r in
            guard r.hasPrefix("POST \(path) ") else { return nil }
            guard case .object(let o)? = JSONValue.parse(Array(r.dropFirst("POST \(path) ".count).utf8)) else { return nil }
            return o
        }
    }

    /// On both transports (issue 17).
    @Test(arguments: [true, false], [TransportChoice.curl, .fast])
    func turnNCarriesTurns1ToNMinus1RealAnswers(stream: Bool, transport: TransportChoice) throws {
        let target = TestTarget(config: .init(ttft: .milliseconds(2), interToken: .milliseconds(1), recordRequests: 10_000))
        try target.start()
        defer { target.stop() }
        let convs = [["a1", "a2", "a3"], ["b1", "b2"]]
        let r = try run("""
        users: 1
        spawn_rate: 10
        run_time: 1500ms
        wait_time: constant(0.01)
        tasks:
          - name: chat
            kind: openai-chat
            max_tokens: 3
            stream: \(stream)
            conversations: [["a1", "a2", "a3"], ["b1", "b2"]]
        """, target: target, transport: transport)
        let sent = bodies(target, path: "/v1/chat/completions")
        #expect(sent.count >= 6, "\(sent.count) requests")
        #expect(r.snapshot.total.failures == 0)
        // One user, one request at a time: request i (0-based) got the target's answer i + 1.
        var turnCounts: [Int: UInt64] = [:]
        for (i, body) in sent.enumerated() {
            guard case .array(let messages)? = body["messages"] else { Issue.record("no messages in request \(i)"); continue }
            #expect(messages.count % 2 == 1)
            let turn = messages.count / 2   // 0-based turn number
            turnCounts[turn + 1, default: 0] += 1
            func field(_ m: JSONValue, _ k: String) -> String? { if case .object(let o) = m, case .string(let s)? = o[k] { return s }; return nil }
            let users = stride(from: 0, to: messages.count, by: 2).map { field(messages[$0], "content") ?? "?" }
            #expect(convs.contains { $0.starts(with: users) }, "user turns \(users) are a conversation's, in order")
            for m in 0..<turn {
                let answer = field(messages[2 * m + 1], "content") ?? ""
                #expect(field(messages[2 * m + 1], "role") == "assistant")
                let n = i - turn + m + 1
                let expected = stream ? "[a\(n)] tok0 tok1 tok2" : "[a\(n)] ok"
                #expect(answer == expected, "request \(i), turn \(turn + 1): history answer \(m + 1) is \(answer)")
            }
        }
        // Per-turn figures: turn groups count what was sent per turn, TTFT only for streams.
        let keys = r.snapshot.groupKeys
        #expect(keys == [.turn(1), .turn(2), .turn(3)])
        for (g, key) in keys.enumerated() {
            guard case .turn(let t) = key else { continue }
            let got = g < r.snapshot.groups.count ? r.snapshot.groups[g].requests : 0
            // The last request may still be in flight in the target's record but not reported, or the other way.
            #expect(abs(Int(got) - Int(turnCounts[t] ?? 0)) <= 1, "turn \(t): \(got) reported, \(turnCounts[t] ?? 0) received")
        }
        #expect((r.snapshot.groups.first?.llm != nil) == stream)
        let text = try #require(BreakdownReport.text(r))
        #expect(text.contains("PER TURN") && text.contains("turn 3"))
        let json = JSONReport().render(r)
        #expect(json.contains("\"breakdown\": {") && json.contains("\"turn\": 2"))
    }

    /// On both transports (issue 17).
    @Test(arguments: [TransportChoice.curl, .fast])
    func aTraceIsReplayedWithItsMaxTokensAndSharedPrefixes(transport: TransportChoice) throws {
        let target = TestTarget(config: .init(ttft: .milliseconds(1), interToken: .microseconds(100), recordRequests: 10_000))
        try target.start()
        defer { target.stop() }
        let dir = NSTemporaryDirectory() + "cicada-trace-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var lines: [String] = []
        for k in 0..<20 {
            lines.append(#"{"timestamp": \#(1000 + k * 40), "input_length": 700, "output_length": \#(k + 1), "hash_ids": [\#(k % 2), \#(100 + k)]}"#)
        }
        try lines.joined(separator: "\n").write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        let r = try run("""
        arrival: {trace: t.jsonl, time_scale: 0.5}
        tasks: [{name: replay, kind: openai-completions, model: m}]
        """, target: target, dir: dir, transport: transport)
        let sent = bodies(target, path: "/v1/completions")
        #expect(sent.count == 20)
        #expect(r.snapshot.total.requests == 20 && r.snapshot.total.failures == 0)
        #expect(r.snapshot.dropped == 0)
        // Every trace line is sent once with its own output_length. Arrivals are 20 ms apart, but on
        // a loaded machine two connections can reach the server out of order, so the bodies are put
        // back in trace order by their max_tokens (line k asks for k + 1) before the prefixes are compared.
        let byLine = sent.map { b -> (Int, String) in
            let n: Int = if case .number(let n)? = b["max_tokens"] { Int(n) } else { -1 }
            let p: String = if case .string(let s)? = b["prompt"] { s } else { "" }
            return (n, p)
        }.sorted { $0.0 < $1.0 }
        #expect(byLine.map(\.0) == Array(1...20))
        let prompts = byLine.map(\.1)
        #expect(prompts.allSatisfy { $0.utf8.count == 700 * 4 })
        let block = 512 * 4
        for i in 2..<20 {
            #expect(Array(prompts[i].utf8.prefix(block)) == Array(prompts[i - 2].utf8.prefix(block)), "same hash id, same first block")
            #expect(prompts[i].utf8.dropFirst(block).elementsEqual(prompts[i - 2].utf8.dropFirst(block)) == false)
        }
        #expect(Array(prompts[0].utf8.prefix(block)) != Array(prompts[1].utf8.prefix(block)))
    }

    /// On both transports (issue 17).
    @Test(arguments: [TransportChoice.curl, .fast])
    func weightedModelsArePickedInRatioAndCountedApart(transport: TransportChoice) throws {
        let target = TestTarget(config: .init(ttft: .milliseconds(1), interToken: .microseconds(100), recordRequests: 10_000))
        try target.start()
        defer { target.stop() }
        let r = try run("""
        run_time: 2s
        arrival: {rate: 150}
        prompts: prompts/sample-prompts.txt
        tasks:
          - name: gen
            kind: openai-completions
            max_tokens: 2
            model: [{name: big, weight: 3}, {name: small, weight: 1}]
        """, target: target, transport: transport)
        let sent = bodies(target, path: "/v1/completions")
        let big = sent.filter { $0["model"] == .string("big") }.count
        let small = sent.filter { $0["model"] == .string("small") }.count
        #expect(big + small == sent.count)
        #expect(big > 2 * small && small > 10, "big \(big), small \(small)")
        #expect(r.snapshot.groupKeys == [.model("big"), .model("small")])
        #expect(r.snapshot.groups.map(\.requests) == [UInt64(big), UInt64(small)])
        #expect(r.snapshot.groups.allSatisfy { $0.llm?.streams ?? 0 > 0 })
        #expect(BreakdownReport.text(r)?.contains("PER MODEL") == true)
        #expect(JSONReport().render(r).contains("\"model\": \"small\""))
    }

    @Test func theResetHookEmptiesTheEnginesCache() throws {
        try withEngine { e in
            let body = #"{"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "same"}]}"#
            _ = try http("POST", e.baseURL + "/v1/chat/completions", body: body)
            _ = try http("POST", e.baseURL + "/v1/chat/completions", body: body)
            #expect(e.stats.cacheHits == 1)
            let status = try HTTPHook.send(HookSpec(method: "POST", path: "/reset_prefix_cache"), base: e.baseURL, headers: [], insecure: false)
            #expect(status == 200)
            _ = try http("POST", e.baseURL + "/v1/chat/completions", body: body)
            #expect(e.stats.cacheHits == 1, "answered by the model after the reset, not the cache")
            #expect(e.stats.cacheMisses == 2)
            #expect(try http("GET", e.baseURL + "/reset_prefix_cache").status == 405)
            do {
                try HTTPHook.send(HookSpec(method: "POST", path: "/no_such_thing"), base: e.baseURL, headers: [], insecure: false)
                Issue.record("a 404 hook passed")
            } catch let error as HTTPHook.Failure {
                #expect(error.description.contains("POST \(e.baseURL)/no_such_thing: HTTP 404"))
            }
        }
    }

    @Test func aFailingBeforeRunHookStopsTheRunBeforeAnyLoad() throws {
        let target = TestTarget(config: .init(recordRequests: 100))
        try target.start()
        defer { target.stop() }
        func session(_ hookPath: String) throws -> RunSession {
            let yaml = "target: \(target.baseURL)\nusers: 1\nrun_time: 300ms\nwait_time: constant(0.01)\ntasks: [{name: p, path: /health}]\ntelemetry: {gpu: none}\nbefore_run: {method: GET, path: \(hookPath)}\n"
            return try RunSession(document: try ScenarioReader().parseDocument(yaml, file: "s.yaml"), request: SessionRequest(file: "s.yaml", workers: 1))
        }
        do {
            _ = try session("/status/503").run(view: nil, output: CapturedOutput().output, stopSignal: { false })
            Issue.record("the run went on after its hook failed")
        } catch let error as SessionError {
            #expect(error.kind == .tool)
            #expect(error.description.contains("before_run failed, no load sent: GET \(target.baseURL)/status/503: HTTP 503"))
        }
        #expect(target.recordedRequests == ["GET /status/503 "], "only the hook was sent")
        let out = CapturedOutput()
        let ok = try session("/health").run(view: nil, output: out.output, stopSignal: { false })
        #expect(ok.exitStatus == ExitStatus.ok)
        #expect(target.recordedRequests.count > 3)
        #expect(target.recordedRequests[1] == "GET /health ", "the hook went first")
        #expect(out.log.withLock { $0 }.contains { $0.contains("before_run GET \(target.baseURL)/health -> HTTP 200") })
    }

    @Test func beforeEachPointIsSentBeforeEverySweepPoint() throws {
        let target = TestTarget(config: .init(recordRequests: 10_000))
        try target.start()
        defer { target.stop() }
        let doc = try ScenarioReader().parseDocument("""
        target: \(target.baseURL)
        arrival: {rate: 10}
        run_time: 5s
        tasks: [{name: p, path: /predict, json: {input: x}}]
        before_each_point: {method: GET, path: /count}
        sweep: {targets: [{name: t, url: "\(target.baseURL)"}], rates: [20, 40], warmup: 0s, measure: 500ms, stable: false}
        """, file: "sweep.yaml")
        let spec = try #require(doc.sweep)
        let points = try SweepRunner(scenario: doc.scenario, spec: spec, workers: 1).run { _ in EngineConfig() }
        #expect(points.count == 2)
        let hooks = target.recordedRequests.enumerated().filter { $0.element.hasPrefix("GET /count") }.map(\.offset)
        #expect(hooks.count == 2)
        #expect(hooks.first == 0, "sent before the first point's load")
    }
}
