/// What one SSE event's data from an OpenAI-compatible stream (completions or chat) says.
///
/// Timing needs only a few facts of each chunk: whether it carries `choices` (vLLM's TTFT, ITL
/// and E2EL are stamped on those), whether it carries text (the first-content TTFT variant and
/// the fallback token count), and the `usage` the server reports. Classifying once per event keeps
/// ``StreamTiming`` free of JSON. Parsed with the project's strict ``JSONValue`` parser.
public enum OpenAIStreamChunk: Sendable, Equatable {
    /// The end-of-stream sentinel, `data: [DONE]`.
    case done
    /// A chunk with a non-empty `choices` array.
    ///
    /// `content` is the concatenated text of `choices[*].text` (completions) or
    /// `choices[*].delta.content` (chat); it is empty for a role-only first chat chunk and for a
    /// chunk that only carries a finish reason. `finishReason` is the first non-null
    /// `finish_reason` of any choice. `usage` is present when the server reports it on every
    /// chunk (vLLM's `continuous_usage_stats`) or folds it into the last one. `reasoning` is a
    /// reasoning model's thinking text: `choices[*].delta.reasoning_content` (vLLM, SGLang,
    /// DeepSeek) or `choices[*].delta.reasoning` (vLLM's newer name, OpenRouter, Ollama), never
    /// part of `content` (docs/LLM-METRICS.md, "Reasoning models").
    case choices(content: String, finishReason: String?, usage: Usage?, reasoning: String = "")
    /// A chunk whose `choices` is empty or absent but has `usage` (the `include_usage` final chunk).
    case usage(Usage)
    /// An error reported inside the stream after a 200, with its message.
    ///
    /// Recognised as a non-null top-level `error` (`{"error": {"message": ...}}`, or a bare string),
    /// or as an object with `"object": "error"` (older vLLM's `ErrorResponse` sent unwrapped).
    case error(String)
    /// Data that is not JSON at all (and not `[DONE]`): an event cut short, or text where a chunk
    /// should be. Carries the start of the data (``excerptLength`` characters at most, control
    /// characters escaped) for the error message. It makes the stream `invalid_stream`.
    case notJSON(String)
    /// JSON of another shape (an empty object, an array, `{"choices":[]}` without usage): ignored.
    case other

    /// The most characters of a non-JSON event's data kept in ``notJSON(_:)``.
    public static let excerptLength = 64

    /// Token counts from an OpenAI `usage` object; a count the server left out is nil.
    public struct Usage: Sendable, Equatable {
        /// `prompt_tokens`: input tokens.
        public var promptTokens: Int?
        /// `completion_tokens`: output tokens, the count vLLM's TPOT divides by.
        public var completionTokens: Int?
        /// `total_tokens`: prompt plus completion.
        public var totalTokens: Int?
        /// `completion_tokens_details.reasoning_tokens`: the part of the completion spent
        /// reasoning (OpenAI's o-series, vLLM with a reasoning parser).
        public var reasoningTokens: Int?

        /// Makes usage from counts (nil where unknown).
        public init(promptTokens: Int? = nil, completionTokens: Int? = nil, totalTokens: Int? = nil, reasoningTokens: Int? = nil) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.totalTokens = totalTokens
            self.reasoningTokens = reasoningTokens
        }

