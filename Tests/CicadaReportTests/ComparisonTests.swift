import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

@Suite struct ComparisonTests {
    /// A run of `seconds` with one request per entry of `took` (ms), the first `failures` failed.
    static func run(_ name: String, took: [Double], failures: Int = 0, seconds: Double = 10, thresholdsPass: Bool = true) -> RunResult {
        var st = RequestStats()
        for (i, t) in took.enumerated() {
            st.record(Fixture.outcome(0, at: Double(i) * 10, took: t, status: i < failures ? 503 : 200,
                                      failure: i < failures ? .http5xx : nil, error: i < failures ? "HTTP 503" : nil))
        }
        let snap = Snapshot(elapsed: .fromSeconds(seconds), names: ["predict"], methods: ["POST"], perStat: [st], total: st, windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: WorkerGauges(), targetUsers: nil, targetRate: 10, measuredSeconds: seconds)
        let verdicts = Fixture.thresholds([("p(99)<100ms", thresholdsPass, took.max())])
        return RunResult(scenarioName: "cmp", target: "http://127.0.0.1:1/\(name)", snapshot: snap, thresholds: verdicts, stopReason: .completed,
                         timeline: Timeline(), events: [], startedAtUnix: Fixture.startUnix, cpuSeconds: 1, workers: 1,
                         modelDescription: "open: 10.0/s constant arrivals, max_in_flight 100", startNanos: Fixture.startNanos)
    }

    static let variants = [
        VariantResult(name: "seed", config: "engine seed (modelled)", result: run("seed", took: Array(repeating: 10, count: 100)),
                      engine: EngineFacts(preset: "seed", averageBatchSize: 3.2, peakMemoryFraction: 0.17, outOfMemory: 0)),
        VariantResult(name: "slow", config: "http://127.0.0.1:9/", result: run("slow", took: Array(repeating: 20, count: 50), failures: 5, thresholdsPass: false)),
        VariantResult(name: "empty", config: "http://127.0.0.1:10/", result: run("empty", took: [], seconds: 0)),
    ]

    @Test func changesAreRelativeToTheBaseline() throws {
        let c = Comparison(variants: Self.variants, baselineIndex: 0)
        let base = c.rows[0], slow = c.rows[1]
        #expect(base.qpsChange == nil && base.p99Change == nil, "the baseline has no change from itself")
        #expect(abs(try #require(slow.qpsChange) - -0.5) < 1e-9, "5/s against 10/s")
        #expect(abs(try #require(slow.p99Change) - 1.0) < 0.01, "20 ms against 10 ms")
        #expect(abs(try #require(slow.errorRateDeltaPoints) - 10) < 1e-9, "10% against 0%, in points")
        #expect(c.lowestP99?.name == "seed")
        #expect(c.highestQPS?.name == "seed")
    }

    @Test func absentFiguresGiveAbsentChangesNeverZero() {
        let c = Comparison(variants: Self.variants, baselineIndex: 0)
        let empty = c.rows[2]
        #expect(empty.p99 == nil && empty.qps == nil && empty.errorRate == nil)
        #expect(empty.p99Change == nil && empty.qpsChange == nil && empty.errorRateDeltaPoints == nil)
        // Against an empty baseline nothing can be compared.
        let fromEmpty = Comparison(variants: Self.variants, baselineIndex: 2)
        #expect(fromEmpty.rows[0].p99Change == nil && fromEmpty.rows[0].qpsChange == nil)
        #expect(Comparison.change(5, 0) == nil)
        #expect(Comparison.percent(nil) == "-")
    }

    @Test func percentTurnsIntoARatioFromTenfold() {
        #expect(Comparison.percent(0.25) == "+25.0%")
        #expect(Comparison.percent(-0.5) == "-50.0%")
        #expect(Comparison.percent(8.9) == "+890.0%")
        #expect(Comparison.percent(196) == "197x")
    }

    @Test func textNamesTheBaselineTheModelledColumnsAndTheDeltas() {
        let text = Comparison(variants: Self.variants, baselineIndex: 0).text(plain: true)
        #expect(text.contains("baseline seed"))
        #expect(text.contains("seed (base)"))
        #expect(text.contains("modelled by the embedded engine"))
        #expect(text.contains("slow vs seed: p99 20.00ms vs 10.00ms (+100.0%), 5.0 vs 10.0 req/s (-50.0%), errors +10.00 pp"))
        #expect(text.contains("FAIL"))
        #expect(!text.contains("Δ"), "plain text has no non-ASCII marks")
        #expect(text.contains("lowest p99: seed"))
    }

    @Test func jsonIsValidAndNestsEachVariantsReport() throws {
        let c = Comparison(variants: Self.variants, baselineIndex: 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(c.json(variants: Self.variants).utf8)) as? [String: Any])
        #expect(obj["schema"] as? String == "cicada.compare/v1")
        #expect(obj["baseline"] as? String == "seed")
        #expect(obj["passed"] as? Bool == false)
        let vs = try #require(obj["variants"] as? [[String: Any]])
        #expect(vs.map { $0["name"] as? String } == ["seed", "slow", "empty"])
        let change = try #require(vs[1]["change"] as? [String: Any])
        #expect(change["qps"] as? Double == -0.5)
        #expect(change["p99"] as? Double == 1)
        #expect((vs[0]["change"] as? [String: Any])?["p99"] is NSNull)
        #expect((vs[2]["latency_ms"] as? [String: Any])?["p99"] is NSNull)
        #expect((vs[0]["engine"] as? [String: Any])?["modelled"] as? Bool == true)
        #expect(vs[1]["engine"] is NSNull)
        #expect((vs[1]["report"] as? [String: Any])?["schema"] as? String == "cicada.report/v1")
    }

    @Test func csvHasOneRowPerVariantAndNAForAbsent() {
        let csv = CSVReport.comparison(Comparison(variants: Self.variants, baselineIndex: 0))
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == CSVReport.comparisonHeader)
        #expect(lines[1].hasPrefix("seed,true,engine seed (modelled),100,10,"))
        #expect(lines[2].contains(",-0.5,1,10,false,"))
        #expect(lines[3].hasPrefix("empty,false,http://127.0.0.1:10/,0,N/A,N/A"))
    }

    @Test func junitHasOneSuitePerVariant() {
        let xml = JUnitReport.render(suites: Self.variants.map { ($0.name, $0.result) })
        #expect(xml.components(separatedBy: "<testsuite ").count - 1 == 3)
        #expect(xml.contains("<testsuites tests=\"3\" failures=\"1\""))
    }
}
