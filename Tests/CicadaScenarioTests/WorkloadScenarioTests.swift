import CicadaCore
import Foundation
import Testing
@testable import CicadaScenario

/// A temporary folder for trace and conversation files written by a test.
func temporaryFolder() -> String {
    let dir = NSTemporaryDirectory() + "cicada-workloads-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct WorkloadScenarioTests {
    func read(_ yaml: String, in dir: String) throws(ScenarioErrors) -> Scenario {
        try ScenarioReader().parse(yaml, file: dir + "/s.yaml", baseDirectory: dir)
    }

    @Test func aTraceBecomesAReplayWithItsMaxTokensAndPrompts() throws {
        let dir = temporaryFolder()
        try """
        {"timestamp": 0, "input_length": 600, "output_length": 9, "hash_ids": [1, 2]}
        {"timestamp": 40, "input_length": 600, "output_length": 11, "hash_ids": [1, 3]}
        """.write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        let s = try read("""
        target: http://127.0.0.1:9
        arrival: {trace: t.jsonl, time_scale: 0.5}
        tasks:
          - {name: gen, kind: openai-completions, model: m}
        """, in: dir)
        guard case .open(let o) = s.load, let trace = o.trace else { Issue.record("not a replay"); return }
        #expect(trace.entries.count == 2)
        #expect(trace.timeScale == 0.5)
        let body = try #require(s.tasks[0].body)
        #expect(body.segments.contains { $0.part == .maxTokens(128) })
        var ctx = Template.Context(user: 0, seq: 1, prompts: [])
        ctx.promptOverride = trace.prompt(1, seed: s.seed)
        ctx.maxTokens = trace.maxTokens(1)
        var rng = SeededRandom(seed: 1)
        let json = body.render(context: ctx, rng: &rng)
        guard case .object(let obj)? = JSONValue.parse(Array(json.utf8)) else { Issue.record("not JSON: \(json)"); return }
        #expect(obj["max_tokens"] == .number(11))
        #expect(obj["prompt"] == .string(trace.prompt(1, seed: s.seed)))
    }

    @Test func badTraceLinesNameTheTraceFileLineAndKey() throws {
        let dir = temporaryFolder()
        try "{\"timestamp\": 0, \"input_length\": 5}\n{\"timestamp\": 1, \"output_length\": \"x\", \"input_length\": 5}\n"
            .write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        do {
            _ = try read("""
            target: http://127.0.0.1:9
            arrival: {trace: bad.jsonl, rate: 5}
            tasks: [{kind: openai-completions}]
            """, in: dir)
            Issue.record("accepted a bad trace")
        } catch {
            let bad = try #require(error.issues.first { $0.file.hasSuffix("bad.jsonl") })
            #expect(bad.line == 2)
            #expect(bad.keyPath == "arrival.trace.output_length")
            #expect(error.issues.contains { $0.keyPath == "arrival.rate" && $0.message.contains("conflicts with 'trace'") })
        }
    }

    @Test func conversationsInlineAndShareGPTUseEveryHumanTurn() throws {
        let dir = temporaryFolder()
        try #"[{"conversations": [{"from": "human", "value": "h1"}, {"from": "gpt", "value": "recorded"}, {"from": "human", "value": "h2"}]}, {"conversations": [{"from": "gpt", "value": "only"}]}]"#
            .write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let s = try read("""
        target: http://127.0.0.1:9
        users: 1
        run_time: 1s
        tasks:
          - {name: a, kind: openai-chat, conversations: c.json, max_tokens: 4}
          - {name: b, kind: openai-chat, conversations: [["x", "y", "z"]]}
        """, in: dir)
        #expect(s.tasks[0].conversations == [Conversation(userTurns: ["h1", "h2"])])
        #expect(s.tasks[1].conversations == [Conversation(userTurns: ["x", "y", "z"])])
        let body = try #require(s.tasks[0].body)
        #expect(body.segments.contains { $0.part == .messages })
        var ctx = Template.Context(user: 0, seq: 0, prompts: [])
        ctx.messagesJSON = ConversationState(conversation: 0).messagesJSON(userText: "h1")
        var rng = SeededRandom(seed: 1)
        guard case .object(let obj)? = JSONValue.parse(Array(body.render(context: ctx, rng: &rng).utf8)) else { Issue.record("not JSON"); return }
        #expect(obj["messages"] == .array([.object(["role": .string("user"), "content": .string("h1")])]))
        #expect(obj["max_tokens"] == .number(4))
    }

    @Test func conversationsAreRefusedWhereTheyCannotWork() {
        let open = issues("""
        target: http://127.0.0.1:9
        run_time: 1s
        arrival: {rate: 5}
        tasks: [{name: a, kind: openai-chat, conversations: [["x"]]}]
        """)
        #expect(open.contains { $0.keyPath == "tasks[0].conversations" && $0.message.contains("closed model") })
        let kind = issues("""
        target: http://127.0.0.1:9
        tasks: [{name: a, kind: openai-completions, conversations: [["x"]]}]
        """)
        #expect(kind.contains { $0.keyPath == "tasks[0].conversations" })
        let onStart = issues("""
        target: http://127.0.0.1:9
        on_start: [{name: a, kind: openai-chat, conversations: [["x"]]}]
        tasks: [{path: /x}]
        """)
        #expect(onStart.contains { $0.keyPath == "on_start[0].conversations" })
    }

    @Test func aWeightedModelListIsPickedPerRequest() throws {
        let s = try parse("""
        target: http://127.0.0.1:9
        prompts: prompts/sample-prompts.txt
        tasks:
          - name: gen
            kind: openai-chat
            model: [{name: "a\\"q", weight: 3}, {name: b, weight: 1}]
        """)
        #expect(s.tasks[0].models == [WeightedModel(name: "a\"q", weight: 3), WeightedModel(name: "b", weight: 1)])
        var ctx = Template.Context(user: 0, seq: 0, prompts: ["p"])
        ctx.model = "a\"q"
        var rng = SeededRandom(seed: 1)
        guard case .object(let obj)? = JSONValue.parse(Array(s.tasks[0].body!.render(context: ctx, rng: &rng).utf8)) else { Issue.record("not JSON"); return }
        #expect(obj["model"] == .string("a\"q"))
        let bad = issues("""
        target: http://127.0.0.1:9
        tasks: [{name: g, kind: predict, model: [a, b]}]
        """)
        #expect(bad.contains { $0.keyPath == "tasks[0].model" })
    }

    @Test func prefixAndHooksAreRead() throws {
        let s = try parse("""
        target: http://127.0.0.1:9
        prompts: {synthetic: {count: 10, input_tokens: 16, prefix: {tokens: 64, count: 4}}}
        before_run: {method: POST, path: /reset_prefix_cache}
        before_each_point: [{path: /a, json: {x: 1}}, {method: get, path: "http://127.0.0.1:7/b"}]
        tasks: [{kind: openai-completions}]
        """)
        #expect(s.sharedPrefix?.count == 4)
        #expect(s.sharedPrefix?.prefixes.first?.utf8.count == 256)
        #expect(s.beforeRun == [HookSpec(method: "POST", path: "/reset_prefix_cache")])
        #expect(s.beforeEachPoint == [HookSpec(method: "POST", path: "/a", body: #"{"x":1}"#), HookSpec(method: "GET", path: "http://127.0.0.1:7/b")])
        #expect(s.beforeEachPoint[1].url(base: "http://x") == "http://127.0.0.1:7/b")
        let bad = issues("""
        target: http://127.0.0.1:9
        before_run: {method: POST}
        tasks: [{path: /x}]
        """)
        #expect(bad.contains { $0.keyPath == "before_run.path" })
    }

    @Test func traceKeysAreRefusedWhereTheyDoNotApply() throws {
        let dir = temporaryFolder()
        try "{\"timestamp\": 0, \"input_length\": 5}\n".write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        func problems(_ yaml: String) -> [ScenarioIssue] {
            do { _ = try ScenarioReader().parseDocument(yaml, file: dir + "/s.yaml", baseDirectory: dir); return [] } catch { return error.issues }
        }
        let scale = problems("target: http://127.0.0.1:9\nrun_time: 1s\narrival: {rate: 5, time_scale: 2}\ntasks: [{path: /x}]\n")
        #expect(scale.contains { $0.keyPath == "arrival.time_scale" })
        let sweep = problems("target: http://127.0.0.1:9\narrival: {trace: t.jsonl}\ntasks: [{kind: openai-completions}]\nsweep: {rates: [1, 2], targets: [{name: a, url: \"http://127.0.0.1:9\"}]}\n")
        #expect(sweep.contains { $0.keyPath == "sweep" && $0.message.contains("cannot replay a trace") })
        let missing = problems("target: http://127.0.0.1:9\narrival: {trace: nowhere.jsonl}\ntasks: [{kind: openai-completions}]\n")
        #expect(missing.contains { $0.keyPath == "arrival.trace" && $0.message.contains("cannot read trace file") && $0.line == 2 })
    }
}
