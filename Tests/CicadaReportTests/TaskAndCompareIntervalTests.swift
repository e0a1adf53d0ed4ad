import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

/// Intervals on task figures (the JSON report's `tasks[].confidence`, judged by `cicada diff`
/// with the run-level rule) and on compared variants (overlap = within noise).
@Suite struct TaskAndCompareIntervalTests {
    /// The fixture's report with task `predict`'s p99 set, and an interval on it when given.
    static func report(taskP99: Double, interval: (Double, Double)?) throws -> String {
        let text = JSONReport(startNanos: Fixture.startNanos).render(Fixture.result())
        var obj = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var tasks = try #require(obj["tasks"] as? [[String: Any]])
        let i = try #require(tasks.firstIndex { $0["name"] as? String == "predict" })
        var lat = tasks[i]["latency_ms"] as! [String: Any]
        var corrected = lat["corrected"] as! [String: Any]
        corrected["p99"] = taskP99
        lat["corrected"] = corrected
        tasks[i]["latency_ms"] = lat
        if let (lo, hi) = interval {
            tasks[i]["confidence"] = ["windows": 30, "figures": ["p(99)": ["point": taskP99, "lower": lo, "upper": hi]]] as [String: Any]
        }
        obj["tasks"] = tasks
        return String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
    }

    func bounds(_ texts: String...) throws -> [RegressionBound] { try texts.map { try RegressionBound(parsing: $0) } }

    @Test func taskBoundsCompareIntervalEdgesLikeTheRunsBounds() throws {
        let bound = try bounds("predict: p(99)=+10%")
        // +12% as single numbers: past the bound.
        let points = try RunDiff(base: try Self.report(taskP99: 100, interval: nil), new: try Self.report(taskP99: 112, interval: nil), bounds: bound)
        #expect(points.regressed)
        // Overlapping task intervals: noise, as for a whole-run bound.
        let noisy = try RunDiff(base: try Self.report(taskP99: 100, interval: (90, 115)), new: try Self.report(taskP99: 112, interval: (98, 125)), bounds: bound)
        #expect(!noisy.regressed)
        let row = try #require(noisy.rows.first { $0.task == "predict" && $0.figure == "p(99)" })
        #expect(row.byInterval && row.newInterval == ConfidenceInterval(lower: 98, upper: 125))
        #expect(noisy.text(plain: true).contains("PASS predict: p(99)=+10% (intervals)"))
        // Disjoint: NEW's lower 140 is 21.7% above BASE's upper 115, the same verdicts as the run-level rule.
        let base = try Self.report(taskP99: 100, interval: (90, 115)), new = try Self.report(taskP99: 150, interval: (140, 160))
        for (text, regressed) in [("predict: p(99)=+10%", true), ("predict: p(99)=+25%", false), ("predict: p(99)=+20ms", true), ("predict: p(99)=+30ms", false)] {
            let b = try RegressionBound(parsing: text)
            #expect(try RunDiff(base: base, new: new, bounds: [b]).regressed == regressed, "\(text)")
            #expect(RunDiff.breaks(b, base: 100, new: 150, baseInterval: .init(lower: 90, upper: 115), newInterval: .init(lower: 140, upper: 160)) == regressed)
        }
        // One side without the task's interval: single numbers.
        #expect(try RunDiff(base: try Self.report(taskP99: 100, interval: nil), new: try Self.report(taskP99: 112, interval: (98, 125)), bounds: bound).regressed)
    }

    @Test func theJSONReportCarriesEachTasksIntervals() throws {
        var r = Fixture.result()
        let predict = FigureIntervals.points(of: r.snapshot.perStat[0], qps: r.snapshot.qps(of: 0))
        let p99 = try #require(predict["p(99)"]), qps = try #require(predict["qps"])
        r.taskIntervals = [
            FigureIntervals(level: 0.95, resamples: 1000, seed: 3, repetitions: 1, windows: 10, secondsPerWindow: 1, blockWindows: 2,
                            method: "block-bootstrap", figures: ["p(99)": .init(lower: p99 - 1, upper: p99 + 1), "qps": .init(lower: qps * 0.9, upper: qps * 1.1)]),
            nil,
        ]
        let text = JSONReport(startNanos: Fixture.startNanos).render(r)
        let doc = try #require(JSONValue.parse(Array(text.utf8)))
        let tasks = try #require(doc["tasks"]?.array)
        #expect(ConfidenceReport.intervals(in: tasks[0])["p(99)"] == ConfidenceInterval(lower: p99 - 1, upper: p99 + 1))
        #expect(tasks[0]["confidence"]?["windows"]?.double == 10)
        #expect(tasks[0]["confidence"]?["figures"]?["p(99)"]?["point"]?.double == p99)
        #expect(tasks[1]["confidence"].map { if case .null = $0 { true } else { false } } == true, "a task without intervals: null")
        // The run's own `confidence` is untouched by the tasks' (none here).
        #expect(ConfidenceReport.intervals(in: doc).isEmpty)
        // The summary lists the tasks with intervals (with the run's, once it has them).
        r.intervals = FigureIntervals(level: 0.95, resamples: 1000, seed: 3, repetitions: 1, windows: 10, secondsPerWindow: 1, blockWindows: 2,
                                      method: "block-bootstrap", figures: [:])
        let summary = try #require(ConfidenceReport.text(r))
        #expect(summary.contains("per task:\n    predict  p99 "), "\(summary)")
        #expect(!summary.contains("    health "), "a task without intervals is not listed")
        // A report with task intervals compares its tasks by interval against itself: no regression.
        let diff = try RunDiff(base: text, new: text, bounds: [try RegressionBound(parsing: "predict: p(99)=+0%")])
        #expect(!diff.regressed && diff.rows.first { $0.task == "predict" && $0.figure == "p(99)" }?.byInterval == true)
    }

