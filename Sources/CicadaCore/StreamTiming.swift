/// Per-request timing of an OpenAI-compatible stream, fed chunk by chunk as they arrive, with
/// vLLM `bench serve`'s definitions; an Anthropic Messages stream is timed by the same rules,
/// its `content_block_delta` events standing for the chunks with choices (``AnthropicStreamEvent``).
///
/// The definitions (vLLM `benchmarks/serve`; REFERENCE section 4):
/// - TTFT: from just before sending to the first chunk with a non-empty `choices` array, even a
///   role-only chat chunk that carries no text.
/// - ITL: the gap between consecutive chunks that carry `choices`, per chunk, not per token.
/// - E2EL: from sending to the last chunk with `choices`.
/// - TPOT: (E2EL - TTFT) / (output tokens - 1), only when there is more than one output token.
///
/// Names clash between tools: GenAI-Perf/AIPerf and GuideLLM call vLLM's TPOT "ITL"; GuideLLM's
/// TPOT and llmperf's ITL include the first token. AIPerf/GenAI-Perf's TTFT skips responses whose
/// content is empty, so it is offered too, named ``firstContentNanos``, never as "TTFT".
///
/// All times are nanoseconds from the same monotonic clock (``TimeSource``); `sentNanos` is taken
/// just before the request is handed to the transport, so connection set-up and queueing in the
/// client count, as in vLLM. A clock reading earlier than `sentNanos` counts as zero elapsed.
public struct StreamTiming: Sendable {
    /// At most this many inter-chunk gaps are kept per request; later ones are only counted.
    ///
    /// 100,000 gaps (800 KB) covers the longest outputs current models produce while bounding
    /// the memory of a runaway or misbehaving stream; the ITL of a longer stream is its first
    /// 100,000 gaps, and ``droppedInterChunkGaps`` says how many were left out.
    public static let maxInterChunkGaps = 100_000

    /// The streaming API being timed: it decides how an event is classified and how a broken
    /// stream is described. The timing rules are the same for both.
    public enum Dialect: Sendable, Equatable {
        /// OpenAI completions and chat completions (`data:` chunks, `data: [DONE]`).
        case openAI
        /// Anthropic's Messages API (``AnthropicStreamEvent``: `content_block_delta`s are the
        /// chunks with choices, `message_stop` is the end).
        case anthropic

        /// Classifies one SSE event of this API's stream.
        public func classify(_ event: SSEEvent) -> OpenAIStreamChunk {
            switch self {
            case .openAI: return OpenAIStreamChunk.classify(event)
            case .anthropic: return AnthropicStreamEvent.classify(event)
            }
        }
    }

    /// When the request was sent (just before sending), in nanoseconds.
    public let sentNanos: UInt64
    /// The API whose stream this is.
    public let dialect: Dialect
    /// vLLM's TTFT: sent -> first chunk with non-empty `choices`; nil until one arrives.
    public private(set) var ttftNanos: UInt64?
    /// Sent -> first chunk with non-empty content: AIPerf/GenAI-Perf's TTFT, which skips a
    /// role-only first chat chunk; nil until text arrives.
    public private(set) var firstContentNanos: UInt64?
    /// Gaps between consecutive chunks carrying `choices` (vLLM's ITL, one per chunk, not per
    /// token), at most ``maxInterChunkGaps`` of them.
    public private(set) var interChunkNanos: [UInt64] = []
    /// Gaps beyond ``maxInterChunkGaps`` that were counted but not kept.
    public private(set) var droppedInterChunkGaps = 0
    /// vLLM's E2EL: sent -> last chunk with `choices` so far; nil until one arrives.
    public private(set) var e2elNanos: UInt64?
    /// Chunks with a non-empty `choices` array.
    public private(set) var chunksWithChoices = 0
    /// Chunks with non-empty (answer) content.
    public private(set) var contentChunks = 0
    /// Sent -> first chunk with non-empty reasoning text (`reasoning_content` / `reasoning`, or
    /// Anthropic's `thinking_delta`); nil when none arrived.
    public private(set) var firstReasoningNanos: UInt64?
    /// Chunks with non-empty reasoning text.
    public private(set) var reasoningChunks = 0
    /// Chunks with any generated text, answer or reasoning: the output token count when the
    /// server reports no usage.
    public private(set) var textChunks = 0
    /// The `usage` the server reported: each count from the latest report that has it (a later
    /// report replaces an earlier one, since vLLM's `continuous_usage_stats` sends running
    /// totals; Anthropic reports the prompt tokens at the start and the output tokens at the end).
    public private(set) var usage: OpenAIStreamChunk.Usage?
    /// The first finish reason a choice reported (`stop`, `length`, ...).
    public private(set) var finishReason: String?
    /// The first error reported inside the stream.
    public private(set) var error: String?
    /// Whether `data: [DONE]` arrived.
    public private(set) var sawDone = false
    /// Events recorded: every `data:` event the server sent, `[DONE]` included.
    public private(set) var events = 0
    /// The first event whose data was not JSON: its number in the stream (from 1) and the start
    /// of its data.
    public private(set) var firstNotJSON: (event: Int, excerpt: String)?

