import CicadaCore
import CicadaEngine
import Foundation
import Testing
@testable import CicadaScenario

/// The repository's `scenarios/` folder, found from this file's path.
let scenariosDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("scenarios").path
}()

func parse(_ yaml: String) throws(ScenarioErrors) -> Scenario {
    try ScenarioReader().parse(yaml, file: "test.yaml", baseDirectory: scenariosDirectory)
}

func issues(_ yaml: String) -> [ScenarioIssue] {
    do { _ = try parse(yaml); return [] } catch { return error.issues }
}

@Suite struct ShippedScenarioTests {
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: scenariosDirectory)) ?? [])
        .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()

    @Test func thereAreShippedScenarios() {
        #expect(Self.files.contains("quickstart.yaml"))
        #expect(Self.files.contains("deepseek-predict.yaml"))
        #expect(Self.files.count >= 4)
    }

    @Test(arguments: files)
    func everyShippedScenarioIsValid(file: String) throws {
        let s = try ScenarioReader().read(path: scenariosDirectory + "/" + file)
        #expect(!s.tasks.isEmpty)
        for t in s.thresholds { _ = try Threshold(t) }
    }

    @Test func deepseekPredictIsTheSeedsTest() throws {
        let s = try ScenarioReader().read(path: scenariosDirectory + "/deepseek-predict.yaml")
        guard case .closed(let c) = s.load else { Issue.record("not closed"); return }
        #expect(c.waitTime == .between(.milliseconds(500), .seconds(2)))
        #expect(s.tasks[0].method == "POST")
        let exprs = s.thresholds.map(\.expression)
        #expect(exprs.contains("p(99)<100ms") && exprs.contains("qps>=500") && exprs.contains("error_rate<1%"))
    }
}

@Suite struct ScenarioValidationTests {
    let minimal = """
    target: http://127.0.0.1:8000
    tasks:
      - path: /health
    """

    @Test func minimalScenarioHasLocustDefaults() throws {
        let s = try parse(minimal)
        #expect(s.name == "scenario")
        #expect(s.tasks[0].name == "GET /health")
        #expect(s.tasks[0].method == "GET")
        guard case .closed(let c) = s.load else { Issue.record("not closed"); return }
        #expect(c.stages.count == 1 && c.stages[0].users == 1 && c.stages[0].spawnRate == 1)
    }

    @Test func reportsEveryErrorWithPlaceAndHint() {
        let found = issues("""
        target: http://127.0.0.1:8000
        users: many
        spwan_rate: 5
        wait_time: betwen(1, 2)
        tasks:
          - name: predict
            path: predict
            methd: POST
        thresholds:
          - "p(99)<100ms"
          - "predcit: p(95)<80ms"
        """)
        let text = found.map(\.description)
        #expect(found.count == 6, "\(text)")
        #expect(text.contains("test.yaml:2:8: error: users: expected a whole number, found 'many'"))
        #expect(text.contains("test.yaml:3:1: error: spwan_rate: unknown key 'spwan_rate' (did you mean 'spawn_rate'?)"))
        #expect(text.contains { $0.hasPrefix("test.yaml:4:12: error: wait_time: unknown wait time 'betwen'") && $0.contains("did you mean 'between'?") })
        #expect(text.contains("test.yaml:7:11: error: tasks[0].path: a path starts with '/', found 'predict'"))
        #expect(text.contains("test.yaml:8:5: error: tasks[0].methd: unknown key 'methd' (did you mean 'method'?)"))
        #expect(text.contains { $0.hasPrefix("test.yaml:11:5: error: thresholds[1]: threshold names task 'predcit'") && $0.contains("did you mean 'predict'?") })
    }

    @Test func honorRetryAfterIsClosedModelOnly() throws {
        let s = try parse("target: http://127.0.0.1:8000\nusers: 2\nhonor_retry_after: true\ntasks: [{path: /a}]")
        guard case .closed(let c) = s.load else { Issue.record("not closed"); return }
        #expect(c.honorRetryAfter)
        guard case .closed(let d) = try parse(minimal).load else { Issue.record("not closed"); return }
        #expect(!d.honorRetryAfter, "off unless asked for")
        let open = issues("target: http://127.0.0.1:8000\narrival: {rate: 5}\nrun_time: 1s\nhonor_retry_after: true\ntasks: [{path: /a}]").map(\.description)
        #expect(open.contains { $0.hasPrefix("test.yaml:4:1: error: honor_retry_after: 'honor_retry_after' belongs to the closed (users) model") }, "\(open)")
        let bad = issues("target: http://127.0.0.1:8000\nhonor_retry_after: sometimes\ntasks: [{path: /a}]").map(\.description)
        #expect(bad.contains { $0.hasPrefix("test.yaml:2:20: error: honor_retry_after:") }, "\(bad)")
    }

