import CicadaEngine
import Testing

@Suite struct EngineRequestTests {
    func read(_ method: String, _ uri: String, _ body: String = "") -> Result<EngineRequest, EngineRequestError> {
        do { return .success(try EngineRequest.read(method: method, uri: uri, body: Array(body.utf8))) } catch { return .failure(error) }
    }

    func status(_ method: String, _ uri: String, _ body: String = "") -> Int? {
        if case .failure(let e) = read(method, uri, body) { return e.status }
        return nil
    }

    @Test func routesByMethodAndPathIgnoringTheQuery() throws {
        #expect(try read("GET", "/health").get() == .health)
        #expect(try read("GET", "/health/ready?verbose=1").get() == .ready)
        #expect(try read("GET", "/metrics").get() == .metrics)
        #expect(try read("GET", "/admin/batching").get() == .admin(put: nil))
        #expect(try read("PUT", "/admin/batching", "{}").get() == .admin(put: Array("{}".utf8)))
        #expect(status("DELETE", "/predict") == 405)
        #expect(status("GET", "/predict") == 405)
        #expect(status("GET", "/nope") == 404)
        #expect(status("GET", "") == 404)
        #expect(status("GET", "?") == 404)
    }

    @Test func predictReadsInputPriorityAndTimeout() throws {
        #expect(try read("POST", "/predict", #"{"input": "hi", "priority": 2, "timeout_us": 1500}"#).get()
            == .predict(input: "hi", priority: 2, timeoutMicros: 1500))
        #expect(try read("POST", "/predict", #"{"input": ""}"#).get() == .predict(input: "", priority: nil, timeoutMicros: nil))
        #expect(status("POST", "/predict", #"{"inputs": "hi"}"#) == 400)
        #expect(status("POST", "/predict", #"["hi"]"#) == 400)
        #expect(status("POST", "/predict", "") == 400)
        #expect(status("POST", "/predict", #"{"input": "x", "priority": 1.5}"#) == 400)
        #expect(status("POST", "/predict", #"{"input": "x", "priority": -1}"#) == 400)
    }

    /// These numbers used to reach `Int(n)` / `UInt64(n)` unchecked: a body with
    /// `"priority": 1e300` trapped the whole engine (found while building the fuzz target).
    @Test func hugeNumbersAreRefusedNotATrap() {
        #expect(status("POST", "/predict", #"{"input": "x", "priority": 1e300}"#) == 400)
        #expect(status("POST", "/predict", #"{"input": "x", "timeout_us": 1e30}"#) == 400)
        #expect(status("POST", "/predict", #"{"input": "x", "timeout_us": 86400000001}"#) == 400)
        #expect(status("POST", "/v1/completions", #"{"prompt": "x", "max_tokens": 1e300}"#) == 400)
    }

    @Test func completionsReadPromptTokensStreamAndModel() throws {
        let r = try read("POST", "/v1/completions", #"{"prompt": ["p"], "max_tokens": 8, "stream": true, "stream_options": {"include_usage": true}, "temperature": 0.5}"#).get()
        guard case .completion(let c) = r else { Issue.record("not a completion: \(r)"); return }
        #expect(c.chat == false && c.input == "p" && c.maxTokens == 8 && c.stream && c.includeUsage && c.model == nil)
        #expect(c.parameters == ["max_tokens": "8", "temperature": "0.5"])
        #expect(status("POST", "/v1/completions", #"{"prompt": ["a", "b"]}"#) == 400)
        #expect(status("POST", "/v1/completions", #"{"prompt": [1]}"#) == 400)
        #expect(status("POST", "/v1/completions", #"{"prompt": "p", "max_tokens": 0}"#) == 400)
    }

    @Test func chatJoinsMessagesAndNeedsStringContent() throws {
        let r = try read("POST", "/v1/chat/completions", #"{"model": "m", "messages": [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}], "max_completion_tokens": 3}"#).get()
        guard case .completion(let c) = r else { Issue.record("not a completion: \(r)"); return }
        #expect(c.chat && c.input == "a\nb\n" && c.maxTokens == 3 && c.model == "m" && !c.stream)
        #expect(status("POST", "/v1/chat/completions", #"{"messages": []}"#) == 400)
        #expect(status("POST", "/v1/chat/completions", #"{"messages": [{"content": ["x"]}]}"#) == 400)
    }

    @Test func batchingBodyIsDecodedAndValidated() throws {
        let c = try EngineRequest.batching(from: Array(#"{"maxBatchSize": 8, "preferredBatchSizes": [4, 8], "maxQueueDelayMicros": 2000}"#.utf8))
        #expect(c.maxBatchSize == 8 && c.maxQueueDelayMicros == 2000)
        #expect(throws: EngineRequestError.self) { try EngineRequest.batching(from: Array(#"{"maxBatchSize": 0}"#.utf8)) }
        #expect(throws: EngineRequestError.self) { try EngineRequest.batching(from: Array("nope".utf8)) }
    }

    /// Admin access: loopback without a token set; anyone only with the exact token when set.
    @Test func adminAccessRule() {
        #expect(EngineRequest.adminRefusal(remoteIP: "127.0.0.1", authorization: nil, token: nil) == nil)
        #expect(EngineRequest.adminRefusal(remoteIP: "::1", authorization: nil, token: nil) == nil)
        #expect(EngineRequest.adminRefusal(remoteIP: "10.0.0.5", authorization: nil, token: nil)?.status == 403)
        #expect(EngineRequest.adminRefusal(remoteIP: nil, authorization: nil, token: nil)?.status == 403)
        #expect(EngineRequest.adminRefusal(remoteIP: "10.0.0.5", authorization: "Bearer k", token: "k") == nil)
        #expect(EngineRequest.adminRefusal(remoteIP: "10.0.0.5", authorization: "Bearer kk", token: "k")?.status == 401)
        #expect(EngineRequest.adminRefusal(remoteIP: "127.0.0.1", authorization: "Bearer ", token: "k")?.status == 401)
        #expect(EngineRequest.adminRefusal(remoteIP: "127.0.0.1", authorization: nil, token: "k")?.status == 401)
    }

    func error(_ method: String, _ uri: String, _ body: String = "") -> EngineRequestError? {
        if case .failure(let e) = read(method, uri, body) { return e }
        return nil
    }

    @Test func modelsVersionAndOneModelByID() throws {
        #expect(try read("GET", "/v1/models").get() == .models)
        #expect(try read("GET", "/v1/models?limit=20").get() == .models)
        #expect(try read("GET", "/version").get() == .version)
        #expect(try read("GET", "/v1/models/deepseek-llm-7b").get() == .model(id: "deepseek-llm-7b"))
        // Hugging Face style ids: unescaped or percent-encoded, the same id.
        #expect(try read("GET", "/v1/models/org/name").get() == .model(id: "org/name"))
        #expect(try read("GET", "/v1/models/org%2Fname").get() == .model(id: "org/name"))
        #expect(status("POST", "/v1/models") == 405)
        #expect(status("DELETE", "/v1/models/x") == 405)
        #expect(status("POST", "/version") == 405)
        #expect(status("GET", "/v1/models/") == 404)
    }

    @Test func messagesReadModelMaxTokensSystemAndContentBlocks() throws {
        let r = try read("POST", "/v1/messages", #"""
            {"model": "claude-x", "max_tokens": 12, "stream": true, "system": "be brief", "temperature": 0.2,
             "messages": [{"role": "user", "content": "hi"},
                          {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
                          {"role": "user", "content": [{"type": "text", "text": "again"}, {"type": "image", "source": {}}]}]}
            """#).get()
        guard case .messages(let m) = r else { Issue.record("not a messages request: \(r)"); return }
        #expect(m.model == "claude-x" && m.maxTokens == 12 && m.stream)
        #expect(m.input == "be brief\nhi\nhello\nagain\n")
        #expect(m.parameters == ["max_tokens": "12", "temperature": "0.2"])
        let plain = try read("POST", "/v1/messages", #"{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}], "system": [{"type": "text", "text": "s"}]}"#).get()
        guard case .messages(let p) = plain else { Issue.record("not a messages request: \(plain)"); return }
        #expect(!p.stream && p.input == "s\nx\n")
    }

    /// Anthropic's required fields and its error body for every refusal of the endpoint.
    @Test func messagesRefusalsAreAnthropicShaped() {
        let ok = #""messages": [{"role": "user", "content": "x"}]"#
        let cases: [(String, String)] = [
            (#"{"max_tokens": 5, \#(ok)}"#, "model: Field required"),
            (#"{"model": "m", \#(ok)}"#, "max_tokens: Field required"),
            (#"{"model": "m", "max_tokens": 0, \#(ok)}"#, "max_tokens: must be a positive integer"),
            (#"{"model": "m", "max_tokens": 1e300, \#(ok)}"#, "max_tokens: must be a positive integer"),
            (#"{"model": "m", "max_tokens": 5}"#, "messages: Field required"),
            (#"{"model": "m", "max_tokens": 5, "messages": []}"#, "messages: Input should be a non-empty list"),
            (#"{"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}"#, "messages.0.role"),
            (#"{"model": "m", "max_tokens": 5, "messages": [{"role": "user"}]}"#, "messages.0.content: Field required"),
            (#"{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text"}]}]}"#, "messages.0.content.0.text"),
            (#"{"model": "m", "max_tokens": 5, "stream": "yes", \#(ok)}"#, "stream:"),
            (#"{"model": "m", "max_tokens": 5, "system": 3, \#(ok)}"#, "system:"),
            ("[]", "body is not a JSON object"),
        ]
        for (body, message) in cases {
            let e = error("POST", "/v1/messages", body)
            #expect(e?.status == 400, "\(body)")
            #expect(e?.shape == .anthropic, "\(body)")
            #expect(e?.message.hasPrefix(message) == true, "\(body): \(String(describing: e?.message))")
        }
        #expect(error("GET", "/v1/messages")?.shape == .anthropic)
        #expect(error("GET", "/v1/messages")?.status == 405)
        #expect(error("POST", "/v1/messages/batches")?.shape == .anthropic)
        #expect(error("POST", "/v1/completions", "{}")?.shape == .openAI)
        #expect(error("GET", "/nope")?.shape == .openAI)
    }
}