    /// Whether the generated text is kept (``answerText``, ``reasoningText``), for a tokenizer
    /// to count once the stream ends; off unless the scenario names a tokenizer.
    public var keepsText = false
    /// The answer and reasoning text so far, when ``keepsText``; at most ``maxKeptText`` UTF-8
    /// bytes each (a longer stream is counted by chunks instead: ``textTruncated``).
    public private(set) var answerText = ""
    public private(set) var reasoningText = ""
    public private(set) var textTruncated = false
    /// 4 MiB of text per stream: far beyond any model's output, a bound on a runaway stream.
    public static let maxKeptText = 4 << 20

    /// Arrival time of the latest chunk with `choices`, the start of the next ITL gap.
    private var lastChoicesNanos: UInt64 = 0

    /// Starts timing a request sent at `sentNanos`.
    public init(sentNanos: UInt64, dialect: Dialect = .openAI) {
        self.sentNanos = sentNanos
        self.dialect = dialect
    }

    /// Takes a usage report: its counts replace the ones it has, the others stay.
    private mutating func take(_ reported: OpenAIStreamChunk.Usage) {
        guard let old = usage else { usage = reported; return }
        usage = OpenAIStreamChunk.Usage(promptTokens: reported.promptTokens ?? old.promptTokens,
                                        completionTokens: reported.completionTokens ?? old.completionTokens,
                                        totalTokens: reported.totalTokens ?? old.totalTokens,
                                        reasoningTokens: reported.reasoningTokens ?? old.reasoningTokens)
    }

    /// Records a classified chunk that arrived at `nanos`.
    ///
    /// Only chunks with `choices` move TTFT, ITL and E2EL (vLLM): a usage-only final chunk or the
    /// `[DONE]` sentinel arrives after generation ended and would stretch E2EL and add a bogus gap.
    public mutating func record(_ chunk: OpenAIStreamChunk, atNanos nanos: UInt64) {
        events += 1
        switch chunk {
        case .done:
            sawDone = true
        case .choices(let content, let reason, let reported, let reasoning):
            let elapsed = nanos >= sentNanos ? nanos - sentNanos : 0
            if ttftNanos == nil {
                ttftNanos = elapsed
            } else if interChunkNanos.count < Self.maxInterChunkGaps {
                interChunkNanos.append(nanos >= lastChoicesNanos ? nanos - lastChoicesNanos : 0)
            } else {
                droppedInterChunkGaps += 1
            }
            lastChoicesNanos = nanos
            e2elNanos = elapsed
            chunksWithChoices += 1
            if !content.isEmpty {
                contentChunks += 1
                if firstContentNanos == nil { firstContentNanos = elapsed }
            }
            if !reasoning.isEmpty {
                reasoningChunks += 1
                if firstReasoningNanos == nil { firstReasoningNanos = elapsed }
            }
            if !content.isEmpty || !reasoning.isEmpty { textChunks += 1 }
            if keepsText, !textTruncated {
                if answerText.utf8.count + content.utf8.count > Self.maxKeptText
                    || reasoningText.utf8.count + reasoning.utf8.count > Self.maxKeptText {
                    textTruncated = true
                } else {
                    answerText += content
                    reasoningText += reasoning
                }
            }
            if finishReason == nil, let reason { finishReason = reason }
            if let reported { take(reported) }
        case .usage(let reported):
            take(reported)
        case .error(let message):
            if error == nil { error = message }
        case .notJSON(let excerpt):
            if firstNotJSON == nil { firstNotJSON = (events, excerpt) }
        case .other:
            break
        }
    }