    @Test func diagnosesBlockSetsLimitsAndTurnsRulesOff() throws {
        let s = try parse("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\ndiagnoses: {gpu_memory: 85%, fit: 0.7, lag_p99: 25ms, p99_over_p50: 4, off: [generator_cpu]}")
        #expect(s.diagnosisLimits.gpuMemoryFraction == 0.85 && s.diagnosisLimits.fitFraction == 0.7)
        #expect(s.diagnosisLimits.lagP99Millis == 25 && s.diagnosisLimits.p99OverP50 == 4)
        #expect(s.diagnosisLimits.off == ["generator_cpu"])
        #expect(try parse(minimal).diagnosisLimits == DiagnosisLimits())
        let bad = issues("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\ndiagnoses: {gpu_memory: 1.5, off: [generator_cpuu]}").map(\.description)
        #expect(bad.contains { $0.contains("diagnoses.gpu_memory: expected a fraction such as 0.9 or 90%, found '1.5'") }, "\(bad)")
        #expect(bad.contains { $0.contains("diagnoses.off[0]: unknown diagnosis 'generator_cpuu'") && $0.contains("did you mean 'generator_cpu'?") }, "\(bad)")
    }

    @Test func thresholdPresetSeedExpandsToTheSeedTargets() throws {
        let s = try parse("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\nthresholds: [{preset: seed}, \"error_rate<1%\"]")
        #expect(s.thresholds.map(\.expression) == ["p(99)<100ms", "qps>=500", "gpu_memory<90%", "error_rate<1%"])
        for spec in s.thresholds { #expect(throws: Never.self) { _ = try Threshold(spec) } }
        let bad = issues("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\nthresholds: [{preset: sed}]").map(\.description)
        #expect(bad.contains { $0.contains("thresholds[0].preset: unknown threshold preset 'sed'") && $0.contains("did you mean 'seed'?") }, "\(bad)")
    }

    @Test func baselineNamesAReportAndBounds() throws {
        let s = try parse("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\nbaseline: {file: base.json, max_regression: [\"p(99)=+10%\", \"qps=-5%\"]}")
        #expect(s.baseline?.file.hasSuffix("/base.json") == true, "resolved against the scenario's folder")
        #expect(s.baseline?.bounds.map(\.figure) == ["p(99)", "qps"])
        let bad = issues("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\nbaseline: {file: b.json, max_regression: [\"p(99)=10%\"]}").map(\.description)
        #expect(bad.contains { $0.contains("baseline.max_regression[0]: 'p(99)=10%': give the allowed change with its sign") }, "\(bad)")
        #expect(issues("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\nbaseline: {file: b.json}").map(\.description).contains { $0.contains("needs 'max_regression'") })
    }

    @Test func yamlSyntaxErrorsHaveALine() {
        let found = issues("target: http://x\ntasks:\n  - path: /a\n   bad: [\n")
        #expect(found.count == 1)
        #expect(found[0].line != nil)
        #expect(found[0].message.hasPrefix("YAML syntax"))
    }

    @Test func missingRequiredKeys() {
        let text = issues("users: 3").map(\.message)
        #expect(text.contains { $0.contains("missing required key 'target'") })
        #expect(text.contains { $0.contains("missing required key 'tasks'") })
    }

    @Test func openAndClosedModelsDoNotMix() {
        let found = issues("""
        target: http://127.0.0.1:8000
        users: 10
        run_time: 10s
        arrival: {rate: 50}
        tasks: [{path: /}]
        """)
        #expect(found.count == 1)
        #expect(found[0].keyPath == "users" && found[0].line == 2)
    }

    @Test func openModel() throws {
        let s = try parse("""
        target: http://127.0.0.1:8000
        run_time: 30s
        arrival: {rate: 200, process: gamma, burstiness: 0.5, max_in_flight: 64, max_queue: 100}
        tasks: [{path: /}]
        """)
        #expect(s.load == .open(OpenLoad.constant(rate: 200, duration: .seconds(30), process: .gamma(burstiness: 0.5), maxInFlight: 64, maxQueue: 100)))
    }

    @Test func secretsAreNeverInTheFile() {
        let found = issues("""
        target: http://127.0.0.1:8000
        auth: {bearer_env: eyJhbGciOiJIUzI1NiJ9.secret}
        tasks: [{path: /}]
        """)
        #expect(found.first?.message.contains("looks like a token") == true)
    }

    @Test func promptWithoutPromptsFile() {
        let found = issues("""
        target: http://127.0.0.1:8000
        tasks: [{path: /p, json: {input: "{{prompt}}"}}]
        """)
        #expect(found.first?.keyPath == "prompts")
    }

    @Test func jsonBodiesRenderAsValidJSON() throws {
        let s = try parse("""
        target: http://127.0.0.1:8000
        prompts: prompts/sample-prompts.txt
        tasks:
          - name: chat
            path: /v1/chat
            json:
              model: deepseek
              max_tokens: "{{random_int 16 32}}"
              temperature: 0.7
              stream: false
              stop: null
              messages: [{role: user, content: "Q: {{prompt}} \\"quoted\\""}]
        """)
        #expect(s.tasks[0].method == "POST")
        #expect(s.tasks[0].headers.contains { $0.name == "Content-Type" })
        var rng = SeededRandom(seed: 1)
        let body = s.tasks[0].body!.render(context: .init(user: 0, seq: 0, prompts: ["a \"tricky\"\nprompt"]), rng: &rng)
        guard case .object(let o)? = JSONValue.parse(Array(body.utf8)) else { Issue.record("not JSON: \(body)"); return }
        guard case .number(let n)? = o["max_tokens"] else { Issue.record("max_tokens not a number: \(body)"); return }
        #expect((16...32).contains(Int(n)))
        #expect(o["temperature"] == .number(0.7))
        #expect(o["stream"] == .bool(false))
        #expect(o["stop"] == .null)
        #expect(JSONPath("messages[0].content")!.lookup(.object(o)) == .string("Q: a \"tricky\"\nprompt \"quoted\""))
    }

    @Test func checksAreCompiled() throws {
        let s = try parse("""
        target: http://127.0.0.1:8000
        tasks:
          - path: /predict
            checks:
              status: [200, 201]
              json_exists: [$.output, batch_size]
              json_equals: {cached: false}
              contains: output
        """)
        #expect(s.tasks[0].checks.count == 5)
        #expect(s.tasks[0].checks.first == .status([200, 201]))
    }

    @Test func jsonlPromptsReportTheirOwnLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-test-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "{\"prompt\": \"one\"}\n{bad json}\n{\"text\": \"x\"}\n".write(to: dir.appendingPathComponent("p.jsonl"), atomically: true, encoding: .utf8)
        do {
            _ = try ScenarioReader().parse("target: http://127.0.0.1:1\nprompts: p.jsonl\ntasks: [{path: /}]\n", file: "s.yaml", baseDirectory: dir.path)
            Issue.record("accepted")
        } catch {
            let lines = error.issues.filter { $0.file.hasSuffix("p.jsonl") }.compactMap(\.line)
            #expect(lines == [2, 3])
        }
    }
}

