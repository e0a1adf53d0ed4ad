import Testing
@testable import CicadaCore

/// Reasoning models' streams: thinking deltas apart from the answer (docs/LLM-METRICS.md).
@Suite struct ReasoningStreamTests {
    typealias Usage = OpenAIStreamChunk.Usage

    @Test(arguments: [
        (#"{"choices":[{"index":0,"delta":{"reasoning_content":"Let me think"}}]}"#,
         OpenAIStreamChunk.choices(content: "", finishReason: nil, usage: nil, reasoning: "Let me think")),
        (#"{"choices":[{"index":0,"delta":{"reasoning":"Hmm","content":null}}]}"#,
         .choices(content: "", finishReason: nil, usage: nil, reasoning: "Hmm")),
        (#"{"choices":[{"index":0,"delta":{"content":"Paris","reasoning_content":null}}]}"#,
         .choices(content: "Paris", finishReason: nil, usage: nil)),
        // reasoning_content wins when a server sends both names.
        (#"{"choices":[{"index":0,"delta":{"reasoning_content":"a","reasoning":"a"}}]}"#,
         .choices(content: "", finishReason: nil, usage: nil, reasoning: "a")),
        (#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":6}}}"#,
         .usage(Usage(promptTokens: 5, completionTokens: 9, reasoningTokens: 6))),
    ])
    func classifiesReasoningDeltas(_ data: String, _ expected: OpenAIStreamChunk) {
        #expect(OpenAIStreamChunk.classify(data) == expected)
    }

    static func reasoning(_ s: String) -> OpenAIStreamChunk { .choices(content: "", finishReason: nil, usage: nil, reasoning: s) }
    static func answer(_ s: String) -> OpenAIStreamChunk { .choices(content: s, finishReason: nil, usage: nil) }

    /// Two reasoning chunks at 10 and 20 ms, then three answer chunks at 50, 60 and 70 ms.
    static func timeline(usage: Usage?) -> StreamTiming {
        var t = StreamTiming(sentNanos: 1_000)
        let ms: UInt64 = 1_000_000
        for (at, c) in [(10 * ms, reasoning("Let")), (20 * ms, reasoning(" me")), (50 * ms, answer("It")),
                        (60 * ms, answer(" is")), (70 * ms, answer(" 4"))] { t.record(c, atNanos: 1_000 + at) }
        if let usage { t.record(.usage(usage), atNanos: 1_000 + 71 * ms) }
        t.record(.done, atNanos: 1_000 + 72 * ms)
        return t
    }

    @Test func ttftIsTheFirstTokenOfEitherKindAndTheSplitIsKept() {
        let t = Self.timeline(usage: nil)
        #expect(t.ttftNanos == 10_000_000)              // the first reasoning chunk
        #expect(t.firstReasoningNanos == 10_000_000)
        #expect(t.firstContentNanos == 50_000_000)      // the first answer chunk
        #expect(t.e2elNanos == 70_000_000)
        // No usage: every text chunk is a token, reasoning ones included.
        #expect(t.outputTokens == 5)
        #expect(t.reasoningTokens == 2)
        #expect(!t.outputTokensFromUsage && !t.reasoningTokensFromUsage)
        #expect(t.invalidReason(bodyBytes: 100, discardedIncompleteEvent: false) == nil)
    }

    @Test func usageReasoningTokensWinOverChunkCounts() {
        let t = Self.timeline(usage: Usage(promptTokens: 4, completionTokens: 12, reasoningTokens: 8))
        #expect(t.outputTokens == 12)
        #expect(t.reasoningTokens == 8)
        #expect(t.reasoningTokensFromUsage)
    }

    @Test func aStreamWithoutReasoningHasNoReasoningFigures() {
        var t = StreamTiming(sentNanos: 0)
        t.record(Self.answer("hi"), atNanos: 5)
        t.record(.done, atNanos: 6)
        #expect(t.reasoningTokens == nil)
        #expect(t.firstReasoningNanos == nil)
    }

    @Test func requestStatsKeepReasoningAndAnswerTokensApart() throws {
        var s = RequestStats()
        func outcome(_ t: StreamTiming) -> RequestOutcome {
            var o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: 80_000_000, ttfbMicros: 9000, status: 200,
                                   failure: nil, error: nil, bytesIn: 1, bytesOut: 1)
            var so = StreamOutcome(ttftMicros: t.ttftNanos.map { $0 / 1000 }, firstContentMicros: t.firstContentNanos.map { $0 / 1000 },
                                   tpotMicros: nil, e2elMicros: t.e2elNanos.map { $0 / 1000 }, itlMicros: [], outputTokens: t.outputTokens,
                                   inputTokens: t.usage?.promptTokens, outputTokensFromUsage: t.outputTokensFromUsage)
            so.firstReasoningMicros = t.firstReasoningNanos.map { $0 / 1000 }
            so.reasoningTokens = t.reasoningTokens
            so.reasoningTokensFromUsage = t.reasoningTokensFromUsage
            o.stream = so
            return o
        }
        s.record(outcome(Self.timeline(usage: nil)))
        s.record(outcome(Self.timeline(usage: Usage(promptTokens: 4, completionTokens: 12, reasoningTokens: 8))))
        let l = try #require(s.llm)
        #expect(l.reasoningStreams == 2)
        #expect(l.reasoningTokens == 10)
        #expect(l.outputTokens == 17)
        #expect(l.answerTokens == 7)
        #expect(l.reasoningUsageReported == 1)
        #expect(l.firstReasoning.max == 10_000 && l.firstContent.max == 50_000)
    }

    @Test func anthropicThinkingIsReasoning() {
        let e = SSEEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}"#)
        #expect(AnthropicStreamEvent.classify(e) == Self.reasoning("Hmm"))
    }

    @Test func textIsKeptOnlyWhenAskedAndBounded() {
        let off = Self.timeline(usage: nil)
        #expect(off.answerText.isEmpty && off.reasoningText.isEmpty)
        var t = StreamTiming(sentNanos: 0)
        t.keepsText = true
        for (i, c) in [Self.reasoning("Let"), Self.reasoning(" me"), Self.answer("It"), Self.answer(" is")].enumerated() { t.record(c, atNanos: UInt64(i)) }
        #expect(t.reasoningText == "Let me" && t.answerText == "It is" && !t.textTruncated)
        t.record(Self.answer(String(repeating: "x", count: StreamTiming.maxKeptText)), atNanos: 9)
        #expect(t.textTruncated && t.answerText == "It is")
    }
}
