import Testing
@testable import CicadaCore

@Suite struct StreamTimingTests {
    typealias Usage = OpenAIStreamChunk.Usage

    static func text(_ s: String, finish: String? = nil) -> OpenAIStreamChunk {
        .choices(content: s, finishReason: finish, usage: nil)
    }

    /// Records (offset from send, chunk) pairs for a request sent at 1_000_000 ns.
    static func timing(_ timeline: [(UInt64, OpenAIStreamChunk)]) -> StreamTiming {
        var t = StreamTiming(sentNanos: 1_000_000)
        for (offset, chunk) in timeline { t.record(chunk, atNanos: 1_000_000 + offset) }
        return t
    }

    @Test func chatTimelineWithRoleOnlyFirstChunkAndUsage() {
        let t = Self.timing([
            (50, Self.text("")),                 // role-only
            (80, Self.text("Hel")),
            (100, Self.text("lo")),
            (130, Self.text("!")),
            (140, Self.text("", finish: "stop")),
            (150, .usage(Usage(promptTokens: 9, completionTokens: 3, totalTokens: 12))),
            (160, .done),
        ])
        // vLLM's TTFT stops at the role-only chunk; the AIPerf/GenAI-Perf variant waits for text.
        #expect(t.ttftNanos == 50)
        #expect(t.firstContentNanos == 80)
        #expect(t.interChunkNanos == [30, 20, 30, 10])
        // The usage chunk and [DONE] come after generation: they move neither E2EL nor ITL.
        #expect(t.e2elNanos == 140)
        #expect(t.chunksWithChoices == 5)
        #expect(t.contentChunks == 3)
        #expect(t.outputTokens == 3 && t.outputTokensFromUsage)
        #expect(t.usage == Usage(promptTokens: 9, completionTokens: 3, totalTokens: 12))
        #expect(t.tpotNanos == (140 - 50) / 2)
        #expect(t.finishReason == "stop")
        #expect(t.sawDone)
        #expect(t.error == nil)
    }

    @Test func completionsTimelineWithoutUsageCountsChunks() {
        let t = Self.timing([
            (1_000, Self.text("The")),
            (1_250, Self.text(" capital")),
            (1_400, Self.text(" is", finish: "length")),
            (1_500, .done),
        ])
        #expect(t.ttftNanos == 1_000)
        #expect(t.firstContentNanos == t.ttftNanos)
        #expect(t.interChunkNanos == [250, 150])
        #expect(t.e2elNanos == 1_400)
        #expect(t.outputTokens == 3 && !t.outputTokensFromUsage)
        #expect(t.tpotNanos == 200)
    }

    @Test func usageIsPreferredOverCountingChunks() {
        // Five tokens per chunk (a coalescing server): counting chunks would say 3.
        var t = Self.timing([(100, Self.text("aaaaa")), (200, Self.text("bbbbb")), (1_000, Self.text("ccccc"))])
        #expect(t.outputTokens == 3)
        t.record(.usage(Usage(promptTokens: 4, completionTokens: 15, totalTokens: 19)), atNanos: 1_001_100)
        #expect(t.outputTokens == 15 && t.outputTokensFromUsage)
        #expect(t.tpotNanos == (1_000 - 100) / 14)
        #expect(t.e2elNanos == 1_000)
    }

    @Test func usageWithoutCompletionTokensFallsBackToCounting() {
        let t = Self.timing([(10, Self.text("a")), (20, Self.text("b")), (30, .usage(Usage(promptTokens: 3)))])
        #expect(t.outputTokens == 2 && !t.outputTokensFromUsage)
        #expect(t.tpotNanos == 10)
    }

    @Test func continuousUsageKeepsTheLatestRunningTotal() {
        let t = Self.timing([
            (10, .choices(content: "a", finishReason: nil, usage: Usage(promptTokens: 2, completionTokens: 1, totalTokens: 3))),
            (30, .choices(content: "b", finishReason: nil, usage: Usage(promptTokens: 2, completionTokens: 2, totalTokens: 4))),
        ])
        #expect(t.usage?.completionTokens == 2)
        #expect(t.tpotNanos == 20)
    }

    /// A timeline and the TPOT it must give.
    struct TPOTCase: Sendable, CustomTestStringConvertible {
        var timeline: [(UInt64, OpenAIStreamChunk)]
        var tpot: UInt64?
        var testDescription: String { "\(timeline.count) chunks -> \(tpot.map(String.init) ?? "nil")" }
    }

    static let tpotCases: [TPOTCase] = [
        TPOTCase(timeline: [(70, text("only"))], tpot: nil),
        TPOTCase(timeline: [(70, text("")), (90, text("only"))], tpot: nil),
        TPOTCase(timeline: [(70, text(""))], tpot: nil),
        TPOTCase(timeline: [], tpot: nil),
        TPOTCase(timeline: [(70, text("a")), (90, text("b"))], tpot: 20),
        TPOTCase(timeline: [(70, text("a")), (90, .usage(Usage(completionTokens: 1)))], tpot: nil),
    ]

    @Test(arguments: tpotCases)
    func tpotNeedsMoreThanOneOutputToken(_ c: TPOTCase) {
        #expect(Self.timing(c.timeline).tpotNanos == c.tpot)
    }

