import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

/// A split run's reports (issue 16): the summary table and verdict, the JSON `split`, the HTML
/// section; a member with no request shows absent figures, never zeros.
@Suite struct SplitReportTests {
    static func stats(_ n: Int, ms: Double, failures: Int = 0) -> RequestStats {
        var s = RequestStats()
        for i in 0..<n {
            s.record(RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: UInt64(ms * 1e6), ttfbMicros: nil,
                                    status: i < failures ? 500 : 200, failure: i < failures ? .http5xx : nil, error: nil, bytesIn: 0, bytesOut: 0))
        }
        return s
    }

    /// Three members: the baseline (90 requests of 10 ms), a slow canary (10 of 20 ms) and one
    /// that got nothing; bound p99 +10%.
    static func result() throws -> RunResult {
        let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                                       .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false, engineSummary: "engine X (modelled)"),
                                       .init(name: "idle", target: "http://127.0.0.1:3", weight: 1, baseline: false)],
                             bounds: [try RegressionBound(parsing: "p(99)=+10%")])
        var snap = Fixture.snapshot()
        snap.groupKeys = [.target("stable"), .target("canary"), .target("idle")]
        snap.groups = [stats(90, ms: 10), stats(10, ms: 20, failures: 1)]
        var r = Fixture.result(snapshot: snap)
        r.split = SplitResult(spec: spec, snapshot: snap, finalWeights: nil)
        return r
    }

    @Test func theSummaryShowsEachTargetAndTheVerdictWithItsLimit() throws {
        let text = try #require(SplitReport.text(try Self.result(), plain: true))
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.contains("stable baseline 90 90 90.0% 0 10.00ms 10.00ms 0.00%"), "\(lines)")
        #expect(lines.contains("canary canary 10 10 10.0% 1 20.00ms 20.00ms 10.00%"), "\(lines)")
        #expect(lines.contains("idle canary 1 0 0.0% 0 - - -"), "absent, never 0 ms: \(lines)")
        #expect(lines.contains("CANARY VERDICT: FAILED (against stable)"))
        #expect(lines.contains("FAIL canary p(99)=+10%: 20.00ms vs stable 10.00ms (limit 11.00ms)"), "\(lines)")
        #expect(lines.contains("NONE idle p(99)=+10%: no data vs stable 10.00ms (limit 11.00ms) (not judged)"), "\(lines)")
        #expect(SplitReport.text(Fixture.result()) == nil)
    }

    @Test func theJSONAndHTMLCarryTheSplit() throws {
        let r = try Self.result()
        let json = JSONReport().render(r)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(obj["passed"] as? Bool == false, "the verdict fails the run")
        let split = try #require(obj["split"] as? [String: Any])
        let members = try #require(split["members"] as? [[String: Any]])
        #expect(members.map { $0["requests"] as? Int } == [90, 10, 0])
        #expect(members[2]["p99_ms"] is NSNull && members[2]["error_rate"] is NSNull)
        #expect(members[1]["engine"] as? String == "engine X (modelled)" && members[0]["engine"] is NSNull)
        let checks = try #require((split["verdict"] as? [String: Any])?["checks"] as? [[String: Any]])
        #expect(checks.map { $0["passed"] as? Bool } == [false, nil])
        #expect(checks[0]["limit"] as? Double == 11)
        let html = try HTMLReport.render(json: json)
        #expect(html.contains("<section id=\"split\"><h2>Split (canary roll-out)</h2>"))
        #expect(html.contains("Canary verdict: <b class=\"fail\">FAILED</b>"))
        #expect(html.contains("<code>p(99)=+10%</code>"))
        #expect(!(try HTMLReport.render(json: JSONReport().render(Fixture.result()))).contains("id=\"split\""))
    }
}