        /// Reads a `usage` object; nil when the value is not an object (OpenAI sends `"usage": null`
        /// on every chunk but the last when `include_usage` is set).
        init?(json: JSONValue) {
            guard case .object(let o) = json else { return nil }
            func count(_ key: String) -> Int? {
                guard case .number(let d)? = o[key], d >= 0, let n = Int(exactly: d) else { return nil }
                return n
            }
            var reasoning: Int?
            if case .object(let details)? = o["completion_tokens_details"], case .number(let d)? = details["reasoning_tokens"],
               d >= 0, let n = Int(exactly: d) { reasoning = n }
            self.init(promptTokens: count("prompt_tokens"), completionTokens: count("completion_tokens"),
                      totalTokens: count("total_tokens"), reasoningTokens: reasoning)
        }
    }

    /// Classifies the data of one SSE event (the `data:` lines joined, as ``SSEEvent/data`` holds them).
    ///
    /// An error wins over choices: a chunk that says it failed is a failure whatever else it carries.
    public static func classify(_ data: String) -> OpenAIStreamChunk {
        if isDone(data) { return .done }
        guard let json = JSONValue.parse(Array(data.utf8)) else { return .notJSON(excerpt(data)) }
        guard case .object(let o) = json else { return .other }
        if let e = o["error"], e != .null { return .error(message(of: e)) }
        if case .string("error")? = o["object"] { return .error(message(of: .object(o))) }
        let usage = o["usage"].flatMap(Usage.init(json:))
        if case .array(let choices)? = o["choices"], !choices.isEmpty {
            var content = ""
            var reasoning = ""
            var finishReason: String?
            for case .object(let choice) in choices {
                if case .string(let text)? = choice["text"] {
                    content += text
                } else if case .object(let delta)? = choice["delta"] {
                    if case .string(let text)? = delta["content"] { content += text }
                    if case .string(let text)? = delta["reasoning_content"] {
                        reasoning += text
                    } else if case .string(let text)? = delta["reasoning"] {
                        reasoning += text
                    }
                }
                if finishReason == nil, case .string(let reason)? = choice["finish_reason"] { finishReason = reason }
            }
            return .choices(content: content, finishReason: finishReason, usage: usage, reasoning: reasoning)
        }
        if let usage { return .usage(usage) }
        return .other
    }

    /// Classifies one whole SSE event: its data as ``classify(_:)-(String)`` does, except that an
    /// event of type `error` (`event: error`, as OpenAI's newer APIs and some proxies send) is an
    /// error whatever its data says. Its message is the data's `error.message` or `message` when
    /// the data is a JSON object that has one, else the start of the data (as in ``notJSON(_:)``).
    public static func classify(_ event: SSEEvent) -> OpenAIStreamChunk {
        let chunk = classify(event.data)
        guard event.event == "error" else { return chunk }
        if case .error = chunk { return chunk }
        if case .object(let o)? = JSONValue.parse(Array(event.data.utf8)), let m = o["message"], m != .null {
            return .error(message(of: m))
        }
        return .error(excerpt(event.data))
    }

    /// The start of `data` for a message: at most ``excerptLength`` characters, control
    /// characters written as escapes (`\n`, `\u{1}`), an ellipsis when cut.
    static func excerpt(_ data: String) -> String {
        var out = ""
        var n = 0
        for ch in data {
            if n == excerptLength { out += "…"; break }
            n += 1
            if ch == "\n" { out += "\\n"; continue }
            if ch == "\r" { out += "\\r"; continue }
            if ch == "\r\n" { out += "\\r\\n"; continue }
            if ch.unicodeScalars.count == 1, let v = ch.unicodeScalars.first?.value, v < 0x20 || v == 0x7F {
                out += "\\u{" + String(v, radix: 16) + "}"
                continue
            }
            out.append(ch)
        }
        return out
    }

    /// Whether the data is `[DONE]`, allowing surrounding ASCII whitespace.
    private static func isDone(_ data: String) -> Bool {
        if data == "[DONE]" { return true }
        let u = data.utf8
        guard u.count <= 64 else { return false }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        var lo = u.startIndex, hi = u.endIndex
        while lo < hi, isSpace(u[lo]) { lo = u.index(after: lo) }
        while hi > lo, isSpace(u[u.index(before: hi)]) { hi = u.index(before: hi) }
        return u[lo..<hi].elementsEqual("[DONE]".utf8)
    }

    /// The human-readable message of an error value: its `message`, the string itself, or its JSON.
    private static func message(of e: JSONValue) -> String {
        switch e {
        case .string(let s): return s
        case .object(let o):
            if case .string(let m)? = o["message"] { return m }
            return e.text
        default: return e.text
        }
    }
}
