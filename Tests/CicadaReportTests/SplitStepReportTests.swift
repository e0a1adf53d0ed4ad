import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

/// A split run's step windows in the reports (issue 16): the summary's STEPS table, the JSON's
/// `split.windows`, the Markdown steps table and one JUnit case per step.
@Suite struct SplitStepReportTests {
    static func stats(_ n: Int, ms: Double, failures: Int = 0) -> RequestStats {
        SplitReportTests.stats(n, ms: ms, failures: failures)
    }

    /// Two steps: 90/10 (both 10 ms, canary within bounds), then 50/50 from 20 s (canary at
    /// 20 ms with 3 failures in 100: p99 and error rate both past their bounds).
    static func result(minRequests: Int = 50) throws -> RunResult {
        let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                                       .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false)],
                             bounds: [try RegressionBound(parsing: "p(99)=+10%"), try RegressionBound(parsing: "error_rate=+1%")],
                             steps: [10, 50], minRequests: minRequests)
        var snap = Fixture.snapshot()
        let steps = [stats(900, ms: 10), stats(100, ms: 10), stats(100, ms: 10), stats(100, ms: 20, failures: 3)]
        var stable = steps[0], canary = steps[1]
        stable.merge(steps[2]); canary.merge(steps[3])
        snap.groupKeys = [.target("stable"), .target("canary")]
        snap.groups = [stable, canary]
        snap.splitSteps = steps
        var r = Fixture.result(snapshot: snap)
        r.split = SplitResult(spec: spec, snapshot: snap, finalWeights: [50, 50],
                              shifts: [SplitShift(atNanos: 20_000_000_000, weights: [50, 50])], runStartNanos: 0)
        return r
    }

    @Test func theSummaryHasAStepsTableAndEachStepsChecks() throws {
        let text = try #require(SplitReport.text(try Self.result(), plain: true))
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.contains("CANARY VERDICT: FAILED (against stable)"), "\(lines)")
        #expect(lines.contains("STEPS (each step's requests judged alone; a check needs 50 requests on each side)"), "\(lines)")
        #expect(lines.contains("1 0.0-20.0s stable 90 900 10.00ms 10.00ms 0.00% PASS"), "\(lines)")
        #expect(lines.contains("canary 10 100 10.00ms 10.00ms 0.00%"), "\(lines)")
        #expect(lines.contains("2 20.0-end stable 50 100 10.00ms 10.00ms 0.00% FAIL"), "\(lines)")
        #expect(lines.contains("step 2: FAIL canary p(99)=+10%: 20.00ms vs stable 10.00ms (limit 11.00ms)"), "\(lines)")
        #expect(lines.contains("step 2: FAIL canary error_rate=+1%: 3.00% vs stable 0.00% (limit 1.00%)"), "\(lines)")
    }

    @Test func notEnoughDataIsSaidNotFailed() throws {
        let r = try Self.result(minRequests: 101)
        #expect(r.split?.windows.map(\.verdict.state) == [.notEnoughData, .notEnoughData])
        let text = try #require(SplitReport.text(r, plain: true))
        #expect(text.contains("not enough data"), "\(text)")
        // The whole run still fails on its own figures (200 canary requests, 1.5 % errors).
        #expect(r.split?.verdict.passed == false)
    }

    @Test func theJSONCarriesEveryWindow() throws {
        let json = JSONReport().render(try Self.result())
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let split = try #require(obj["split"] as? [String: Any])
        #expect(split["passed"] as? Bool == false && split["min_requests"] as? Int == 50)
        let windows = try #require(split["windows"] as? [[String: Any]])
        #expect(windows.map { $0["step"] as? Int } == [1, 2])
        #expect(windows.map { $0["start_s"] as? Double } == [0, 20])
        #expect(windows[0]["end_s"] as? Double == 20 && windows[1]["end_s"] is NSNull)
        let members = try #require(windows[1]["members"] as? [[String: Any]])
        #expect(members.map { $0["weight"] as? Int } == [50, 50])
        #expect(members.map { $0["requests"] as? Int } == [100, 100])
        #expect(members[1]["p99_ms"] as? Double == 20 && members[1]["error_rate"] as? Double == 0.03)
        let verdicts = windows.map { $0["verdict"] as? [String: Any] }
        #expect(verdicts.map { $0?["state"] as? String } == ["passed", "failed"])
        let checks = try #require(verdicts[1]?["checks"] as? [[String: Any]])
        #expect(checks.map { $0["passed"] as? Bool } == [false, false])
        #expect(checks[0]["requests"] as? Int == 100 && checks[0]["baseline_requests"] as? Int == 100 && checks[0]["enough_data"] as? Bool == true)
    }

    @Test func theHTMLHasAStepsTableAndTheRunsVerdict() throws {
        let html = try HTMLReport.render(json: JSONReport().render(try Self.result()))
        #expect(html.contains("Canary verdict: <b class=\"fail\">FAILED</b>"))
        #expect(html.contains("Each step judged alone (a check needs 50 requests on each side)"), "\(html)")
        #expect(html.contains("<tr class=\"fail\"><td>2</td><td>20.0–end</td><td>stable</td><td>50</td><td>100</td>"), "\(html)")
    }

    @Test func theMarkdownHasAStepsTable() throws {
        let md = MarkdownSummary.render(try Self.result())
        #expect(md.contains("| Step | Time (s) | Weights | stable reqs / p99 / err | canary reqs / p99 / err | Verdict |"), "\(md)")
        #expect(md.contains("| 1 | 0.0-20.0s | 90/10 | 900 / 10.00ms / 0.00% | 100 / 10.00ms / 0.00% | PASS |"), "\(md)")
        #expect(md.contains("| 2 | 20.0-end | 50/50 | 100 / 10.00ms / 0.00% | 100 / 20.00ms / 3.00% | FAIL: canary p(99)=+10%"), "\(md)")
    }

    @Test func junitHasOneCasePerStepVerdict() throws {
        let xml = JUnitReport.render(try Self.result())
        #expect(xml.contains("<testcase classname=\"cicada.thresholds\" name=\"canary verdict, step 1 (stable 90 / canary 10)\"/>"), "\(xml)")
        #expect(xml.contains("<testcase classname=\"cicada.thresholds\" name=\"canary verdict, step 2 (stable 50 / canary 50)\">"), "\(xml)")
        #expect(xml.contains("<failure message=\"FAIL canary p(99)=+10%: 20.00ms vs stable 10.00ms (limit 11.00ms); FAIL canary error_rate=+1%: 3.00% vs stable 0.00% (limit 1.00%)\""), "\(xml)")
        // A step without enough data passes, and says so.
        let thin = JUnitReport.render(try Self.result(minRequests: 101))
        #expect(thin.contains("name=\"canary verdict, step 2 (stable 50 / canary 50): not enough data\"/>"), "\(thin)")
        // No split, no such case.
        #expect(!JUnitReport.render(Fixture.result()).contains("canary verdict"))
    }
}