@Suite struct OverrideTests {
    @Test func locustFlagsOverrideClosedScenarios() throws {
        let s = try parse("target: http://127.0.0.1:8000\nusers: 5\nspawn_rate: 1\nrun_time: 1m\ntasks: [{path: /}]\n")
        let o = try ScenarioOverrides(users: 50, spawnRate: 10, runTime: .seconds(5), seed: 9).apply(to: s)
        guard case .closed(let c) = o.load else { Issue.record("not closed"); return }
        #expect(c.stages == [UserStage(duration: .seconds(5), users: 50, spawnRate: 10)])
        #expect(o.seed == 9)
        #expect(throws: ScenarioOverrides.Conflict.self) { try ScenarioOverrides(rate: 5).apply(to: s) }
    }

    /// The flags have the scenario keys' bounds (`RunBoundTests`): `-u 9223372036854775807`
    /// would overflow the open-files check as the run began.
    @Test func flagsPastTheScenarioBoundsAreRefused() throws {
        let closed = try parse("target: http://127.0.0.1:8000\nusers: 5\nrun_time: 1m\ntasks: [{path: /}]\n")
        #expect {
            try ScenarioOverrides(users: .max).apply(to: closed)
        } throws: { error in
            (error as? ScenarioOverrides.Conflict)?.description == "--users must be at most 1000000, found 9223372036854775807"
        }
        guard case .closed(let c) = try ScenarioOverrides(users: 1_000_000).apply(to: closed).load else { Issue.record("not closed"); return }
        #expect(c.peakUsers == 1_000_000)
        let open = try parse("target: http://127.0.0.1:8000\narrival: {rate: 5}\nrun_time: 1m\ntasks: [{path: /}]\n")
        #expect(throws: ScenarioOverrides.Conflict.self) { try ScenarioOverrides(rate: 1e300).apply(to: open) }
        #expect((try? ScenarioOverrides(rate: 10_000_000).apply(to: open)) != nil)
    }

    @Test func runTimeCapsStages() {
        let stages = [RateStage(duration: .seconds(10), rate: 1), RateStage(duration: .seconds(10), rate: 2)]
        #expect(ScenarioOverrides.cap(stages, at: .seconds(15), duration: \.duration).map(\.duration) == [.seconds(10), .seconds(5)])
        #expect(ScenarioOverrides.cap(stages, at: .seconds(30), duration: \.duration).map(\.duration) == [.seconds(10), .seconds(20)])
    }
}

@Suite struct EngineBlockTests {
    @Test func embeddedTargetWithEngineBlock() throws {
        let doc = try ScenarioReader().parseDocument("""
        target: embedded
        engine:
          gpu: h200
          model: deepseek-coder-1.3b
          precision: bf16
          batching: mine
          presets:
            - {name: mine, max_batch_size: 16, preferred_batch_sizes: [8, 16], max_queue_delay_us: 500}
          cache: {enabled: false}
        tasks: [{path: /predict, json: {input: x}}]
        """, file: "e.yaml")
        #expect(doc.targetsEngine)
        let e = try #require(doc.engine)
        #expect(e.gpu == "H200")
        #expect(e.precision == .bf16)
        #expect(e.presetName == "mine")
        #expect(e.batching.maxBatchSize == 16 && e.batching.maxQueueDelayMicros == 500)
        #expect(e.presets.map(\.name).prefix(2) == ["no-batching", "seed"])
        #expect(e.cacheEntries == 0)
    }

    @Test func engineErrorsAreLocated() {
        let found = issues("""
        target: embedded
        engine:
          gpu: A100-90GB
          batching: sed
          presets:
            - {name: bad, max_batch_size: 4, preferred_batch_sizes: [8]}
        tasks: [{path: /}]
        """).map(\.description)
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("test.yaml:3:8: error: engine.gpu: unknown GPU \"A100-90GB\"") })
        #expect(found.contains { $0.hasPrefix("test.yaml:4:13: error: engine.batching: unknown batching preset 'sed'") && $0.contains("did you mean 'seed'?") })
        #expect(found.contains { $0.hasPrefix("test.yaml:6:7: error: engine.presets[0]:") })
    }
}

