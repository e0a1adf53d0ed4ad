import CicadaCore
import Testing
@testable import CicadaTransport

/// Per-token timing as the worker measures it, in virtual time: the write callback stamps each
/// SSE event with the transfer's clock when its bytes arrive, so a manual clock gives exact
/// TTFT, inter-token latency and TPOT, whatever the machine's load. (StreamingTests checks
/// the same against a real server's pace, within 2 ms.)
@Suite struct StreamTimingCallbackTests {
    /// Feeds `bytes` to the write callback as libcurl would.
    func feed(_ t: Transfer, _ text: String) {
        var bytes = Array(text.utf8)
        let n = bytes.count
        let ctx = Unmanaged.passUnretained(t).toOpaque()
        _ = bytes.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: n) { transferWriteCallback($0, 1, n, ctx) }
        }
    }

    func chunk(_ k: Int, last: Bool) -> String {
        "data: {\"id\":\"t\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" tok\(k)\",\"finish_reason\":\(last ? "\"length\"" : "null")}]}\n\n"
    }

    @Test func tokensAreTimedWhenTheirBytesArrive() throws {
        let clock = ManualTimeSource(startNanos: 1_000_000_000)
        let t = try #require(Transfer())
        t.clock = clock
        t.measureStream = true
        t.sentNanos = clock.nowNanos()
        // The Content-Type check needs a live response; start the stream parser as it would.
        t.streamChecked = true
        t.sse = SSEParser()
        t.timing = StreamTiming(sentNanos: t.sentNanos)
        // First token after 50 ms, then one every 10 ms; an event split across two writes is
        // timed when its second half arrives.
        clock.advance(by: .milliseconds(50))
        feed(t, chunk(0, last: false))
        for k in 1..<5 {
            clock.advance(by: .milliseconds(7))
            let c = chunk(k, last: k == 4)
            let cut = c.index(c.startIndex, offsetBy: c.count / 2)
            feed(t, String(c[..<cut]))
            clock.advance(by: .milliseconds(3))
            feed(t, String(c[cut...]))
        }
        feed(t, "data: [DONE]\n\n")
        let timing = try #require(t.timing)
        let s = LoadWorker.streamOutcome(timing)
        #expect(s.ttftMicros == 50_000)
        #expect(s.itlMicros == [10_000, 10_000, 10_000, 10_000])
        #expect(s.e2elMicros == 90_000)
        #expect(s.tpotMicros == 10_000)
        #expect(s.outputTokens == 5)
        #expect(t.bytesIn > 0)
    }

    /// An Anthropic stream through the same callback: TTFT is the first text delta, not
    /// `message_start` (sent at once by Anthropic's API, before any token), and the output
    /// tokens come from `message_delta`'s usage.
    @Test func anthropicTokensAreTimedFromTheFirstTextDelta() throws {
        let clock = ManualTimeSource(startNanos: 1_000_000_000)
        let t = try #require(Transfer())
        t.clock = clock
        t.measureStream = true
        t.streamDialect = .anthropic
        t.sentNanos = clock.nowNanos()
        t.streamChecked = true
        t.sse = SSEParser()
        t.timing = StreamTiming(sentNanos: t.sentNanos, dialect: .anthropic)
        func event(_ type: String, _ data: String) -> String { "event: \(type)\ndata: \(data)\n\n" }
        clock.advance(by: .milliseconds(5))
        feed(t, event("message_start", #"{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#)
            + event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
            + event("ping", #"{"type":"ping"}"#))
        clock.advance(by: .milliseconds(45))
        for k in 0..<4 {
            if k > 0 { clock.advance(by: .milliseconds(10)) }
            feed(t, event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" tok\#(k)"}}"#))
        }
        clock.advance(by: .milliseconds(2))
        feed(t, event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
            + event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":4}}"#)
            + event("message_stop", #"{"type":"message_stop"}"#))
        let timing = try #require(t.timing)
        #expect(timing.invalidReason(bodyBytes: t.bytesIn, discardedIncompleteEvent: false) == nil)
        let s = LoadWorker.streamOutcome(timing)
        #expect(s.ttftMicros == 50_000)
        #expect(s.itlMicros == [10_000, 10_000, 10_000])
        #expect(s.e2elMicros == 80_000)
        #expect(s.tpotMicros == 10_000)
        #expect(s.outputTokens == 4 && s.outputTokensFromUsage && s.inputTokens == 9)
    }
}
