import CicadaCore
@testable import CicadaReport
import Foundation
import Testing

/// The measured window and the per-request export in the summary, the JSON and the HTML page.
@Suite struct MeasurementReportTests {
    func windowed() -> RunResult {
        var r = Fixture.result()
        r.snapshot.measurement = MeasurementWindow(warmup: .duration(.seconds(2)), cooldown: .seconds(1))
        r.snapshot.excludedWarmup = 40
        r.snapshot.excludedCooldown = 7
        r.snapshot.measuredFromSeconds = 2
        r.snapshot.measuredToSeconds = 4
        var tl = Timeline()
        for (t, phase) in [(1.0, MeasurementPhase.warmup), (2, .warmup), (3, .measured), (4, .measured), (5, .cooldown)] {
            var p = TimelinePoint(t: t, users: 1, qps: 10, failuresPerSecond: 0, p50Millis: 1, p95Millis: 2, p99Millis: 3)
            p.phase = phase
            tl.append(p)
        }
        r.timeline = tl
        r.requestLog = RequestLogSummary(path: "out/req.jsonl", written: 90, dropped: 3, fraction: 0.5)
        return r
    }

    @Test func theSummarySaysWhatWasLeftOutAndWhatWasDropped() {
        let text = SummaryPrinter().render(windowed())
        #expect(text.contains("Measured window: 2.0 s .. 4.0 s of the run; excluded from every figure: warm-up 2s: 40 requests, cool-down 1s: 7 requests"), "\(text)")
        #expect(text.contains("Requests out: 90 lines in out/req.jsonl (sample 0.5); 3 requests DROPPED"))
        // A run without windows or export prints neither line.
        let plain = SummaryPrinter().render(Fixture.result())
        #expect(!plain.contains("Measured window") && !plain.contains("Requests out"))
    }

    @Test func theJSONNamesTheWindowAndEachPointsPhase() throws {
        let json = JSONReport(startNanos: Fixture.startNanos).render(windowed())
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let w = try #require(obj["measurement_window"] as? [String: Any])
        #expect(w["start_s"] as? Double == 2 && w["end_s"] as? Double == 4)
        #expect(w["excluded_warmup"] as? Int == 40 && w["excluded_cooldown"] as? Int == 7)
        #expect((w["warmup"] as? [String: Any])?["seconds"] as? Double == 2)
        #expect(w["start_at"] is String && w["end_at"] is String)
        let out = try #require(obj["requests_out"] as? [String: Any])
        #expect(out["lines"] as? Int == 90 && out["dropped"] as? Int == 3)
        let phases = (obj["timeline"] as? [[String: Any]])?.map { $0["window"] as? String }
        #expect(phases == ["warmup", "warmup", "measured", "measured", "cooldown"])
        // Without windows: the whole run, nothing excluded, no export.
        let plain = try #require(try JSONSerialization.jsonObject(with: Data(JSONReport().render(Fixture.result()).utf8)) as? [String: Any])
        #expect((plain["measurement_window"] as? [String: Any])?["excluded_warmup"] as? Int == 0)
        #expect(plain["requests_out"] is NSNull)
    }

    @Test func theHTMLPageShadesTheWarmUpAndCoolDown() throws {
        let html = try HTMLReport.render(json: JSONReport(startNanos: Fixture.startNanos).render(windowed()))
        #expect(html.contains("<rect class=\"phase\""))
        #expect(html.contains("warm-up (not measured)") && html.contains("cool-down (not measured)"))
        let plain = try HTMLReport.render(json: JSONReport(startNanos: Fixture.startNanos).render(Fixture.result()))
        #expect(!plain.contains("<rect class=\"phase\""))
    }

    @Test func theProgressLineSaysWarmUp() {
        var snap = Fixture.snapshot()
        snap.phase = .warmup
        snap.excludedWarmup = 12
        #expect(ProgressLine.format(snap, duration: .seconds(60)).contains("warm-up (12 not measured)"))
        snap.phase = .measured
        #expect(!ProgressLine.format(snap, duration: .seconds(60)).contains("not measured"))
    }
}