@Suite struct DatasetTests {
    @Test func shareGPTTakesTheFirstHumanTurn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-sg-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"[{"id": "a", "conversations": [{"from": "system", "value": "sys"}, {"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"}]}, {"conversations": [{"from": "human", "value": "Q2"}]}, {"conversations": []}]"#
            .write(to: dir.appendingPathComponent("sg.json"), atomically: true, encoding: .utf8)
        let s = try ScenarioReader().parse("target: http://127.0.0.1:1\nprompts: sg.json\ntasks: [{path: /}]\n", file: "s.yaml", baseDirectory: dir.path)
        #expect(s.prompts == ["Q1", "Q2"])
    }

    @Test func theDocumentListsEveryFileTheScenarioNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cicada-files-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "one\ntwo\n".write(to: dir.appendingPathComponent("data/p.txt"), atomically: true, encoding: .utf8)
        let yaml = "target: http://127.0.0.1:1\nprompts: data/p.txt\ntasks: [{path: /}]\nbaseline: {file: base.json, max_regression: [\"p(99)=+10%\"]}\n"
        let doc = try ScenarioReader().parseDocument(yaml, file: "s.yaml", baseDirectory: dir.path)
        #expect(doc.dataFiles == [ScenarioDataFile(path: "data/p.txt", resolved: dir.path + "/data/p.txt", key: "prompts"),
                                  ScenarioDataFile(path: "base.json", resolved: dir.path + "/base.json", key: "baseline.file")])
        let none = try ScenarioReader().parseDocument("target: http://127.0.0.1:1\ntasks: [{path: /}]\n", file: "s.yaml")
        #expect(none.dataFiles.isEmpty)
    }

    @Test func syntheticPromptsFollowTheLengthDistribution() throws {
        let yaml = """
        target: http://127.0.0.1:1
        prompts: {synthetic: {count: 500, seed: 3, input_tokens: {uniform: [10, 20]}}}
        tasks: [{path: /}]
        """
        let a = try parse(yaml), b = try parse(yaml)
        #expect(a.prompts.count == 500)
        #expect(a.prompts == b.prompts)
        let tokens = a.prompts.map { ($0.count + 3) / 4 }
        #expect(tokens.min()! >= 10 && tokens.max()! <= 20)
        #expect(Set(tokens).count > 5)
        let normal = try parse("target: http://127.0.0.1:1\nprompts: {synthetic: {count: 2000, input_tokens: {normal: {mean: 100, stddev: 10}}}}\ntasks: [{path: /}]\n")
        let mean = Double(normal.prompts.map(\.count).reduce(0, +)) / 2000 / 4
        #expect(abs(mean - 100) < 2)
    }
}

@Suite struct RequestKindTests {
    @Test func kserveV2BuildsAnInferRequest() throws {
        let s = try parse("""
        target: http://127.0.0.1:1
        tasks: [{name: infer, kind: kserve-v2, model: ensemble, prompt: "hi {{seq}}"}]
        """)
        let t = s.tasks[0]
        #expect(t.method == "POST")
        var rng = SeededRandom(seed: 1)
        #expect(t.path.render(context: .init(user: 0, seq: 0, prompts: []), rng: &rng) == "/v2/models/ensemble/infer")
        let body = t.body!.render(context: .init(user: 0, seq: 4, prompts: []), rng: &rng)
        let v = try #require(JSONValue.parse(Array(body.utf8)))
        #expect(JSONPath("inputs[0].datatype")!.lookup(v) == .string("BYTES"))
        #expect(JSONPath("inputs[0].shape[0]")!.lookup(v) == .number(1))
        #expect(JSONPath("inputs[0].data[0]")!.lookup(v) == .string("hi 4"))
    }

    @Test func openAIChatDefaults() throws {
        let s = try parse("""
        target: http://127.0.0.1:1
        prompts: prompts/sample-prompts.txt
        tasks: [{name: chat, kind: openai-chat, model: m, max_tokens: 32}]
        """)
        var rng = SeededRandom(seed: 1)
        let body = s.tasks[0].body!.render(context: .init(user: 0, seq: 0, prompts: ["p"]), rng: &rng)
        let v = try #require(JSONValue.parse(Array(body.utf8)))
        #expect(JSONPath("stream")!.lookup(v) == .bool(true))
        #expect(JSONPath("stream_options.include_usage")!.lookup(v) == .bool(true))
        #expect(JSONPath("max_tokens")!.lookup(v) == .number(32))
        #expect(JSONPath("messages[0].content")!.lookup(v) == .string("p"))
        #expect(issues("target: http://127.0.0.1:1\ntasks: [{path: /, max_tokens: 3}]\n").first?.message.contains("needs a request kind") == true)
    }

