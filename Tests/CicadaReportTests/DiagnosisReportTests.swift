import CicadaCore
import CicadaReport
import Foundation
import Testing

/// Diagnoses reach every report: JSON `diagnoses`, the JUnit suite's output, the Markdown summary.
@Suite struct DiagnosisReportTests {
    static func result() -> RunResult {
        var r = Fixture.result()
        r.diagnoses = [Diagnosis(rule: "gpu_out_of_memory", severity: .critical, symptom: "the server ran out of GPU memory",
                                 cause: "batches too large", evidence: ["3 answers said out of memory: \"HTTP 507\""],
                                 action: "lower the batch size: max_batch_size 64 -> 10 fits", firedAtSeconds: 4.5)]
        return r
    }

    @Test func jsonCarriesEachDiagnosis() throws {
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(JSONReport().render(Self.result()).utf8)) as? [String: Any])
        let d = try #require((obj["diagnoses"] as? [[String: Any]])?.first)
        #expect(d["rule"] as? String == "gpu_out_of_memory")
        #expect(d["severity"] as? String == "critical")
        #expect(d["evidence"] as? [String] == ["3 answers said out of memory: \"HTTP 507\""])
        #expect(d["action"] as? String == "lower the batch size: max_batch_size 64 -> 10 fits")
        #expect(d["fired_at_s"] as? Double == 4.5)
        let healthy = try #require(try JSONSerialization.jsonObject(with: Data(JSONReport().render(Fixture.result()).utf8)) as? [String: Any])
        #expect((healthy["diagnoses"] as? [Any])?.isEmpty == true, "present and empty, not missing")
    }

    @Test func junitListsThemAsTheSuitesOutput() {
        let xml = JUnitReport.render(Self.result())
        #expect(xml.contains("<system-out>DIAGNOSES&#10;  CRITICAL gpu_out_of_memory: the server ran out of GPU memory (from 4.5s)&#10;"))
        #expect(!JUnitReport.render(Fixture.result()).contains("system-out"))
    }

    @Test func markdownListsThem() {
        let md = MarkdownSummary.render(Self.result())
        #expect(md.contains("**Diagnoses**\n\n- ❌ **gpu\\_out\\_of\\_memory**: the server ran out of GPU memory."))
        #expect(md.contains("Fix: lower the batch size: max\\_batch\\_size 64 -\\> 10 fits"))
    }
}