    /// A variant whose intervals on p99 and qps are given.
    static func variant(_ name: String, took: Double, p99: (Double, Double)?, qps: (Double, Double)?) -> VariantResult {
        var r = ComparisonTests.run(name, took: Array(repeating: took, count: 100))
        var figures: [String: ConfidenceInterval] = [:]
        if let p99 { figures["p(99)"] = .init(lower: p99.0, upper: p99.1) }
        if let qps { figures["qps"] = .init(lower: qps.0, upper: qps.1) }
        if !figures.isEmpty {
            r.intervals = FigureIntervals(level: 0.95, resamples: 1000, seed: 1, repetitions: 1, windows: 10, secondsPerWindow: 1, blockWindows: 2,
                                          method: "block-bootstrap", figures: figures)
        }
        return VariantResult(name: name, config: "http://127.0.0.1:1/\(name)", result: r)
    }

    @Test func overlappingVariantIntervalsAreWithinNoise() throws {
        // base p99 10 ms [9, 11]; close 10.5 ms [9.5, 12] overlaps it; fast 5 ms [4.5, 5.5] does not.
        let variants = [Self.variant("base", took: 10, p99: (9, 11), qps: (9, 11)), Self.variant("close", took: 10.5, p99: (9.5, 12), qps: (9.5, 10.5)),
                        Self.variant("fast", took: 5, p99: (4.5, 5.5), qps: (9, 11)), Self.variant("bare", took: 20, p99: nil, qps: nil)]
        let c = Comparison(variants: variants, baselineIndex: 0)
        #expect(c.rows[1].significant["p(99)"] == false && c.rows[1].significant["qps"] == false)
        #expect(c.rows[2].significant["p(99)"] == true && c.rows[2].significant["qps"] == false)
        #expect(c.rows[3].significant.isEmpty, "no interval: not judged")
        #expect(c.rows[0].significant.isEmpty, "the baseline is not compared with itself")
        // The ranking: fast has the lowest p99, clear of every variant with an interval; the qps
        // winner (all 10/s) is within noise of the others that carry an interval.
        #expect(c.lowestP99?.name == "fast" && c.lowestP99WithinNoise == [])
        #expect(c.highestQPSWithinNoise.map(Set.init) == Set(["base", "close", "fast"]).subtracting([c.highestQPS!.name]))
        let text = c.text(plain: true)
        #expect(text.contains("close vs base: p99 10.50ms vs 10.00ms (+5.0%, within noise)"), "\(text)")
        #expect(text.contains("fast vs base: p99 5.00ms vs 10.00ms (-50.0%, significant)"), "\(text)")
        #expect(text.contains("bare vs base: p99 20.00ms vs 10.00ms (+100.0%)"), "\(text)")
        #expect(text.contains("within noise of"), "\(text)")
        #expect(c.markdown().contains("within noise"))
        // JSON: each variant's intervals and which changes are significant; the ranking's ties.
        let doc = try #require(JSONValue.parse(Array(c.json(variants: variants).utf8)))
        let rows = try #require(doc["variants"]?.array)
        #expect(rows[1]["change"]?["significant"]?["p(99)"] == .bool(false))
        #expect(rows[2]["change"]?["significant"]?["p(99)"] == .bool(true))
        #expect(rows[3]["change"]?["significant"]?["p(99)"] == .null)
        #expect(rows[2]["confidence"]?["p(99)"]?["lower"]?.double == 4.5)
        #expect(rows[3]["confidence"] == .null)
        #expect(doc["lowest_p99_within_noise"]?.array?.isEmpty == true)
        // Without any interval the ranking is not judged: null, never an empty (clear) list.
        let bare = Comparison(variants: [Self.variant("a", took: 1, p99: nil, qps: nil), Self.variant("b", took: 2, p99: nil, qps: nil)], baselineIndex: 0)
        #expect(bare.lowestP99WithinNoise == nil)
        #expect(!bare.text().contains("within noise"))
        #expect(JSONValue.parse(Array(bare.json(variants: []).utf8))?["lowest_p99_within_noise"] == .null)
    }
}
