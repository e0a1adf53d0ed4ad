import CicadaCore
import CicadaReport
import Foundation
import Testing

/// The gate with confidence intervals: overlapping intervals (noise) pass where single numbers
/// would fail, a real regression still fails, and reports without intervals keep the point rule.
@Suite struct RunDiffIntervalTests {
    /// The fixture's report with its whole-run p99 and qps set, and intervals on them when given.
    static func report(p99: Double, p99Interval: (Double, Double)?, qps: Double = 100, qpsInterval: (Double, Double)? = nil) throws -> String {
        let text = JSONReport(startNanos: Fixture.startNanos).render(Fixture.result())
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var lat = obj["latency_ms"] as! [String: Any]
        var corrected = lat["corrected"] as! [String: Any]
        corrected["p99"] = p99
        lat["corrected"] = corrected
        obj["latency_ms"] = lat
        var totals = obj["totals"] as! [String: Any]
        totals["qps"] = qps
        obj["totals"] = totals
        var figures: [String: Any] = [:]
        if let (lo, hi) = p99Interval { figures["p(99)"] = ["point": p99, "lower": lo, "upper": hi] }
        if let (lo, hi) = qpsInterval { figures["qps"] = ["point": qps, "lower": lo, "upper": hi] }
        obj["confidence"] = figures.isEmpty ? NSNull() : ["level": 0.95, "method": "block-bootstrap", "figures": figures] as [String: Any]
        return String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
    }

    func bounds(_ texts: String...) throws -> [RegressionBound] { try texts.map { try RegressionBound(parsing: $0) } }

    @Test func overlappingIntervalsPassWherePointsWouldFail() throws {
        // p99 100 -> 112 ms is +12%, past a +10% bound as single numbers ...
        let pointsOnly = try RunDiff(base: try Self.report(p99: 100, p99Interval: nil), new: try Self.report(p99: 112, p99Interval: nil),
                                     bounds: try bounds("p(99)=+10%"))
        #expect(pointsOnly.regressed)
        #expect(pointsOnly.text().contains("Neither report carries confidence intervals: single numbers compared."))
        // ... but the intervals overlap: noise, not a regression.
        let noisy = try RunDiff(base: try Self.report(p99: 100, p99Interval: (90, 115)), new: try Self.report(p99: 112, p99Interval: (98, 125)),
                                bounds: try bounds("p(99)=+10%"))
        #expect(!noisy.regressed)
        let row = try #require(noisy.rows.first { $0.task == "Aggregated" && $0.figure == "p(99)" })
        #expect(row.byInterval && row.baseInterval == ConfidenceInterval(lower: 90, upper: 115))
        let text = noisy.text(plain: true)
        #expect(text.contains("Compared by confidence intervals"))
        #expect(text.contains("112ms [98.0, 125.0]") || text.contains("112.0ms [98.0, 125.0]"), "\(text)")
        #expect(text.contains("PASS p(99)=+10% (intervals)"))
    }

    @Test func aRealRegressionStillFails() throws {
        // NEW's lower bound 140 is 21.7% above BASE's upper bound 115: past +10%, not past +25%.
        let base = try Self.report(p99: 100, p99Interval: (90, 115)), new = try Self.report(p99: 150, p99Interval: (140, 160))
        #expect(try RunDiff(base: base, new: new, bounds: try bounds("p(99)=+10%")).regressed)
        #expect(try !RunDiff(base: base, new: new, bounds: try bounds("p(99)=+25%")).regressed)
        #expect(try RunDiff(base: base, new: new, bounds: try bounds("p(99)=+20ms")).regressed)    // 140 - 115 = 25 ms
        #expect(try !RunDiff(base: base, new: new, bounds: try bounds("p(99)=+30ms")).regressed)
    }

    @Test func throughputMirrorsTheRule() throws {
        let base = try Self.report(p99: 100, p99Interval: (90, 110), qps: 100, qpsInterval: (95, 105))
        // NEW's upper bound 92 is 3.2% under BASE's lower bound 95: within -5%.
        let noise = try Self.report(p99: 100, p99Interval: (90, 110), qps: 88, qpsInterval: (80, 92))
        #expect(try !RunDiff(base: base, new: noise, bounds: try bounds("qps=-5%")).regressed)
        // 85 is 10.5% under 95: a regression.
        let slower = try Self.report(p99: 100, p99Interval: (90, 110), qps: 78, qpsInterval: (70, 85))
        #expect(try RunDiff(base: base, new: slower, bounds: try bounds("qps=-5%")).regressed)
    }

    @Test func withoutIntervalsOnBothSidesPointsAreComparedAndTheOutputSaysSo() throws {
        let diff = try RunDiff(base: try Self.report(p99: 100, p99Interval: nil), new: try Self.report(p99: 112, p99Interval: (98, 125)),
                               bounds: try bounds("p(99)=+10%"))
        #expect(diff.regressed)
        #expect(diff.text().contains("The baseline carries no confidence intervals: single numbers compared."))
        // An interval that does not hold its own report's figure is not trusted.
        let edited = try RunDiff(base: try Self.report(p99: 10, p99Interval: (90, 115)), new: try Self.report(p99: 112, p99Interval: (98, 125)),
                                 bounds: try bounds("p(99)=+10%"))
        #expect(edited.regressed)
    }

    @Test func theJSONReportCarriesIntervalsAndRepetitions() throws {
        var r = Fixture.result()
        let points = FigureIntervals.points(of: r.snapshot)
        let p99 = try #require(points["p(99)"])
        r.intervals = FigureIntervals(level: 0.95, resamples: 1000, seed: 42, repetitions: 2, windows: 10, secondsPerWindow: 1, blockWindows: 2,
                                      method: "two-stage-bootstrap", figures: ["p(99)": ConfidenceInterval(lower: p99 - 1, upper: p99 + 2)])
        r.repetitions = [RepetitionFigures(index: 1, seed: 42, result: Fixture.result()), RepetitionFigures(index: 2, seed: 42, result: Fixture.result())]
        let text = JSONReport(startNanos: Fixture.startNanos).render(r)
        let doc = try #require(JSONValue.parse(Array(text.utf8)))
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let conf = try #require(obj["confidence"] as? [String: Any])
        #expect(conf["method"] as? String == "two-stage-bootstrap")
        #expect(conf["resamples"] as? Double == 1000)
        #expect(ConfidenceReport.intervals(in: doc)["p(99)"] == ConfidenceInterval(lower: p99 - 1, upper: p99 + 2))
        let reps = try #require(obj["repetitions"] as? [[String: Any]])
        #expect(reps.count == 2)
        #expect(reps.first?["seed"] as? Double == 42)
        // The summary, Markdown and HTML show the figure with its interval.
        let line = ConfidenceReport.figure("p(99)", point: 41.2, interval: ConfidenceInterval(lower: 39.8, upper: 43.0))
        #expect(line == "p99 41.2 ms [39.8, 43.0]")
        #expect(ConfidenceReport.text(r)?.contains("two-stage bootstrap") == true)
        #expect(MarkdownSummary.render(r).contains("**Confidence**"))
        let html = try HTMLReport.render(json: text)
        #expect(html.contains("<section id=\"confidence\">"))
        // A report without intervals (older, or written before this) reads as before.
        let plain = JSONReport(startNanos: Fixture.startNanos).render(Fixture.result())
        let plainDoc = try #require(JSONValue.parse(Array(plain.utf8)))
        #expect(ConfidenceReport.intervals(in: plainDoc).isEmpty)
        #expect(try !HTMLReport.render(json: plain).contains("id=\"confidence\""))
    }
}
