import CicadaCore
@testable import CicadaReport
import Foundation
import Testing

/// The HTML report: one self-contained page made from the JSON report.
@Suite struct HTMLReportTests {
    static func json(_ r: RunResult = Fixture.result()) -> String { JSONReport(startNanos: Fixture.startNanos).render(r) }

    /// The embedded data block's text.
    static func embedded(_ html: String) throws -> String {
        let open = try #require(html.range(of: "<script type=\"application/json\" id=\"cicada-report\">"))
        let close = try #require(html.range(of: "</script>", range: open.upperBound..<html.endIndex))
        return String(html[open.upperBound..<close.lowerBound])
    }

    @Test func sectionsInOrderAndTheDataEmbedded() throws {
        var r = Fixture.result()
        r.diagnoses = [Diagnosis(rule: "generator_behind", severity: .warning, symptom: "behind", cause: "c", evidence: ["lag"], action: "more cores")]
        let json = Self.json(r)
        let html = try HTMLReport.render(json: json)
        let ids = ["verdict", "diagnoses", "facts", "kpis", "series", "distributions", "tasks", "errors", "validity"]
        let positions = try ids.map { id in try #require(html.range(of: "<section id=\"\(id)\">")?.lowerBound, "section \(id)") }
        #expect(positions == positions.sorted(), "sections in the issue's order")
        // The page is also the data: the embedded block parses to the same JSON.
        #expect(JSONValue.parse(Array(try Self.embedded(html).utf8)) == JSONValue.parse(Array(json.utf8)))
        #expect(html.contains("<svg class=\"chart\""))
        #expect(html.contains("<details><summary>Data</summary><table>"), "a table under every chart")
        #expect(html.contains("prefers-color-scheme:dark") && html.contains("@media print"))
        #expect(html.contains("The load generator was saturated"), "validity banner when the generator was behind")
        #expect(html.contains("FAILED"), "the fixture fails a threshold")
    }

    /// No external resource: nothing to fetch, so the page works offline. The only URL in it
    /// outside the embedded data is the run's own target, shown as text.
    @Test func nothingIsFetched() throws {
        let html = try HTMLReport.render(json: Self.json())
        let outside = html.replacingOccurrences(of: try Self.embedded(html), with: "")
            .replacingOccurrences(of: "http://127.0.0.1:8080", with: "")
        for needle in ["http://", "https://", "src=", "href=", "url(", "@import", "//cdn"] {
            #expect(!outside.contains(needle), "found \(needle)")
        }
    }

    @Test func textIsEscapedAndTheDataBlockCannotBeClosedEarly() throws {
        var snap = Fixture.snapshot()
        var errors = ErrorTable()
        errors.record(ErrorKey(method: "GET", name: "<b>x</b>", message: "</script><script>alert(1)</script>"), atNanos: Fixture.startNanos)
        snap.errors = errors
        var r = Fixture.result(snapshot: snap)
        r.scenarioName = "a<b>&\"c\""
        let html = try HTMLReport.render(json: Self.json(r))
        #expect(!html.contains("<script>alert(1)"))
        #expect(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)"))
        #expect(html.contains("<title>cicada: a&lt;b&gt;&amp;&quot;c&quot;</title>"))
        #expect(JSONValue.parse(Array(try Self.embedded(html).utf8)) == JSONValue.parse(Array(Self.json(r).utf8)))
    }

    @Test func absentDataIsADashNotAZero() throws {
        let empty = Fixture.result(snapshot: Snapshot(elapsed: .zero, names: ["p"], methods: ["GET"], perStat: [RequestStats()], total: RequestStats(),
                                                      windows: [:], defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(),
                                                      dropped: 0, gauges: .init(), targetUsers: nil, targetRate: nil, measuredSeconds: 0), verdicts: [])
        let html = try HTMLReport.render(json: Self.json(empty))
        #expect(html.contains("<div class=\"v\">-</div><div class=\"k\">p99</div>"))
        #expect(!html.contains("<div class=\"v\">0.00 ms</div>"))
        #expect(html.contains("No thresholds."))
    }

    @Test func badInputSaysWhat() {
        #expect(throws: HTMLReportError("not a JSON document")) { try HTMLReport.render(json: String(Self.json().prefix(200))) }
        #expect(throws: HTMLReportError("not a JSON object")) { try HTMLReport.render(json: "[1]") }
        do {
            _ = try HTMLReport.render(json: #"{"schema": "cicada.report/v9"}"#)
            Issue.record("accepted another schema")
        } catch { #expect(error.description.contains("schema cicada.report/v9 is not supported")) }
    }

    @Test func longSeriesAreDownsampledKeepingPeaks() {
        var points: [(Double, Double?)] = (0..<3600).map { (Double($0), 1.0) }
        points[1234].1 = 500
        points[2000].1 = nil
        let d = HTMLReport.downsample(points, to: HTMLReport.maxChartPoints)
        #expect(d.count <= HTMLReport.maxChartPoints)
        #expect(d.compactMap { $0.1 }.max() == 500, "the peak survives")
        #expect(d.first?.0 == 0)
    }
}