    /// Anthropic's Messages API: its path, its required `max_tokens`, the prompt as a user
    /// message, streamed by default (no `stream_options`: its stream always reports usage), and
    /// the `anthropic-version` header Anthropic requires.
    @Test func anthropicMessagesDefaults() throws {
        let s = try parse("""
        target: http://127.0.0.1:1
        tasks: [{name: msg, kind: anthropic-messages, model: claude-x, prompt: "hi {{seq}}", max_tokens: 24}]
        """)
        let t = s.tasks[0]
        #expect(t.kind == .anthropicMessages && t.kind.streamDialect == .anthropic && !t.kind.isOpenAI)
        #expect(t.method == "POST")
        var rng = SeededRandom(seed: 1)
        #expect(t.path.render(context: .init(user: 0, seq: 0, prompts: []), rng: &rng) == "/v1/messages")
        let body = t.body!.render(context: .init(user: 0, seq: 3, prompts: []), rng: &rng)
        let v = try #require(JSONValue.parse(Array(body.utf8)))
        #expect(JSONPath("model")!.lookup(v) == .string("claude-x"))
        #expect(JSONPath("max_tokens")!.lookup(v) == .number(24))
        #expect(JSONPath("messages[0].role")!.lookup(v) == .string("user"))
        #expect(JSONPath("messages[0].content")!.lookup(v) == .string("hi 3"))
        #expect(JSONPath("stream")!.lookup(v) == .bool(true))
        #expect(JSONPath("stream_options")!.lookup(v) == nil)
        let headers = t.headers.map { ($0.name.lowercased(), $0.value.render(context: .init(user: 0, seq: 0, prompts: []), rng: &rng)) }
        #expect(headers.contains { $0 == ("anthropic-version", "2023-06-01") })
        #expect(headers.contains { $0 == ("content-type", "application/json") })

        // Defaults: model "default", 128 tokens; stream: false is kept; a given version header wins.
        let d = try parse("""
        target: http://127.0.0.1:1
        tasks: [{name: m, kind: anthropic-messages, prompt: p, stream: false, headers: {anthropic-version: "2024-01-01", x-api-key: k}}]
        """)
        let dv = try #require(JSONValue.parse(Array(d.tasks[0].body!.render(context: .init(user: 0, seq: 0, prompts: ["p"]), rng: &rng).utf8)))
        #expect(JSONPath("model")!.lookup(dv) == .string("default") && JSONPath("max_tokens")!.lookup(dv) == .number(128))
        #expect(JSONPath("stream")!.lookup(dv) == .bool(false))
        #expect(d.tasks[0].headers.filter { $0.name.lowercased() == "anthropic-version" }.count == 1)
        #expect(issues("target: http://127.0.0.1:1\ntasks: [{kind: anthropic-message}]\n").first?.hint?.contains("anthropic-messages") == true)
    }
}

@Suite struct CompareBlockTests {
    func document(_ yaml: String) throws(ScenarioErrors) -> ScenarioDocument {
        try ScenarioReader().parseDocument(yaml, file: "cmp.yaml", baseDirectory: scenariosDirectory)
    }
    func problems(_ yaml: String) -> [ScenarioIssue] {
        do { _ = try document(yaml); return [] } catch { return error.issues }
    }
    static let head = """
    target: embedded
    arrival: {rate: 10}
    run_time: 5s
    tasks: [{name: p, kind: predict, prompt: "q"}]

    """

    @Test func variantsArePresetsOwnBatchingDevicesOrTargets() throws {
        let doc = try document(Self.head + """
        compare:
          baseline: seed
          variants:
            - {name: none, preset: no-batching}
            - {name: seed, preset: seed}
            - {name: big, preset: seed, max_batch_size: 32, preferred_batch_sizes: [16, 32], max_queue_delay_us: 20000}
            - {name: h100, gpu: H100-SXM}
            - {name: prod, target: "http://127.0.0.1:9000"}
        """)
        let c = try #require(doc.compare)
        #expect(c.variants.map(\.name) == ["none", "seed", "big", "h100", "prod"])
        #expect(c.baseline == "seed" && c.baselineIndex == 1)
        guard case .engine(let none) = c.variants[0].kind, case .engine(let big) = c.variants[2].kind,
              case .engine(let h100) = c.variants[3].kind, case .target(let url) = c.variants[4].kind else {
            Issue.record("wrong kinds"); return
        }
        #expect(none.presetName == "no-batching" && none.batching.maxBatchSize == 1)
        // Changed batching becomes a preset of its own, named after the variant, on top of seed.
        #expect(big.presetName == "big")
        #expect(big.batching.maxBatchSize == 32 && big.batching.maxQueueDelayMicros == 20_000)
        #expect(big.batching.preferredBatchSizes == [16, 32])
        #expect(big.batching.maxQueueSize == BatcherConfig.seed.maxQueueSize, "keys not given keep the preset's values")
        #expect(h100.gpu == "H100-SXM" && h100.presetName == "seed")
        #expect(url == "http://127.0.0.1:9000")
        #expect(c.variants[2].summary.contains("max batch 32, delay 20 ms") && c.variants[2].summary.contains("(modelled)"))
        #expect(c.variants[4].line == 12)
    }

    @Test func batchingThatContradictsItselfIsRefused() {
        // seed prefers 16, 32 and 64: a max batch of 32 alone cannot hold them.
        let found = problems(Self.head + "compare: {variants: [{name: a, preset: seed}, {name: b, preset: seed, max_batch_size: 32}]}")
        #expect(found.contains { $0.keyPath == "compare.variants[1]" && $0.message.contains("must lie within 1...maxBatchSize (32)") })
    }

    @Test func theFirstVariantIsTheDefaultBaseline() throws {
        let c = try #require(try document(Self.head + "compare: {variants: [{name: a, preset: seed}, {name: b, preset: throughput}]}").compare)
        #expect(c.baseline == "a" && c.baselineIndex == 0)
    }

