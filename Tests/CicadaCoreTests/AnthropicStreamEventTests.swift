import Testing
@testable import CicadaCore

@Suite struct AnthropicStreamEventTests {
    typealias Usage = OpenAIStreamChunk.Usage

    static func ev(_ type: String?, _ data: String) -> SSEEvent { SSEEvent(event: type, data: data) }

    static let cases: [(SSEEvent, OpenAIStreamChunk)] = [
        // message_start: the prompt tokens, cached ones included; its output_tokens is a placeholder.
        (ev("message_start", #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":3,"cache_read_input_tokens":10,"output_tokens":1}}}"#),
         .usage(Usage(promptTokens: 38))),
        (ev("message_start", #"{"type":"message_start","message":{"usage":{"input_tokens":7,"cache_read_input_tokens":null,"output_tokens":1}}}"#),
         .usage(Usage(promptTokens: 7))),
        (ev("message_start", #"{"type":"message_start","message":{"id":"msg_1"}}"#), .other),
        (ev("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#), .other),
        (ev("ping", #"{"type": "ping"}"#), .other),
        // The tokens: text, thinking and tool-input deltas.
        (ev("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#),
         .choices(content: "Hello", finishReason: nil, usage: nil)),
        (ev("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me"}}"#),
         .choices(content: "", finishReason: nil, usage: nil, reasoning: "Let me")),
        (ev("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"loc"}}"#),
         .choices(content: "{\"loc", finishReason: nil, usage: nil)),
        (ev("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#), .other),
        (ev("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#), .other),
        (ev("content_block_stop", #"{"type":"content_block_stop","index":0}"#), .other),
        // message_delta: the output tokens (cumulative), and the input tokens when it has them.
        (ev("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#),
         .usage(Usage(completionTokens: 15))),
        (ev("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":4,"cache_read_input_tokens":2,"output_tokens":9}}"#),
         .usage(Usage(promptTokens: 6, completionTokens: 9))),
        (ev("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#), .other),
        (ev("message_stop", #"{"type":"message_stop"}"#), .done),
        // Errors: by event name or by data type, with the error's message.
        (ev("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#), .error("Overloaded")),
        (ev(nil, #"{"type":"error","error":{"type":"api_error","message":"boom"}}"#), .error("boom")),
        (ev("error", "upstream died"), .error("upstream died")),
        (ev("error", #"{"code":529}"#), .error(#"{"code":529}"#)),
        // No event field: the data's type decides (proxies that drop the event line).
        (ev(nil, #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#),
         .choices(content: "x", finishReason: nil, usage: nil)),
        (ev(nil, #"{"type":"message_stop"}"#), .done),
        // Types Anthropic may add, other JSON: ignored. Not JSON: the stream is broken.
        (ev("future_event", #"{"type":"future_event"}"#), .other),
        (ev("message_stop", "[1,2]"), .other),
        (ev("content_block_delta", #"{"type":"content_block_delta","delta":{"text":"cut"#), .notJSON(#"{"type":"content_block_delta","delta":{"text":"cut"#)),
        // An OpenAI stream's end is not Anthropic's.
        (ev(nil, "[DONE]"), .notJSON("[DONE]")),
    ]

    @Test(arguments: cases.indices) func classifies(_ i: Int) {
        let (event, expected) = Self.cases[i]
        #expect(AnthropicStreamEvent.classify(event) == expected, "\(event)")
    }

    /// Anthropic's documented example stream, as bytes, through the parser and the timing:
    /// TTFT is the first text delta (not message_start), ITL the gaps between deltas, output
    /// tokens from message_delta's usage, the prompt tokens from message_start's.
    @Test func documentedStreamIsTimedLikeAnOpenAIOne() {
        let body = """
        event: message_start
        data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-6", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

        event: content_block_start
        data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

        event: content_block_stop
        data: {"type": "content_block_stop", "index": 0}

        event: message_delta
        data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

        event: message_stop
        data: {"type": "message_stop"}


        """
        var parser = SSEParser()
        var t = StreamTiming(sentNanos: 0, dialect: .anthropic)
        var now: UInt64 = 0
        let bytes = Array(body.utf8)
        for start in stride(from: 0, to: bytes.count, by: 11) {
            parser.feed(Array(bytes[start..<min(start + 11, bytes.count)])) { event in
                now += 100
                t.record(t.dialect.classify(event), atNanos: now)
            }
        }
        #expect(t.events == 8)
        #expect(t.ttftNanos == 400 && t.firstContentNanos == 400)
        #expect(t.interChunkNanos == [100])
        #expect(t.e2elNanos == 500)
        #expect(t.outputTokens == 15 && t.outputTokensFromUsage)
        #expect(t.usage?.promptTokens == 25)
        #expect(t.tpotNanos == 100 / 14)
        #expect(t.sawDone && t.error == nil)
        #expect(t.invalidReason(bodyBytes: UInt64(bytes.count), discardedIncompleteEvent: false) == nil)
    }

    /// The invalid_stream rules of an OpenAI stream, in Anthropic's words.
    @Test func invalidStreamsSayWhyInAnthropicsWords() {
        func reason(_ chunks: [OpenAIStreamChunk], discarded: Bool = false) -> String? {
            var t = StreamTiming(sentNanos: 0, dialect: .anthropic)
            for (i, c) in chunks.enumerated() { t.record(c, atNanos: UInt64(i + 1)) }
            return t.invalidReason(bodyBytes: 50, discardedIncompleteEvent: discarded)
        }
        let start = OpenAIStreamChunk.usage(Usage(promptTokens: 3)), token = OpenAIStreamChunk.choices(content: "a", finishReason: nil, usage: nil)
        #expect(reason([start, .other, token, .other, .usage(Usage(completionTokens: 1)), .done]) == nil)
        #expect(reason([start, .other, .other, .done]) == "stream ended without a content_block_delta after 4 events")
        #expect(reason([start, .other, token, token]) == "stream ended without message_stop after 4 events")
        #expect(reason([start, token], discarded: true) == "stream ended without message_stop after 2 events; an unfinished event at the end was discarded")
        #expect(reason([]) == "stream ended without any data: event (50 bytes of event stream)")
        #expect(reason([start, .notJSON("x"), token, .done]) == "stream event 2 is not JSON: x")
    }

    /// Usage reports merge: message_start's prompt tokens survive message_delta's output tokens.
    @Test func usageReportsMergeCountByCount() {
        var t = StreamTiming(sentNanos: 0, dialect: .anthropic)
        t.record(.usage(Usage(promptTokens: 12)), atNanos: 1)
        #expect(t.outputTokens == 0 && !t.outputTokensFromUsage)
        t.record(.choices(content: "a", finishReason: nil, usage: nil), atNanos: 2)
        #expect(t.outputTokens == 1 && !t.outputTokensFromUsage)
        t.record(.usage(Usage(completionTokens: 1)), atNanos: 3)
        #expect(t.usage == Usage(promptTokens: 12, completionTokens: 1))
        t.record(.usage(Usage(promptTokens: 13, completionTokens: 2)), atNanos: 4)
        #expect(t.usage == Usage(promptTokens: 13, completionTokens: 2))
    }
}