    /// Why a stream that ended cleanly (no transport error, no in-stream error) is still not a
    /// valid OpenAI stream, as the message of an `invalid_stream` failure; nil when it is valid.
    ///
    /// In order: an event whose data is not JSON ("stream event 2 is not JSON: {...");
    /// no `data:` event at all; no chunk with `choices` (nothing to time: a success here would
    /// have no TTFT); no `data: [DONE]` ("stream ended without data: [DONE] after 3 chunks").
    /// An Anthropic stream is judged by the same rules in its own words: no
    /// `content_block_delta` with text ("stream ended without a content_block_delta after 2
    /// events"), no `message_stop` ("stream ended without message_stop after 7 events").
    /// `bodyBytes` is how much the response body held; `discardedIncompleteEvent` is the
    /// parser's flag for an event left without its final blank line, added to the message.
    public func invalidReason(bodyBytes: UInt64, discardedIncompleteEvent: Bool) -> String? {
        let unfinished = discardedIncompleteEvent ? "; an unfinished event at the end was discarded" : ""
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        if let bad = firstNotJSON {
            return "stream event \(bad.event) is not JSON: \(bad.excerpt)"
        }
        if events == 0 {
            return "stream ended without any data: event (\(plural(Int(clamping: bodyBytes), "byte")) of event stream\(unfinished))"
        }
        let (unit, chunk, end) = dialect == .openAI
            ? ("chunk", "a chunk with choices", "data: [DONE]")
            : ("event", "a content_block_delta", "message_stop")
        if chunksWithChoices == 0 {
            return "stream ended without \(chunk) after \(plural(events, unit))\(unfinished)"
        }
        if !sawDone {
            return "stream ended without \(end) after \(plural(events, unit))\(unfinished)"
        }
        return nil
    }

    /// Output tokens: `usage.completion_tokens` if reported, else ``textChunks`` (answer and
    /// reasoning chunks: a reasoning model's thinking is output it generated and is billed for).
    ///
    /// The fallback counts one token per chunk with text. That is exact for a server that streams
    /// one token per chunk (vLLM's default) and an undercount when chunks carry several tokens
    /// (speculative decoding, `stream_interval` > 1, proxies that coalesce); vLLM itself retokenizes
    /// the text instead, which needs the model's tokenizer. Ask for
    /// `stream_options: {include_usage: true}` to get the exact count.
    public var outputTokens: Int {
        usage?.completionTokens ?? textChunks
    }

    /// Reasoning tokens: `usage.completion_tokens_details.reasoning_tokens` if reported, else
    /// ``reasoningChunks``; nil when the stream carried no reasoning at all (not a reasoning
    /// model, or one that hides its thinking and reports no count).
    public var reasoningTokens: Int? {
        if let r = usage?.reasoningTokens { return r }
        return reasoningChunks > 0 ? reasoningChunks : nil
    }

    /// Whether ``reasoningTokens`` came from the server's `usage`.
    public var reasoningTokensFromUsage: Bool { usage?.reasoningTokens != nil }

    /// Whether ``outputTokens`` came from the server's `usage` rather than from counting chunks.
    public var outputTokensFromUsage: Bool {
        usage?.completionTokens != nil
    }

    /// vLLM's TPOT: (E2EL - TTFT) / (output tokens - 1), only when output tokens > 1; else nil.
    ///
    /// GenAI-Perf/AIPerf and GuideLLM call this figure "ITL"; it excludes the first token, unlike
    /// GuideLLM's TPOT and llmperf's ITL.
    public var tpotNanos: UInt64? {
        let tokens = outputTokens
        guard tokens > 1, let ttft = ttftNanos, let e2el = e2elNanos else { return nil }
        return (e2el >= ttft ? e2el - ttft : 0) / UInt64(tokens - 1)
    }
}