    @Test func mistakesNameTheirLineAndKey() {
        let found = problems(Self.head + """
        compare:
          baseline: sed
          variants:
            - {name: a, preset: sead}
            - {name: a, preset: seed}
            - {name: c, target: "http://x:1", max_batch_size: 4}
            - {name: d, target: "ftp://x"}
            - {preset: seed}
        """)
        func find(_ key: String) -> ScenarioIssue? { found.first { $0.keyPath == key } }
        #expect(find("compare.variants[0].preset")?.message == "unknown batching preset 'sead'")
        #expect(find("compare.variants[0].preset")?.hint == "did you mean 'seed'?")
        #expect(find("compare.variants[0].preset")?.line == 8)
        #expect(find("compare.variants[1].name")?.message == "duplicate variant name 'a'")
        #expect(find("compare.variants[2].max_batch_size")?.message.contains("either a target URL or an engine configuration") == true)
        #expect(find("compare.variants[3].target")?.message.contains("not an http:// or https:// URL") == true)
        #expect(find("compare.variants[4]")?.message == "a variant needs a 'name'")
        #expect(find("compare.baseline")?.message == "'sed' is not one of the variants")
    }

    @Test func aComparisonNeedsTwoVariants() {
        let found = problems(Self.head + "compare: {variants: [{name: only, preset: seed}]}")
        #expect(found.contains { $0.keyPath == "compare.variants" && $0.message.contains("at least two variants") })
        #expect(problems(Self.head + "compare: {variant: []}").contains { $0.message == "unknown key 'variant'" })
    }
}

@Suite struct SweepBlockTests {
    func problems(_ yaml: String) -> [ScenarioIssue] {
        do { _ = try ScenarioReader().parseDocument(yaml, file: "s.yaml"); return [] } catch { return error.issues }
    }
    static let open = """
    target: embedded
    arrival: {rate: 10}
    run_time: 5s
    tasks: [{name: p, kind: predict, prompt: "q"}]

    """

    @Test func gridExpandsEveryCombinationOnItsBase() throws {
        let doc = try ScenarioReader().parseDocument(Self.open + """
        sweep:
          presets: [no-batching]
          grid: {base: seed, max_batch_size: [8, 32], max_queue_delay_us: [500, 5000], instance_count: [2]}
          rates: [40, 20]
        """, file: "s.yaml")
        let spec = try #require(doc.sweep)
        #expect(spec.names == ["no-batching", "seed/b8/d500us/i2", "seed/b8/d5ms/i2", "seed/b32/d500us/i2", "seed/b32/d5ms/i2"])
        #expect(spec.levels == [20, 40] && spec.axis == .rate)
        guard case .engine(let b8) = spec.configurations[1].kind else { Issue.record("not an engine configuration"); return }
        #expect(b8.maxBatchSize == 8 && b8.maxQueueDelayMicros == 500 && b8.instanceCount == 2)
        // Preferred sizes the new maximum cannot form are dropped; the rest of the base stays.
        #expect(b8.preferredBatchSizes.allSatisfy { $0 <= 8 })
        #expect(spec.stability == SweepSpec.Stability())
    }

    @Test func namedTargetsAndConcurrencyNeedAClosedModel() throws {
        let closed = """
        target: http://127.0.0.1:1
        users: 4
        tasks: [{name: p, path: /}]

        """
        let doc = try ScenarioReader().parseDocument(closed + """
        sweep:
          targets: [{name: a, url: "http://127.0.0.1:9001"}, {name: b, url: "http://127.0.0.1:9002"}]
          concurrency: [16, 4]
          stable: {windows: 4, window: 3s, tolerance: 5%}
        """, file: "s.yaml")
        let spec = try #require(doc.sweep)
        #expect(spec.configurations == [.init(name: "a", kind: .target("http://127.0.0.1:9001")), .init(name: "b", kind: .target("http://127.0.0.1:9002"))])
        #expect(spec.axis == .concurrency && spec.levels == [4, 16])
        #expect(spec.stability == SweepSpec.Stability(windows: 4, window: .seconds(3), tolerance: 0.05))
        #expect(problems(closed + "sweep: {targets: [{name: a, url: \"http://x:1\"}], rates: [10]}").contains { $0.message.contains("needs an 'arrival:' block") })
        #expect(problems(Self.open + "sweep: {presets: [seed], concurrency: [4]}").contains { $0.message.contains("needs users (closed model)") })
    }

    @Test func sweepMistakesAreLocated() {
        let found = problems(Self.open + """
        sweep:
          presets: [sead]
          grid: {base: seed, max_batch_size: [4]}
          targets: [{name: t, url: "ftp://x"}]
          rates: [10]
          concurrency: [2]
          stable: {window: 1500ms}
        """)
        func find(_ key: String) -> ScenarioIssue? { found.first { $0.keyPath == key } }
        #expect(find("sweep.presets[0]")?.hint == "did you mean 'seed'?")
        #expect(find("sweep.targets[0].url")?.message.contains("not an http://") == true)
        #expect(find("sweep.concurrency")?.message.contains("not both") == true)
        #expect(find("sweep.stable.window")?.message.contains("whole number of seconds") == true)
        #expect(find("sweep.stable.window")?.line == 11)
        #expect(problems(Self.open + "sweep: {rates: [10]}").contains { $0.keyPath == "sweep.presets" && $0.message.contains("'grid' or 'targets'") })
    }
}

