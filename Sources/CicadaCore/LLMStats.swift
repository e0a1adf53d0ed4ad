/// Per-token measurements of streamed (OpenAI-compatible) responses, with vLLM's definitions.
///
/// Kept apart from ``RequestStats``' HTTP latencies and created only when a stream is seen, so
/// a `/predict` scenario carries none of it and every LLM figure is absent, never zero. All
/// histograms are in microseconds.
public struct LLMStats: Sendable, Equatable {
    /// Time to first token: send -> first chunk with a non-empty `choices` (vLLM).
    public var ttft = LatencyHistogram()
    /// Send -> first chunk with non-empty content (AIPerf/GenAI-Perf's TTFT, which skips a
    /// role-only first chat chunk).
    public var firstContent = LatencyHistogram()
    /// Time per output token after the first: (E2EL - TTFT) / (output tokens - 1) (vLLM's TPOT;
    /// GenAI-Perf and AIPerf call this "ITL").
    public var tpot = LatencyHistogram()
    /// Gaps between consecutive chunks carrying choices, pooled over requests (vLLM's ITL).
    public var itl = LatencyHistogram()
    /// Send -> last chunk with choices.
    public var e2el = LatencyHistogram()
    /// Send -> first chunk with reasoning text (reasoning models only; ``firstContent`` is then
    /// the time to the first *answer* token, and ``ttft`` the first token of either kind).
    public var firstReasoning = LatencyHistogram()
    /// Streams that carried reasoning (text or a reported reasoning token count).
    public var reasoningStreams: UInt64 = 0
    /// Reasoning tokens of those streams (part of ``outputTokens``), and how many of the
    /// streams reported them in `usage` (the rest were counted by chunks).
    public var reasoningTokens: UInt64 = 0
    public var reasoningUsageReported: UInt64 = 0
    /// Streams whose output tokens the scenario's tokenizer counted (no usage reported).
    public var tokenizerCounted: UInt64 = 0
    /// Streams that completed: HTTP success, no in-stream error, and a valid stream ending in
    /// `data: [DONE]` (see ``FailureKind/invalidStream``).
    public var streams: UInt64 = 0
    public var outputTokens: UInt64 = 0
    /// Prompt tokens, when the server reported usage.
    public var inputTokens: UInt64 = 0
    /// Streams whose output token count came from `usage` (the rest were counted by chunks).
    public var usageReported: UInt64 = 0
    /// Successful streams that met every goodput SLO.
    public var goodRequests: UInt64 = 0

    public init() {}

    public mutating func merge(_ o: LLMStats) {
        ttft.merge(o.ttft); firstContent.merge(o.firstContent); tpot.merge(o.tpot); itl.merge(o.itl); e2el.merge(o.e2el)
        streams = streams.addingSaturating(o.streams); outputTokens = outputTokens.addingSaturating(o.outputTokens)
        inputTokens = inputTokens.addingSaturating(o.inputTokens)
        usageReported = usageReported.addingSaturating(o.usageReported); goodRequests = goodRequests.addingSaturating(o.goodRequests)
        firstReasoning.merge(o.firstReasoning)
        tokenizerCounted = tokenizerCounted.addingSaturating(o.tokenizerCounted)
        reasoningStreams = reasoningStreams.addingSaturating(o.reasoningStreams)
        reasoningTokens = reasoningTokens.addingSaturating(o.reasoningTokens)
        reasoningUsageReported = reasoningUsageReported.addingSaturating(o.reasoningUsageReported)
    }

    /// Answer tokens: output tokens that were not reasoning.
    public var answerTokens: UInt64 { outputTokens &- Swift.min(reasoningTokens, outputTokens) }
}

/// The per-token outcome of one streamed request, as the transport measured it.
public struct StreamOutcome: Sendable {
    public var ttftMicros: UInt64?
    public var firstContentMicros: UInt64?
    public var tpotMicros: UInt64?
    public var e2elMicros: UInt64?
    /// Gaps between chunks with choices (µs).
    public var itlMicros: [UInt64]
    public var outputTokens: Int
    public var inputTokens: Int?
    public var outputTokensFromUsage: Bool
    /// Send -> first reasoning chunk (µs); nil without reasoning.
    public var firstReasoningMicros: UInt64?
    /// Reasoning tokens (part of ``outputTokens``); nil when the stream carried no reasoning.
    public var reasoningTokens: Int?
    public var reasoningTokensFromUsage: Bool = false
    /// Whether the output tokens were counted with the scenario's tokenizer (no usage came).
    public var outputTokensFromTokenizer: Bool = false

    public init(ttftMicros: UInt64?, firstContentMicros: UInt64?, tpotMicros: UInt64?, e2elMicros: UInt64?, itlMicros: [UInt64],
                outputTokens: Int, inputTokens: Int?, outputTokensFromUsage: Bool) {
        self.ttftMicros = ttftMicros; self.firstContentMicros = firstContentMicros; self.tpotMicros = tpotMicros
        self.e2elMicros = e2elMicros; self.itlMicros = itlMicros; self.outputTokens = outputTokens
        self.inputTokens = inputTokens; self.outputTokensFromUsage = outputTokensFromUsage
    }
}

/// Service-level objectives for goodput (vLLM's `--goodput ttft:MS tpot:MS e2el:MS`): a request
/// is good when it succeeded and meets every objective given (inclusive).
public struct GoodputSLO: Sendable, Equatable {
    public var ttft: Duration?
    public var tpot: Duration?
    public var e2el: Duration?
    public init(ttft: Duration? = nil, tpot: Duration? = nil, e2el: Duration? = nil) { self.ttft = ttft; self.tpot = tpot; self.e2el = e2el }

    /// Whether a successful stream meets every objective. An objective on a figure the stream
    /// does not have (TPOT of a one-token answer) is not met.
    public func isMet(by s: StreamOutcome) -> Bool {
        func ok(_ slo: Duration?, _ micros: UInt64?) -> Bool {
            guard let slo else { return true }
            guard let m = micros else { return false }
            return Double(m) <= slo.seconds * 1e6
        }
        return ok(ttft, s.ttftMicros) && ok(tpot, s.tpotMicros) && ok(e2el, s.e2elMicros)
    }
}
