import CicadaCore
import CicadaEngine
import CicadaEngineServer
import Foundation
import Testing

/// The engine's OpenAI surface as vLLM serves it and its Anthropic Messages API, over HTTP
/// with no client library (ClientCompatTests drives the same with the real ones).
@Suite(.serialized) struct EngineAPITests {
    func dict(_ v: Any?) -> [String: Any] { v as? [String: Any] ?? [:] }

    @Test func modelsAndVersionAnswerAsVLLM() throws {
        try withEngine { e in
            let list = try http("GET", e.baseURL + "/v1/models")
            #expect(list.status == 200 && list.headers["content-type"] == "application/json")
            let l = json(list.body)
            #expect(l["object"] as? String == "list")
            let data = try #require(l["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data.first?["id"] as? String == "deepseek-llm-7b" && data.first?["root"] as? String == "deepseek-llm-7b")
            #expect(data.first?["object"] as? String == "model" && data.first?["owned_by"] as? String == "cicada")
            #expect((data.first?["max_model_len"] as? Int ?? 0) > 0)
            let one = try http("GET", e.baseURL + "/v1/models/deepseek-llm-7b")
            #expect(one.status == 200 && json(one.body)["id"] as? String == "deepseek-llm-7b")
            let missing = try http("GET", e.baseURL + "/v1/models/gpt-4o")
            #expect(missing.status == 404)
            let err = dict(json(missing.body)["error"])
            #expect(err["message"] as? String == "The model `gpt-4o` does not exist.")
            #expect(err["type"] as? String == "NotFoundError" && err["code"] as? Int == 404 && err["param"] is NSNull)
            let v = try http("GET", e.baseURL + "/version")
            #expect(v.status == 200 && json(v.body)["version"] as? String == CicadaVersion.current)
        }
    }

