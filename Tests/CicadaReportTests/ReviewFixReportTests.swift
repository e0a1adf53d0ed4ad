import CicadaCore
import Foundation
import Testing
@testable import CicadaReport

/// Reports that a review found fragile: a seed beyond Int64 in the HTML page, and fractions that
/// 3-decimal rounding turned into 0.
@Suite struct ReviewFixReportTests {
    @Test func aSeedAboveInt64PrintsInsteadOfTrapping() throws {
        var r = Fixture.result()
        let p99 = try #require(FigureIntervals.points(of: r.snapshot)["p(99)"])
        let seed: UInt64 = 10_000_000_000_000_000_000
        r.intervals = FigureIntervals(level: 0.95, resamples: 1000, seed: seed, repetitions: 1, windows: 10, secondsPerWindow: 1, blockWindows: 2,
                                      method: "block-bootstrap", figures: ["p(99)": ConfidenceInterval(lower: p99 - 1, upper: p99 + 1)])
        let text = JSONReport(startNanos: Fixture.startNanos).render(r)
        #expect(text.contains("\"seed\": \(seed)") || text.contains("\"seed\":\(seed)"))
        let html = try HTMLReport.render(json: text)
        #expect(html.contains("seed 10000000000000000000"))
        // A hand-edited report with absurd whole numbers reads without a trap too.
        let edited = text.replacingOccurrences(of: #""workers": *[0-9]+"#, with: "\"workers\": 1e300", options: .regularExpression)
        #expect(edited != text)
        #expect(try HTMLReport.render(json: edited).contains("<html"))
    }

    @Test func smallErrorRatesAndIntervalBoundsKeepTheirDigits() throws {
        var r = Fixture.result()
        r.intervals = FigureIntervals(level: 0.95, resamples: 1000, seed: 1, repetitions: 1, windows: 10, secondsPerWindow: 1, blockWindows: 2,
                                      method: "block-bootstrap", figures: ["error_rate": ConfidenceInterval(lower: 0.00012, upper: 0.00047)])
        let text = JSONReport(startNanos: Fixture.startNanos).render(r)
        let doc = try #require(JSONValue.parse(Array(text.utf8)))
        let i = try #require(ConfidenceReport.intervals(in: doc)["error_rate"])
        #expect(i.lower == 0.00012 && i.upper == 0.00047, "3 decimals would read [0, 0]: \(i)")
    }
}
