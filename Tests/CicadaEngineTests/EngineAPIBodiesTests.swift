import CicadaCore
import CicadaEngine
import Foundation
import Testing

/// The JSON the engine answers with, parsed back as a client would.
@Suite struct EngineAPIBodiesTests {
    func object(_ s: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any], "not a JSON object: \(s)")
    }

    @Test func openAIErrorBodyHasVLLMsFourFieldsWithANumericCode() throws {
        let o = try object(ErrorBody.openAI(status: 404, message: "The model `x` does not exist."))
        let e = try #require(o["error"] as? [String: Any])
        #expect(e["message"] as? String == "The model `x` does not exist.")
        #expect(e["type"] as? String == "NotFoundError")
        #expect(e["param"] is NSNull)
        #expect(e["code"] as? Int == 404)
        #expect(Set(e.keys) == ["message", "type", "param", "code"])
        #expect(ErrorBody.openAIType(status: 400) == "BadRequestError")
        #expect(ErrorBody.openAIType(status: 422) == "BadRequestError")
        #expect(ErrorBody.openAIType(status: 503) == "ServiceUnavailableError")
        #expect(ErrorBody.openAIType(status: 500) == "InternalServerError")
        #expect(ErrorBody.openAIType(status: 502) == "InternalServerError")
    }

    @Test func anthropicErrorBodyHasItsTypeTable() throws {
        let o = try object(ErrorBody.json(status: 400, message: "max_tokens: Field required", shape: .anthropic))
        #expect(o["type"] as? String == "error")
        let e = try #require(o["error"] as? [String: Any])
        #expect(e["type"] as? String == "invalid_request_error")
        #expect(e["message"] as? String == "max_tokens: Field required")
        let table: [(Int, String)] = [(401, "authentication_error"), (403, "permission_error"), (404, "not_found_error"),
                                      (405, "invalid_request_error"), (413, "request_too_large"), (429, "rate_limit_error"),
                                      (500, "api_error"), (503, "overloaded_error"), (504, "timeout_error"), (507, "api_error")]
        for (status, type) in table { #expect(ErrorBody.anthropicType(status: status) == type, "\(status)") }
    }

    @Test func errorShapeFollowsThePath() {
        #expect(ErrorShape.of(path: "/v1/messages") == .anthropic)
        #expect(ErrorShape.of(path: "/v1/messages?beta=true") == .anthropic)
        #expect(ErrorShape.of(path: "/v1/messages/count_tokens") == .anthropic)
        #expect(ErrorShape.of(path: "/v1/messagesX") == .openAI)
        #expect(ErrorShape.of(path: "/v1/chat/completions") == .openAI)
    }

    @Test func modelsListReadsAsVLLMsAndAnthropicsList() throws {
        let o = try object(ModelsBody.list(ids: ["deepseek-llm-7b"], created: 1_767_323_045, maxModelLen: 1_000_000))
        #expect(o["object"] as? String == "list")
        #expect(o["has_more"] as? Bool == false)
        #expect(o["first_id"] as? String == "deepseek-llm-7b" && o["last_id"] as? String == "deepseek-llm-7b")
        let data = try #require(o["data"] as? [[String: Any]])
        #expect(data.count == 1)
        let m = data[0]
        #expect(m["id"] as? String == "deepseek-llm-7b" && m["root"] as? String == "deepseek-llm-7b")
        #expect(m["object"] as? String == "model" && m["type"] as? String == "model")
        #expect(m["owned_by"] as? String == "cicada" && m["parent"] is NSNull)
        #expect(m["created"] as? Int == 1_767_323_045 && m["max_model_len"] as? Int == 1_000_000)
        #expect(m["created_at"] as? String == "2026-01-02T03:04:05Z")
        #expect(m["display_name"] as? String == "deepseek-llm-7b")
        #expect(try object(ModelsBody.version("1.2.3"))["version"] as? String == "1.2.3")
    }

    @Test func openAIUsageHasCachedTokens() throws {
        let u = try object(OpenAIUsage.json(promptTokens: 7, completionTokens: 3, cachedTokens: 7))
        #expect(u["prompt_tokens"] as? Int == 7 && u["completion_tokens"] as? Int == 3 && u["total_tokens"] as? Int == 10)
        #expect((u["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 7)
    }

    @Test func anthropicMessageAndUsageCountCachedInputApart() throws {
        let m = try object(AnthropicBody.message(id: "msg_1", model: "m", text: "a b", inputTokens: 9, cachedTokens: 9, outputTokens: 2))
        #expect(m["type"] as? String == "message" && m["role"] as? String == "assistant" && m["model"] as? String == "m")
        #expect(m["stop_reason"] as? String == "max_tokens" && m["stop_sequence"] is NSNull)
        let content = try #require(m["content"] as? [[String: Any]])
        #expect(content.count == 1 && content[0]["type"] as? String == "text" && content[0]["text"] as? String == "a b")
        let u = try #require(m["usage"] as? [String: Any])
        #expect(u["input_tokens"] as? Int == 0 && u["cache_read_input_tokens"] as? Int == 9 && u["output_tokens"] as? Int == 2)
    }

    /// The engine's own stream, parsed and classified as the load generator does: every event
    /// is JSON of its type, the text deltas are the tokens, usage and the end are reported.
    @Test func anthropicStreamEventsClassifyAsAValidStream() throws {
        let body = AnthropicBody.streamStart(id: "msg_1", model: "m", inputTokens: 5)
            + AnthropicBody.textDelta("a") + AnthropicBody.textDelta(" b") + AnthropicBody.textDelta(" c")
            + AnthropicBody.streamEnd(inputTokens: 5, outputTokens: 3)
        var parser = SSEParser()
        var events: [SSEEvent] = []
        parser.feed(Array(body.utf8)) { events.append($0) }
        #expect(events.map { $0.event ?? "" } == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                                                  "content_block_delta", "content_block_stop", "message_delta", "message_stop"])
        for e in events { #expect((try object(e.data))["type"] as? String == e.event) }
        var t = StreamTiming(sentNanos: 0, dialect: .anthropic)
        for (i, e) in events.enumerated() { t.record(AnthropicStreamEvent.classify(e), atNanos: UInt64(i + 1) * 1000) }
        #expect(t.invalidReason(bodyBytes: UInt64(body.utf8.count), discardedIncompleteEvent: false) == nil)
        #expect(t.outputTokens == 3 && t.outputTokensFromUsage && t.usage?.promptTokens == 5)
        #expect(t.ttftNanos == 4000 && t.interChunkNanos == [1000, 1000])
        let err = AnthropicBody.streamError(status: 503, message: "engine overloaded")
        var ep = SSEParser()
        var got: OpenAIStreamChunk?
        ep.feed(Array(err.utf8)) { got = AnthropicStreamEvent.classify($0) }
        #expect(got == .error("engine overloaded"))
    }
}