    /// Every error answer of the OpenAI endpoints has OpenAI's four fields; those of the
    /// Messages API have Anthropic's shape, even before the body is read (413).
    @Test func errorBodiesHaveTheirAPIsShape() throws {
        var config = EngineConfig()
        config.maxBodyBytes = 1024
        try withEngine(config) { e in
            for (method, path, body, status) in [("POST", "/v1/completions", #"{"prompt": 3}"#, 400), ("GET", "/nope", "", 404),
                                                 ("GET", "/v1/chat/completions", "", 405), ("POST", "/predict", "{", 400)] {
                let r = try http(method, e.baseURL + path, body: body.isEmpty ? nil : body)
                #expect(r.status == status, "\(method) \(path)")
                let err = dict(json(r.body)["error"])
                #expect(Set(err.keys) == ["message", "type", "param", "code"], "\(r.body)")
                #expect(err["code"] as? Int == status)
            }
            let big = "{\"model\": \"m\", \"max_tokens\": 1, \"messages\": [{\"role\": \"user\", \"content\": \"" + String(repeating: "x", count: 4096) + "\"}]}"
            for (method, body, status, type) in [("POST", #"{"model": "m", "messages": [{"role": "user", "content": "x"}]}"#, 400, "invalid_request_error"),
                                                 ("GET", "", 405, "invalid_request_error"), ("POST", big, 413, "request_too_large")] {
                let r = try http(method, e.baseURL + "/v1/messages", body: body.isEmpty ? nil : body)
                #expect(r.status == status)
                let o = json(r.body)
                #expect(o["type"] as? String == "error", "\(r.body)")
                #expect(dict(o["error"])["type"] as? String == type, "\(r.body)")
            }
        }
    }

    @Test func messagesAnswerWholeAndFromTheCache() throws {
        try withEngine { e in
            let body = #"{"model": "claude-test", "max_tokens": 6, "messages": [{"role": "user", "content": "hello"}]}"#
            let headers = ["x-api-key": "any", "anthropic-version": "2023-06-01"]
            let first = try http("POST", e.baseURL + "/v1/messages", body: body, headers: headers)
            #expect(first.status == 200)
            let m = json(first.body)
            #expect(m["type"] as? String == "message" && m["role"] as? String == "assistant" && m["model"] as? String == "claude-test")
            #expect((m["id"] as? String ?? "").hasPrefix("msg_"))
            #expect(m["stop_reason"] as? String == "max_tokens")
            let content = m["content"] as? [[String: Any]] ?? []
            #expect(content.count == 1 && content.first?["type"] as? String == "text")
            #expect((content.first?["text"] as? String ?? "").split(separator: " ").count == 6)
            let u = dict(m["usage"])
            #expect(u["output_tokens"] as? Int == 6 && (u["input_tokens"] as? Int ?? 0) > 0 && u["cache_read_input_tokens"] as? Int == 0)
            // The headers are optional.
            let second = json(try http("POST", e.baseURL + "/v1/messages", body: body).body)
            #expect(dict(second["usage"])["cache_read_input_tokens"] as? Int == u["input_tokens"] as? Int)
            #expect(dict(second["usage"])["input_tokens"] as? Int == 0)
            #expect(e.stats.cacheHits == 1)
        }
    }

    @Test func messagesStreamAnthropicsEventsPacedByTheDevice() throws {
        try withEngine { e in
            let clock = ContinuousClock()
            let start = clock.now
            let r = try http("POST", e.baseURL + "/v1/messages",
                             body: #"{"model": "m", "max_tokens": 20, "stream": true, "messages": [{"role": "user", "content": "hi"}]}"#)
            let took = clock.now - start
            #expect(r.status == 200)
            #expect(r.headers["content-type"] == "text/event-stream")
            var parser = SSEParser()
            var events: [SSEEvent] = []
            parser.feed(Array(r.body.utf8)) { events.append($0) }
            let names = events.map { $0.event ?? "" }
            #expect(Array(names.prefix(3)) == ["message_start", "content_block_start", "ping"])
            #expect(names.filter { $0 == "content_block_delta" }.count == 20)
            #expect(Array(names.suffix(3)) == ["content_block_stop", "message_delta", "message_stop"])
            let delta = json(events[names.count - 2].data)
            #expect(dict(delta["usage"])["output_tokens"] as? Int == 20)
            #expect(dict(delta["delta"])["stop_reason"] as? String == "max_tokens")
            // 20 modelled decode steps of a 7B model on an A100 take well over 100 ms.
            #expect(took > .milliseconds(100), "\(took)")
            var t = StreamTiming(sentNanos: 0, dialect: .anthropic)
            for (i, ev) in events.enumerated() { t.record(AnthropicStreamEvent.classify(ev), atNanos: UInt64(i)) }
            #expect(t.invalidReason(bodyBytes: UInt64(r.body.utf8.count), discardedIncompleteEvent: false) == nil)
            #expect(t.outputTokens == 20 && t.outputTokensFromUsage)
        }
    }

    /// An engine failure reaches an Anthropic client in Anthropic's shape (here the modelled
    /// device's out-of-memory 507, as `api_error`).
    @Test func messagesFailuresAreAnthropicShaped() throws {
        try withEngine(EngineConfig(gpu: "A10", model: "deepseek-coder-33b")) { e in
            for stream in [false, true] {
                let r = try http("POST", e.baseURL + "/v1/messages",
                                 body: #"{"model": "m", "max_tokens": 4, "stream": \#(stream), "messages": [{"role": "user", "content": "x"}]}"#)
                #expect(r.status == 507)
                let o = json(r.body)
                #expect(o["type"] as? String == "error")
                #expect(dict(o["error"])["type"] as? String == "api_error")
                #expect((dict(o["error"])["message"] as? String ?? "").contains("CUDA out of memory"))
            }
        }
    }

    /// A scenario's `anthropic-messages` task against `target: embedded`, end to end through
    /// the command: the JSON report's `llm` block has TTFT, ITL and the output tokens from usage.
    @Test func anAnthropicMessagesScenarioReportsTTFTAndITL() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("anthropic.yaml"), report = dir.appendingPathComponent("report.json")
        try """
        name: anthropic-e2e
        target: embedded
        engine: {cache: {enabled: false}}
        users: 4
        spawn_rate: 100
        run_time: 2s
        telemetry: {gpu: none}
        tasks: [{name: msg, kind: anthropic-messages, model: claude-test, prompt: "hello {{uuid}}", max_tokens: 8}]
        """.write(to: file, atomically: true, encoding: .utf8)
        let r = try cicada(["run", file.path, "--json", report.path], limit: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        let llm = dict(o["llm"])
        let completed = llm["completed"] as? Int ?? 0
        #expect(completed > 0, "\(o)")
        #expect(llm["failed"] as? Int == 0)
        #expect(llm["total_output_tokens"] as? Int == 8 * completed)
        #expect(llm["output_tokens_from_usage"] as? Int == completed)
        #expect((llm["total_input_tokens"] as? Int ?? 0) > 0)
        for key in ["mean_ttft_ms", "median_ttft_ms", "mean_itl_ms", "p99_itl_ms", "mean_tpot_ms", "mean_e2el_ms"] {
            #expect((llm[key] as? Double ?? 0) > 0, "\(key): \(String(describing: llm[key]))")
        }
        #expect((llm["mean_ttft_ms"] as? Double ?? 0) < (llm["mean_e2el_ms"] as? Double ?? 0))
    }
}
