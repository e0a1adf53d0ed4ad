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
}
