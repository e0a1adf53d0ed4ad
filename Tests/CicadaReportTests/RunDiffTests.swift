import CicadaCore
import CicadaReport
import Foundation
import Testing

/// The baseline regression gate: bounds, figures read from two JSON reports, the verdict.
@Suite struct RunDiffTests {
    /// The fixture's JSON report with its latencies scaled by `factor` and its failures set.
    static func report(latencyScale factor: Double = 1, failures: Int? = nil, qpsScale: Double = 1, scenario: String? = nil) throws -> String {
        var r = Fixture.result()
        if let scenario { r.scenarioName = scenario }
        let text = JSONReport(startNanos: Fixture.startNanos).render(r)
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        func scale(_ lat: Any?) -> Any? {
            guard var l = lat as? [String: Any] else { return lat }
            for (k, v) in l { if var h = v as? [String: Any] { for (hk, hv) in h where hk != "count" { if let d = hv as? Double { h[hk] = d * factor } }; l[k] = h } }
            return l
        }
        obj["latency_ms"] = scale(obj["latency_ms"])
        var totals = obj["totals"] as! [String: Any]
        if let failures { totals["failures"] = failures }
        totals["qps"] = (totals["qps"] as? Double ?? 0) * qpsScale
        obj["totals"] = totals
        obj["tasks"] = (obj["tasks"] as? [[String: Any]] ?? []).map { t in var t = t; t["latency_ms"] = scale(t["latency_ms"]); return t }
        return String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
    }

    func bounds(_ texts: String...) throws -> [RegressionBound] { try texts.map { try RegressionBound(parsing: $0) } }

    @Test func aRegressionPastItsBoundFailsAndAnImprovementPasses() throws {
        let base = try Self.report()
        let slower = try RunDiff(base: base, new: try Self.report(latencyScale: 1.2), bounds: try bounds("p(99)=+10%"))
        #expect(slower.regressed)
        #expect(slower.rows.first { $0.task == "Aggregated" && $0.figure == "p(99)" }?.regressed == true)
        #expect(slower.text(plain: true).contains("REGRESSED: Aggregated p(99)=+10%"))
        #expect(try !RunDiff(base: base, new: try Self.report(latencyScale: 1.05), bounds: try bounds("p(99)=+10%")).regressed)
        #expect(try !RunDiff(base: base, new: try Self.report(latencyScale: 0.5), bounds: try bounds("p(99)=+10%")).regressed, "faster is never a regression")
        // Absolute: +5 ms on a task.
        #expect(try RunDiff(base: base, new: try Self.report(latencyScale: 2), bounds: try bounds("predict: p(95)=+5ms")).regressed)
    }

    @Test func errorRateInPointsAndThroughputThatFalls() throws {
        let base = try Self.report()
        // The fixture has 2 failures in 13 requests; 4 is +15.4 points.
        #expect(try RunDiff(base: base, new: try Self.report(failures: 4), bounds: try bounds("error_rate=+10%")).regressed)
        #expect(try !RunDiff(base: base, new: try Self.report(failures: 2), bounds: try bounds("error_rate=+0.5%")).regressed)
        #expect(try RunDiff(base: base, new: try Self.report(qpsScale: 0.8), bounds: try bounds("qps=-5%")).regressed)
        #expect(try !RunDiff(base: base, new: try Self.report(qpsScale: 1.5), bounds: try bounds("qps=-5%")).regressed)
    }

    @Test func boundsThatDoNotParseSayWhy() {
        for (text, fragment) in [("p(99)", "expected figure=+N%"), ("p(42)=+10%", "unknown figure 'p(42)'"), ("p(99)=10%", "with its sign"),
                                 ("p(99)=-10%", "gets worse when it rises"), ("qps=+5%", "gets worse when it falls"), ("p(99)=+ten%", "is not a change")] {
            do { _ = try RegressionBound(parsing: text); Issue.record("accepted \(text)") } catch { #expect(error.description.contains(fragment), "\(text): \(error)") }
        }
        #expect((try? RegressionBound(parsing: "predict: raw.p(99.9)=+5ms"))?.task == "predict")
    }

    @Test func incompatibleReportsAreRefused() throws {
        let base = try Self.report()
        #expect(throws: RunDiffError.self) { try RunDiff(base: base, new: try Self.report(scenario: "other"), bounds: []) }
        #expect(throws: RunDiffError("the new report: schema cicada.compare/v1; cicada diff compares cicada.report/v1 reports")) {
            try RunDiff(base: base, new: #"{"schema": "cicada.compare/v1"}"#, bounds: [])
        }
        #expect(throws: RunDiffError("the baseline: not a JSON document")) { try RunDiff(base: "{", new: base, bounds: []) }
        #expect(throws: RunDiffError.self) { try RunDiff(base: base, new: base, bounds: try bounds("nosuch: p(99)=+1%")) }
    }
}
