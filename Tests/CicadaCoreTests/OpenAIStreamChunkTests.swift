import Testing
@testable import CicadaCore

@Suite struct OpenAIStreamChunkTests {
    typealias Usage = OpenAIStreamChunk.Usage

    static let cases: [(String, OpenAIStreamChunk)] = [
        // vLLM /v1/completions chunk.
        (#"{"id":"cmpl-8f2","object":"text_completion","created":1715000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"text":" Paris","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}"#,
         OpenAIStreamChunk.choices(content: " Paris", finishReason: nil, usage: nil)),
        // vLLM chat: the role-only first chunk has empty content.
        (#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1715000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
         .choices(content: "", finishReason: nil, usage: nil)),
        // OpenAI chat: role-only first chunk with a refusal field and no text.
        (#"{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
         .choices(content: "", finishReason: nil, usage: nil)),
        (#"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#, .choices(content: "", finishReason: nil, usage: nil)),
        (#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}"#,
         .choices(content: "Hello", finishReason: nil, usage: nil)),
        // The finishing chunk: an empty delta and a finish reason.
        (#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
         .choices(content: "", finishReason: "stop", usage: nil)),
        // include_usage final chunk: empty choices and usage.
        (#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}"#,
         .usage(Usage(promptTokens: 12, completionTokens: 34, totalTokens: 46))),
        // Completions usage chunk without a choices key, with a field missing.
        (#"{"id":"cmpl-1","object":"text_completion","usage":{"prompt_tokens":5,"completion_tokens":3}}"#,
         .usage(Usage(promptTokens: 5, completionTokens: 3, totalTokens: nil))),
        // vLLM continuous_usage_stats: usage on every choices chunk.
        (#"{"choices":[{"index":0,"text":"a","finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#,
         .choices(content: "a", finishReason: nil, usage: Usage(promptTokens: 5, completionTokens: 1, totalTokens: 6))),
        // n=2: the text of every choice, the first finish reason any choice has.
        (#"{"choices":[{"index":0,"text":"a","finish_reason":null},{"index":1,"text":"b","finish_reason":"length"}]}"#,
         .choices(content: "ab", finishReason: "length", usage: nil)),
        // JSON escapes, surrogate pairs, raw CJK.
        (#"{"choices":[{"index":0,"delta":{"content":"\ud83d\ude00 \u4e2d\n中"}}]}"#,
         .choices(content: "😀 中\n中", finishReason: nil, usage: nil)),
        ("[DONE]", .done),
        (" [DONE] ", .done),
        // vLLM's in-stream error (wrapped), older vLLM's unwrapped ErrorResponse, a bare string.
        (#"{"error":{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}}"#,
         .error("max_tokens is too large")),
        (#"{"object":"error","message":"boom","type":"InternalServerError","param":null,"code":500}"#, .error("boom")),
        (#"{"error":"overloaded"}"#, .error("overloaded")),
        (#"{"error":{"code":503}}"#, .error(#"{"code":503}"#)),
        // JSON of another shape: ignored.
        ("{}", .other),
        ("[1,2]", .other),
        (#"{"choices":[]}"#, .other),
        (#"{"choices":[],"usage":null,"error":null}"#, .other),
        // Not JSON at all: the stream is invalid (the start of the data kept for the message).
        ("not json", .notJSON("not json")),
        ("", .notJSON("")),
        (#"{"choices":[{"index":0,"text":"a"}"#, .notJSON(#"{"choices":[{"index":0,"text":"a"}"#)),
        ("[DONE]x", .notJSON("[DONE]x")),
        ("a\nb\u{1}", .notJSON("a\\nb\\u{1}")),
    ]

    @Test(arguments: cases)
    func classifies(_ data: String, _ expected: OpenAIStreamChunk) {
        #expect(OpenAIStreamChunk.classify(data) == expected)
    }

    @Test func usageCountsMustBeNonNegativeIntegers() {
        let c = OpenAIStreamChunk.classify(#"{"choices":[],"usage":{"prompt_tokens":1.5,"completion_tokens":-1,"total_tokens":"9"}}"#)
        #expect(c == .usage(Usage()))
    }

    @Test func aLongNonJSONEventIsCutForTheMessage() {
        let data = String(repeating: "x", count: 200)
        #expect(OpenAIStreamChunk.classify(data) == .notJSON(String(repeating: "x", count: OpenAIStreamChunk.excerptLength) + "…"))
    }

    /// `event: error` makes an event an error whatever its data; other event types are read by
    /// their data alone.
    @Test func anErrorEventTypeIsAnError() {
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "error", data: #"{"message":"Overloaded","type":"server_error","code":503}"#)) == .error("Overloaded"))
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "error", data: #"{"error":{"message":"boom"}}"#)) == .error("boom"))
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "error", data: "upstream timed out")) == .error("upstream timed out"))
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "error", data: #"{"code":503}"#)) == .error(#"{"code":503}"#))
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "error", data: "[DONE]")) == .error("[DONE]"))
        let chunk = #"{"choices":[{"index":0,"text":"a","finish_reason":null}]}"#
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "message", data: chunk)) == .choices(content: "a", finishReason: nil, usage: nil))
        #expect(OpenAIStreamChunk.classify(SSEEvent(event: "Error", data: chunk)) == .choices(content: "a", finishReason: nil, usage: nil))
        #expect(OpenAIStreamChunk.classify(SSEEvent(data: "[DONE]")) == .done)
    }

    @Test func classifiesEveryEventOfAParsedChatStream() {
        let events = sseEvents(SSEFixture.chat).events
        #expect(events.map { OpenAIStreamChunk.classify($0.data) } == [
            .choices(content: "", finishReason: nil, usage: nil),
            .choices(content: "Hi", finishReason: nil, usage: nil),
            .choices(content: "!", finishReason: "stop", usage: nil),
            .usage(Usage(promptTokens: 7, completionTokens: 2, totalTokens: 9)),
            .done,
        ])
    }
}
