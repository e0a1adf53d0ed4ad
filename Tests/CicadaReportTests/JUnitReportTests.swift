import CicadaCore
import CicadaReport
import Foundation
import Testing

@Suite struct JUnitReportTests {
    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func oneFailurePerFailedThreshold() {
        let r = Fixture.result()
        let xml = JUnitReport.render(r)
        let failed = r.thresholds.filter { !$0.passed }.count
        #expect(failed == 2)
        #expect(count("<failure ", in: xml) == failed)
        #expect(count("<testcase ", in: xml) == 4)
        #expect(xml.contains("<testsuite name=\"cicada thresholds: checkout\" tests=\"4\" failures=\"2\""))
        #expect(xml.contains("<testcase classname=\"cicada.thresholds\" name=\"p(99)&lt;100ms\">\n      <failure message=\"measured 123.5ms\""))
        #expect(xml.contains("<testcase classname=\"cicada.thresholds\" name=\"error_rate&lt;20%\"/>"))
        #expect(xml.contains("<failure message=\"measured no data\""))
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"))
        #expect(xml.hasSuffix("</testsuites>\n"))
    }

    @Test func wellFormed() throws {
        var r = Fixture.result()
        r.scenarioName = "a & b <c> \"d\" 'e'\u{1}"
        let xml = JUnitReport.render(r)
        #expect(xml.contains("name=\"cicada thresholds: a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;\u{FFFD}\""))
        #if canImport(FoundationXML)
        _ = try XMLDocumentCheck.parse(xml)
        #endif
    }

    @Test func noThresholdsGivesOneRunCase() {
        var r = Fixture.result(verdicts: [])
        let ok = JUnitReport.render(r)
        #expect(count("<testcase ", in: ok) == 1)
        #expect(ok.contains("<testcase classname=\"cicada.thresholds\" name=\"run completed\"/>"))
        #expect(count("<failure ", in: ok) == 0)

        r.stopReason = .interrupted
        let bad = JUnitReport.render(r)
        #expect(count("<failure ", in: bad) == 1)
        #expect(bad.contains("<failure message=\"stopped: interrupted\""))
        #expect(bad.contains("tests=\"1\" failures=\"1\""))
    }

    @Test func escapeRules() {
        #expect(JUnitReport.escape("p(99)<=100ms & x>1") == "p(99)&lt;=100ms &amp; x&gt;1")
        #expect(JUnitReport.escape("a\nb\tc") == "a&#10;b&#9;c")
    }
}

#if canImport(FoundationXML)
import FoundationXML
/// Parses XML with Foundation to prove the report is well formed.
enum XMLDocumentCheck {
    static func parse(_ xml: String) throws -> XMLDocument { try XMLDocument(xmlString: xml) }
}
#endif
