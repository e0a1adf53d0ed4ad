import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

@Suite struct BreakdownReportTests {
    /// Turn 1 with two streams (TTFT 100 and 140 ms), turn 2 with one failure, turn 3 never
    /// reached, and one model with no stream.
    func result() -> RunResult {
        var snap = Fixture.snapshot()
        snap.groupKeys = [.turn(1), .turn(2), .turn(3), .model("a")]
        var groups = [RequestStats(), RequestStats()]
        for ttft in [100_000, 140_000] as [UInt64] {
            var o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: 200_000_000, ttfbMicros: nil, status: 200,
                                   failure: nil, error: nil, bytesIn: 0, bytesOut: 0)
            o.stream = StreamOutcome(ttftMicros: ttft, firstContentMicros: ttft, tpotMicros: nil, e2elMicros: 200_000, itlMicros: [],
                                     outputTokens: 3, inputTokens: nil, outputTokensFromUsage: false)
            groups[0].record(o)
        }
        groups[1].record(RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: 50_000_000, ttfbMicros: nil, status: 500,
                                        failure: .http5xx, error: "HTTP 500", bytesIn: 0, bytesOut: 0))
        snap.groups = groups
        return Fixture.result(snapshot: snap)
    }

    @Test func absentGroupsShowAbsentFiguresNeverZero() throws {
        let text = try #require(BreakdownReport.text(result()))
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.contains("Turn Reqs Fails p50 p99 TTFT p50 TTFT p99"))
        #expect(lines.contains("turn 1 2 0 200.0ms 200.0ms 100.0ms 140.0ms"), "\(lines)")
        #expect(lines.contains("turn 2 1 1 50.00ms 50.00ms - -"))
        #expect(lines.contains("turn 3 0 0 - - - -"))
        #expect(lines.contains("a 0 0 - - - -"))
        #expect(text.contains("PER MODEL"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(JSONReport().render(result()).utf8)) as? [String: Any])
        let b = try #require(json["breakdown"] as? [String: Any])
        let turns = try #require(b["turns"] as? [[String: Any]])
        #expect(turns.map { $0["turn"] as? Int } == [1, 2, 3])
        #expect(abs((turns[0]["median_ttft_ms"] as? Double ?? 0) - 100) < 0.2, "HdrHistogram: 3 significant digits")
        #expect(turns[0]["output_tokens"] as? Int == 6)
        #expect(turns[1]["median_ttft_ms"] is NSNull && turns[1]["failures"] as? Int == 1)
        #expect(turns[2]["p50_ms"] is NSNull && turns[2]["requests"] as? Int == 0)
        #expect((b["models"] as? [[String: Any]])?.first?["model"] as? String == "a")
    }

    @Test func aRunWithoutGroupsHasNoBreakdown() throws {
        let r = Fixture.result()
        #expect(BreakdownReport.text(r) == nil)
        #expect(JSONReport().render(r).contains("\"breakdown\": null"))
        #expect(!MarkdownSummary.render(r).contains("Per conversation turn"))
        let html = try HTMLReport.render(json: JSONReport().render(r))
        #expect(!html.contains("id=\"turns\"") && !html.contains("id=\"models\""))
    }

    @Test func markdownAndHTMLCarryTheTurnAndModelTables() throws {
        let md = MarkdownSummary.render(result())
        #expect(md.contains("**Per conversation turn**"))
        #expect(md.contains("| turn 1 | 2 | 0 | 200.0ms | 200.0ms | 100.0ms | 140.0ms |"), "\(md)")
        #expect(md.contains("| turn 3 | 0 | 0 | - | - | - | - |"))
        #expect(md.contains("**Per model**") && md.contains("| a | 0 | 0 | - | - | - | - |"))
        let html = try HTMLReport.render(json: JSONReport().render(result()))
        #expect(html.contains("<section id=\"turns\"><h2>Per conversation turn</h2>"))
        #expect(html.contains("<tr><td>2</td><td>1</td><td>1</td><td>50.00 ms</td><td>50.00 ms</td><td>-</td><td>-</td><td>-</td></tr>"), "turn 2: absent TTFT shows as absent")
        #expect(html.contains("<section id=\"models\"><h2>Per model</h2>"))
    }
}