/// `warmup:` and `cooldown:`.
@Suite struct MeasurementWindowReaderTests {
    @Test func readsDurationsAndRequestCounts() throws {
        let s = try parse("target: http://127.0.0.1:8000\nusers: 2\nrun_time: 60s\nwarmup: 10s\ncooldown: 5s\ntasks: [{path: /a}]")
        #expect(s.measurement == MeasurementWindow(warmup: .duration(.seconds(10)), cooldown: .seconds(5)))
        let c = try parse("target: http://127.0.0.1:8000\nusers: 2\nrun_time: 60s\nwarmup: {requests: 500}\ntasks: [{path: /a}]")
        #expect(c.measurement.warmup == .requests(500))
        #expect(try parse("target: http://127.0.0.1:8000\nusers: 2\ntasks: [{path: /a}]").measurement.isEmpty)
    }

    @Test(arguments: [
        ("warmup: soon", "test.yaml:4:9: error: warmup: expected a duration"),
        ("warmup: {requests: 0}", "test.yaml:4:20: error: warmup.requests: must be at least 1"),
        ("warmup: {reqs: 5}", "test.yaml:4:10: error: warmup.reqs: unknown key 'reqs'"),
        ("cooldown: {requests: 5}", "test.yaml:4:11: error: cooldown: expected a duration such as 30s"),
        ("warmup: 40s\ncooldown: 20s", "error: cooldown: warm-up (40s) and cool-down (20s) leave nothing of the run's 1m to measure"),
        ("warmup: 60s", "error: warmup: the warm-up (1m) is as long as the run (1m)"),
    ])
    func badWindowsSayWhereAndWhy(_ yaml: String, _ message: String) {
        let found = issues("target: http://127.0.0.1:8000\nusers: 2\nrun_time: 60s\n\(yaml)\ntasks: [{path: /a}]").map(\.description)
        #expect(found.contains { $0.contains(message) }, "\(found)")
    }
}

/// Weights of tasks, models in a weighted list and split targets are at most 1,000,000: the
/// pickers add them up in `Int`, and two weights near `Int.max` trapped when the run began.
@Suite struct WeightBoundTests {
    static let head = "target: http://127.0.0.1:9\nusers: 1\nprompts: prompts/sample-prompts.txt\n"

    @Test(arguments: [
        ("tasks: [{path: /a, weight: 9223372036854775807}, {path: /b, weight: 1}]", "tasks[0].weight", 4,
         "must be at most 1000000, found 9223372036854775807"),
        ("tasks: [{path: /a}, {path: /b, weight: 1_000_001}]", "tasks[1].weight", 4, "must be at most 1000000, found 1000001"),
        ("tasks: [{kind: openai-completions, model: [{name: a, weight: 9223372036854775807}, b]}]", "tasks[0].model[0].weight", 4,
         "must be at most 1000000"),
    ])
    func weightsPastTheBoundAreErrorsAtTheirLineAndKey(_ yaml: String, _ key: String, _ line: Int, _ words: String) {
        let found = issues(Self.head + yaml)
        #expect(found.count == 1, "\(found.map(\.description))")
        #expect(found.first?.keyPath == key, "\(found.map(\.description))")
        #expect(found.first?.line == line, "\(found.map(\.description))")
        #expect(found.first?.message.contains(words) == true, "\(found.map(\.description))")
    }

    @Test func weightsAtTheBoundAreReadAndPicked() throws {
        let s = try parse(Self.head + """
        tasks:
          - {path: /a, weight: 1_000_000}
          - {path: /b, weight: 1000000}
          - {name: gen, kind: openai-completions, model: [{name: a, weight: 1000000}, {name: b, weight: 1000000}]}
        """)
        #expect(s.tasks.map(\.weight) == [1_000_000, 1_000_000, 1])
        #expect(s.tasks[2].models.map(\.weight) == [1_000_000, 1_000_000])
        let picker = TaskPicker(weights: s.tasks.map(\.weight))
        var rng = SeededRandom(seed: 7)
        let picked = Set((0..<200).map { _ in picker.pick(&rng) })
        #expect(picked.isSuperset(of: [0, 1]), "\(picked)")
    }
}

/// Counts and rates a run, its engine or its prompts are built from have upper bounds: past them,
/// values the reader accepted overflowed, trapped, allocated without end or hung once the run
/// began (a probe of every numeric key with 2^63-1, 2^62 and 1e300 found each of these).
@Suite struct RunBoundTests {
    /// The head of a closed or an open scenario: the load key comes after it.
    static let closed = "target: http://127.0.0.1:9\nrun_time: 2s\ntasks: [{path: /a}]\n"
    static let open = closed
    static let engine = "target: embedded\nrun_time: 2s\ntasks: [{name: p, kind: predict, json: {input: x}}]\nengine:\n  batching: seed\n"
    static let big = "9223372036854775807"

