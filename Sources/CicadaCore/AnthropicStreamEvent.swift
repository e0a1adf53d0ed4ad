/// Classifies the events of an Anthropic Messages API stream (`POST /v1/messages` with
/// `"stream": true`) into the vocabulary ``StreamTiming`` times, so an `anthropic-messages`
/// task gets TTFT, ITL, E2EL and output tokens by the same rules as an OpenAI stream.
///
/// An Anthropic stream is `message_start`, then per content block `content_block_start`,
/// `content_block_delta`s and `content_block_stop`, then `message_delta` (stop reason and
/// cumulative usage) and `message_stop`; `ping` may come anywhere and `event: error` reports a
/// failure after the 200. The mapping:
/// - `content_block_delta` whose delta is generated text (`text_delta`, `thinking_delta`,
///   `input_json_delta`) is a chunk with choices: it moves TTFT, ITL and E2EL, and counts as
///   one token when the server reports no usage. A `thinking_delta` is reasoning (the chunk's
///   `reasoning`, not its `content`), as an OpenAI chunk's `reasoning_content` is. Other deltas (`signature_delta`, citations)
///   are not generated tokens and are ignored.
/// - `message_start` reports the prompt tokens: `input_tokens` plus the cache's
///   `cache_read_input_tokens` and `cache_creation_input_tokens` (Anthropic counts the cached
///   ones apart; OpenAI's `prompt_tokens` includes them). Its `output_tokens` is a placeholder
///   and is not taken.
/// - `message_delta` reports the output tokens (`usage.output_tokens`, cumulative), and the
///   prompt tokens again when it carries them.
/// - `message_stop` ends the stream, as `data: [DONE]` does an OpenAI one: a stream without it
///   is `invalid_stream`.
/// - An event of type `error` (its `event:` field, or its data's `type`) is an error, with the
///   data's `error.message`.
/// - `ping`, `content_block_start`, `content_block_stop` and event types Anthropic may add
///   later are ignored; data that is not JSON makes the stream `invalid_stream`.
///
/// The event's type is its `event:` field, or the data's `type` when that field is missing
/// (Anthropic sends both, equal).
public enum AnthropicStreamEvent {
    /// Classifies one whole SSE event.
    public static func classify(_ event: SSEEvent) -> OpenAIStreamChunk {
        guard let json = JSONValue.parse(Array(event.data.utf8)) else {
            let excerpt = OpenAIStreamChunk.excerpt(event.data)
            return event.event == "error" ? .error(excerpt) : .notJSON(excerpt)
        }
        guard case .object(let o) = json else {
            return event.event == "error" ? .error(OpenAIStreamChunk.excerpt(event.data)) : .other
        }
        var dataType: String?
        if case .string(let t)? = o["type"] { dataType = t }
        if event.event == "error" || dataType == "error" { return .error(message(o)) }
        switch event.event ?? dataType {
        case "content_block_delta":
            guard case .object(let delta)? = o["delta"], case .string(let kind)? = delta["type"] else { return .other }
            let field: String
            switch kind {
            case "text_delta": field = "text"
            case "thinking_delta": field = "thinking"
            case "input_json_delta": field = "partial_json"
            default: return .other
            }
            guard case .string(let text)? = delta[field] else { return .other }
            if kind == "thinking_delta" { return .choices(content: "", finishReason: nil, usage: nil, reasoning: text) }
            return .choices(content: text, finishReason: nil, usage: nil)
        case "message_start":
            guard case .object(let message)? = o["message"], case .object(let usage)? = message["usage"],
                  let prompt = promptTokens(usage) else { return .other }
            return .usage(OpenAIStreamChunk.Usage(promptTokens: prompt))
        case "message_delta":
            guard case .object(let usage)? = o["usage"] else { return .other }
            let output = count(usage["output_tokens"]), prompt = promptTokens(usage)
            guard output != nil || prompt != nil else { return .other }
            return .usage(OpenAIStreamChunk.Usage(promptTokens: prompt, completionTokens: output))
        case "message_stop":
            return .done
        default:
            return .other
        }
    }

    /// `input_tokens` plus the cached input tokens; nil when `input_tokens` is missing.
    static func promptTokens(_ usage: [String: JSONValue]) -> Int? {
        guard let input = count(usage["input_tokens"]) else { return nil }
        return input + (count(usage["cache_read_input_tokens"]) ?? 0) + (count(usage["cache_creation_input_tokens"]) ?? 0)
    }

    /// A token count: a non-negative whole number (Anthropic sends null for an unknown cache count).
    static func count(_ v: JSONValue?) -> Int? {
        guard case .number(let d)? = v, d >= 0, d <= 1e15, let n = Int(exactly: d) else { return nil }
        return n
    }

    /// The message of an error event's data: `error.message`, then `message`, else its JSON.
    static func message(_ o: [String: JSONValue]) -> String {
        if case .object(let e)? = o["error"], case .string(let m)? = e["message"] { return m }
        if case .string(let m)? = o["message"] { return m }
        if case .string(let m)? = o["error"] { return m }
        return JSONValue.object(o).text
    }
}