    @Test func nothingIsMeasuredBeforeAChunkWithChoices() {
        let t = Self.timing([(5, .other), (10, .usage(Usage(completionTokens: 0))), (20, .done)])
        #expect(t.ttftNanos == nil && t.firstContentNanos == nil && t.e2elNanos == nil)
        #expect(t.interChunkNanos.isEmpty)
        #expect(t.outputTokens == 0 && t.outputTokensFromUsage)
        #expect(t.tpotNanos == nil)
        #expect(t.sawDone)
    }

    @Test func firstInStreamErrorIsKept() {
        let t = Self.timing([(10, Self.text("par")), (20, .error("KV cache exhausted")), (30, .error("second")), (40, .done)])
        #expect(t.error == "KV cache exhausted")
        #expect(t.e2elNanos == 10)
        #expect(t.outputTokens == 1)
    }

    /// A stream that ended cleanly is judged in order: non-JSON data, no event at all, no chunk
    /// with choices, no `[DONE]`; a valid one has no reason.
    @Test func invalidStreamsSayWhy() {
        func reason(_ chunks: [OpenAIStreamChunk], bytes: UInt64 = 100, discarded: Bool = false) -> String? {
            Self.timing(chunks.enumerated().map { (UInt64($0.offset + 1) * 10, $0.element) })
                .invalidReason(bodyBytes: bytes, discardedIncompleteEvent: discarded)
        }
        let a = Self.text("a"), last = Self.text("b", finish: "length")
        #expect(reason([a, last, .done]) == nil)
        #expect(reason([a, last, .usage(Usage(completionTokens: 2)), .done]) == nil)
        // Other-shaped JSON is ignored; text that is not JSON is not.
        #expect(reason([a, .other, last, .done]) == nil)
        #expect(reason([a, .notJSON("{\"id"), .notJSON("second"), last, .done]) == "stream event 2 is not JSON: {\"id")
        #expect(reason([]) == "stream ended without any data: event (100 bytes of event stream)")
        #expect(reason([], bytes: 1) == "stream ended without any data: event (1 byte of event stream)")
        #expect(reason([], bytes: 0) == "stream ended without any data: event (0 bytes of event stream)")
        #expect(reason([], discarded: true) == "stream ended without any data: event (100 bytes of event stream; an unfinished event at the end was discarded)")
        #expect(reason([.done]) == "stream ended without a chunk with choices after 1 chunk")
        #expect(reason([.usage(Usage(completionTokens: 0)), .other, .done]) == "stream ended without a chunk with choices after 3 chunks")
        #expect(reason([a, a, last]) == "stream ended without data: [DONE] after 3 chunks")
        #expect(reason([last]) == "stream ended without data: [DONE] after 1 chunk")
        #expect(reason([a, last], discarded: true) == "stream ended without data: [DONE] after 2 chunks; an unfinished event at the end was discarded")
        // Judging validity leaves the figures as they were (the caller drops a failed stream's).
        let t = Self.timing([(10, a), (30, last)])
        #expect(t.ttftNanos == 10 && t.e2elNanos == 30 && t.events == 2 && !t.sawDone)
    }

    @Test func clockReadingsBeforeSendCountAsZero() {
        var t = StreamTiming(sentNanos: 1_000)
        t.record(Self.text("a"), atNanos: 900)
        t.record(Self.text("b"), atNanos: 800)
        #expect(t.ttftNanos == 0 && t.e2elNanos == 0)
        #expect(t.interChunkNanos == [0])
        #expect(t.tpotNanos == 0)
    }

    @Test func interChunkGapsAreBounded() {
        var t = StreamTiming(sentNanos: 0)
        let chunks = StreamTiming.maxInterChunkGaps + 3
        for i in 0..<chunks { t.record(Self.text("x"), atNanos: UInt64(i + 1) * 10) }
        #expect(t.interChunkNanos.count == StreamTiming.maxInterChunkGaps)
        #expect(t.droppedInterChunkGaps == 2)
        #expect(t.chunksWithChoices == chunks)
        #expect(t.e2elNanos == UInt64(chunks) * 10)
        #expect(t.outputTokens == chunks)
        #expect(t.tpotNanos == 10)
    }

    @Test func parsedChatStreamEndToEnd() {
        // Bytes as the network delivers them -> events -> chunks -> timing, one event per 25 ns.
        var parser = SSEParser()
        var t = StreamTiming(sentNanos: 0)
        var now: UInt64 = 0
        let bytes = Array(SSEFixture.chat.utf8)
        for start in stride(from: 0, to: bytes.count, by: 13) {
            parser.feed(Array(bytes[start..<min(start + 13, bytes.count)])) { event in
                now += 25
                t.record(OpenAIStreamChunk.classify(event.data), atNanos: now)
            }
        }
        parser.finish { _ in Issue.record("finish dispatched an event") }
        #expect(t.ttftNanos == 25 && t.firstContentNanos == 50)
        #expect(t.interChunkNanos == [25, 25])
        #expect(t.e2elNanos == 75)
        #expect(t.outputTokens == 2 && t.outputTokensFromUsage)
        #expect(t.tpotNanos == 50)
        #expect(t.sawDone && !parser.discardedIncompleteEvent)
    }
}
