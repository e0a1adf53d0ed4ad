import CicadaCore
import Testing
@testable import CicadaScenario

/// `consistency:` (the probe) and the diagnoses keys of its rule and the memory rule.
@Suite struct ConsistencyKeysTests {
    static let chat = "target: http://127.0.0.1:8000\ntasks: [{name: c, kind: openai-chat, model: deepseek-llm-7b, prompt: hi}]\n"

    @Test func everyTakesKindAndModelFromTheFirstLLMTask() throws {
        let s = try parse(Self.chat + "consistency: {every: 100, prompt: \"What is 2+2?\"}")
        let c = try #require(s.consistency)
        #expect(c.cadence == .everyRequests(100))
        #expect(c.kind == .openAIChat && c.model == "deepseek-llm-7b" && c.path == "/v1/chat/completions")
        #expect(c.temperature == 0 && c.maxTokens == 64 && c.prompt == "What is 2+2?")
    }

    /// The default model is a weighted list's first entry, in either form; a templated name
    /// is no one model, so the probe sends "default".
    @Test(arguments: [
        ("[deepseek-llm-7b, llama-3-8b]", "deepseek-llm-7b"),
        ("[{name: llama-3-8b, weight: 3}, {name: deepseek-llm-7b, weight: 1}]", "llama-3-8b"),
        ("\"m-{{user}}\"", "default"),
        // A list's names are sent as written, braces and all, by the tasks and the probe alike.
        ("[\"m-{{x}}\", b]", "m-{{x}}"),
    ])
    func theDefaultModelIsTheFirstOfAWeightedList(_ model: String, _ expected: String) throws {
        let s = try parse("target: http://127.0.0.1:8000\ntasks: [{name: c, kind: openai-chat, model: \(model), prompt: hi}]\n"
            + "consistency: {every: 10, prompt: p}")
        #expect(try #require(s.consistency).model == expected)
    }

    @Test func intervalAndEveryKeyGiven() throws {
        let s = try parse("target: http://127.0.0.1:8000\ntasks: [{path: /health}]\n"
            + "consistency: {interval: 10s, prompt: p, kind: openai-completions, model: m, temperature: 0.2, max_tokens: 16, path: /v2/completions}")
        let c = try #require(s.consistency)
        #expect(c.cadence == .interval(.seconds(10)))
        #expect(c.kind == .openAICompletions && c.model == "m" && c.path == "/v2/completions" && c.temperature == 0.2 && c.maxTokens == 16)
        #expect(try parse(Self.chat).consistency == nil)
    }

    @Test func badProbesNameTheFileLineAndKey() {
        func errors(_ block: String) -> [String] { issues(Self.chat + block).map(\.description) }
        let both = errors("consistency: {every: 10, interval: 5s, prompt: p}")
        #expect(both.contains { $0.hasPrefix("test.yaml:3:") && $0.contains("consistency.interval: give either 'every' (requests) or 'interval'") }, "\(both)")
        let neither = errors("consistency: {prompt: p}")
        #expect(neither.contains { $0.contains("consistency: needs 'every'") }, "\(neither)")
        let zero = errors("consistency: {every: 0, prompt: p}")
        #expect(zero.contains { $0.hasPrefix("test.yaml:3:") && $0.contains("consistency.every: must be at least 1, found 0") }, "\(zero)")
        let noPrompt = errors("consistency: {every: 10}")
        #expect(noPrompt.contains { $0.contains("consistency.prompt: missing required key 'prompt'") }, "\(noPrompt)")
        let kind = errors("consistency: {every: 10, prompt: p, kind: predict}")
        #expect(kind.contains { $0.contains("consistency.kind: the probe cannot speak 'predict'") }, "\(kind)")
        let typo = errors("consistency: {every: 10, prompt: p, temprature: 0}")
        #expect(typo.contains { $0.contains("consistency.temprature: unknown key") && $0.contains("did you mean 'temperature'?") }, "\(typo)")
        let negative = errors("consistency: {every: 10, prompt: p, temperature: -1}")
        #expect(negative.contains { $0.contains("consistency.temperature: must not be negative") }, "\(negative)")
        // No task the probe can speak, and no kind given.
        let http = issues("target: http://127.0.0.1:8000\ntasks: [{path: /a}]\nconsistency: {every: 10, prompt: p}").map(\.description)
        #expect(http.contains { $0.contains("consistency.kind: no task is of a kind the probe can speak") }, "\(http)")
    }

    @Test func diagnosesKeysForMemoryAndInconsistency() throws {
        let s = try parse(Self.chat + "diagnoses: {memory: 85%, inconsistent: 10%, off: [inconsistent_outputs]}")
        #expect(s.diagnosisLimits.memoryFraction == 0.85 && s.diagnosisLimits.inconsistentFraction == 0.1)
        #expect(s.diagnosisLimits.off == ["inconsistent_outputs"])
        let bad = issues(Self.chat + "diagnoses: {memory: 2}").map(\.description)
        #expect(bad.contains { $0.contains("diagnoses.memory: expected a fraction such as 0.9 or 90%, found '2'") }, "\(bad)")
    }
}
