import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

@Suite struct LLMReportTests {
    func resultWithStreams() -> RunResult {
        var snap = Fixture.snapshot()
        var total = snap.total
        for i in 0..<4 {
            var o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: 300_000_000, ttfbMicros: nil, status: 200,
                                   failure: nil, error: nil, bytesIn: 0, bytesOut: 0)
            o.stream = StreamOutcome(ttftMicros: 100_000 + UInt64(i) * 1000, firstContentMicros: 101_000, tpotMicros: 10_000, e2elMicros: 300_000,
                                     itlMicros: [10_000, 10_000], outputTokens: 21, inputTokens: 5, outputTokensFromUsage: true)
            o.good = i < 3
            total.record(o)
        }
        snap.total = total
        var r = Fixture.result(snapshot: snap)
        r.goodputConfigured = true
        return r
    }

    @Test func vllmLayout() throws {
        let text = try #require(LLMReport.text(resultWithStreams(), goodputConfigured: true))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "============ Serving Benchmark Result ============")
        #expect(lines.contains("---------------Time to First Token----------------"))
        #expect(lines.contains("Successful requests:                             4"))
        #expect(lines.contains("Total generated tokens:                         84"))
        #expect(lines.contains { $0.hasPrefix("Mean TPOT (ms):") && $0.hasSuffix("10.00") })
        #expect(lines.allSatisfy { $0.count == 50 })
        // Every stream reported usage: the counts are the server's, and no reasoning row appears.
        #expect(lines.contains { $0.hasPrefix("Output tokens counted by:") && $0.hasSuffix(" usage") })
        #expect(!lines.contains { $0.hasPrefix("Reasoning tokens") })
    }

    @Test func jsonUsesVllmKeysAndIsNullWithoutStreams() throws {
        let json = JSONReport().render(resultWithStreams())
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let llm = try #require(obj["llm"] as? [String: Any])
        #expect(llm["completed"] as? Int == 4)
        #expect(llm["total_output_tokens"] as? Int == 84)
        #expect(llm["median_tpot_ms"] as? Double == 10)
        #expect(llm["request_goodput"] is Double)
        for key in ["mean_ttft_ms", "p99_ttft_ms", "std_itl_ms", "p95_e2el_ms", "output_throughput", "total_token_throughput"] {
            // A number, not JSON null (which JSONSerialization turns into a non-nil NSNull).
            let value = llm[key] as? Double
            #expect(value.map { $0.isFinite && $0 >= 0 } == true, "\(key): \(String(describing: llm[key]))")
        }
        let plain = JSONReport().render(Fixture.result())
        #expect(plain.contains("\"llm\": null"))
        #expect(LLMReport.text(Fixture.result(), goodputConfigured: false) == nil)
    }
}