    @Test(arguments: [
        (closed + "users: \(big)", "users", "must be at most 1000000"),
        (closed + "stages: [{duration: 2s, users: \(big)}]", "stages[0].users", "must be at most 1000000"),
        (open + "arrival: {rate: 5, max_in_flight: \(big)}", "arrival.max_in_flight", "must be at most 1000000"),
        (open + "arrival: {rate: 5, max_queue: \(big)}", "arrival.max_queue", "must be at most 100000000"),
        (open + "arrival: {rate: 1e300}", "arrival.rate", "must be at most 10000000"),
        (open + "arrival: {rate: 5, process: gamma, burstiness: 1e-300}", "arrival.burstiness", "must be at least 0.01"),
        ("target: http://127.0.0.1:9\ntasks: [{path: /a}]\narrival: {stages: [{duration: 2s, rate: 1e300}]}", "arrival.stages[0].rate", "must be at most 10000000"),
        (closed + "prompts: {synthetic: {count: 2, input_tokens: \(big)}}", "prompts.synthetic.input_tokens", "must be at most 1000000"),
        (closed + "prompts: {synthetic: {count: 2, input_tokens: {fixed: 1000001}}}", "prompts.synthetic.input_tokens.fixed", "must be at most 1000000"),
        (closed + "prompts: {synthetic: {count: 2, input_tokens: {normal: {mean: 8, stddev: 1e300}}}}", "prompts.synthetic.input_tokens.normal.stddev", "must be at most 1000000"),
        (closed + "prompts: {synthetic: {input_tokens: 200000}}", "prompts.synthetic", "count (1000, the default) x input_tokens"),
        (open + "arrival: {start_rate: 1e300, stages: [{duration: 2s, rate: 5}]}", "arrival.start_rate", "must be at most 10000000"),
        (open + "arrival: {rate: 5, process: gamma, burstiness: 1001}", "arrival.burstiness", "must be at most 1000"),
        (engine + "arrival: {rate: 5}\nsweep: {grid: {max_batch_size: [4097]}, rates: [5]}", "sweep.grid.max_batch_size[0]", "must be at most 4096"),
        (closed + "prompts: {synthetic: {count: 2, input_tokens: {uniform: [1, \(big)]}}}", "prompts.synthetic.input_tokens.uniform", "must be at most 1000000"),
        (closed + "prompts: {synthetic: {count: 2, input_tokens: {normal: {mean: 1e300}}}}", "prompts.synthetic.input_tokens.normal.mean", "must be at most 1000000"),
        (closed + "prompts: {synthetic: {count: \(big)}}", "prompts.synthetic.count", "must be at most 1000000"),
        (closed + "prompts: {synthetic: {count: 1000, input_tokens: 1000000}}", "prompts.synthetic", "tokens of prompt text in all"),
        (engine + "  presets: [{name: seed, max_batch_size: \(big)}]", "engine.presets[0]", "maxBatchSize must be at most 4096"),
        (engine + "  presets: [{name: seed, instance_count: \(big)}]", "engine.presets[0]", "instanceCount must be at most 1024"),
        (engine + "  presets: [{name: seed, priority_levels: \(big), default_priority_level: \(big)}]", "engine.presets[0]", "priorityLevels must be at most 1000"),
        (engine + "  predict_output_tokens: \(big)", "engine.predict_output_tokens", "must be at most 1000000"),
        (engine + "  scheduler: continuous\n  max_num_batched_tokens: \(big)", "engine.max_num_batched_tokens", "must be at most 10000000"),
        (engine + "  scheduler: continuous\n  max_num_seqs: \(big)", "engine.max_num_seqs", "must be at most 65536"),
        (engine + "users: 1\nsweep: {presets: [seed], concurrency: [\(big)]}", "sweep.concurrency[0]", "must be at most 1000000"),
        (engine + "arrival: {rate: 5}\nsweep: {presets: [seed], rates: [1e300]}", "sweep.rates[0]", "must be at most 10000000"),
        (engine + "arrival: {rate: 5}\nsweep: {presets: [seed], rates: [5], stable: {windows: \(big)}}", "sweep.stable.windows", "must be at most 1000"),
        (engine + "arrival: {rate: 5}\nsweep: {grid: {instance_count: [\(big)]}, rates: [5]}", "sweep.grid.instance_count[0]", "must be at most 1024"),
    ])
    func valuesPastTheBoundAreErrorsNamingTheKey(_ yaml: String, _ key: String, _ words: String) {
        let found = issues(yaml)
        #expect(found.contains { $0.keyPath == key && $0.message.contains(words) }, "\(found.map(\.description))")
    }

    @Test func valuesAtTheBoundAreRead() throws {
        let s = try parse(Self.closed + "users: 1000000\nprompts: {synthetic: {count: 8, input_tokens: {normal: {mean: 1000000, stddev: 1000000}}}}")
        #expect(s.prompts.count == 8)
        // Draws past the bound are clamped to it: the longest prompt is exactly 1,000,000 tokens
        // of 4 bytes (about half the draws are past it; one unclamped would be longer).
        #expect(s.prompts.map(\.utf8.count).max() == 4_000_000)
        #expect(s.prompts.allSatisfy { !$0.isEmpty })
        let o = try parse(Self.open + "arrival: {rate: 10000000, process: gamma, burstiness: 0.01, max_in_flight: 1000000, max_queue: 100000000}")
        guard case .open(let load) = o.load else { Issue.record("not open: \(o.load)"); return }
        #expect(load.maxInFlight == 1_000_000)
        #expect(load.maxQueue == 100_000_000)
    }
}
