import CicadaCore
@testable import CicadaReport
import Testing

@Suite struct ReportTextTests {
    @Test func iso8601() {
        #expect(ReportText.iso8601(unix: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ReportText.iso8601(unix: 1_700_000_000.25) == "2023-11-14T22:13:20.250Z")
        #expect(ReportText.iso8601(unix: 951_782_400) == "2000-02-29T00:00:00.000Z")
        #expect(ReportText.iso8601(unix: 4_102_444_799.999) == "2099-12-31T23:59:59.999Z")
        #expect(ReportText.iso8601(unix: -1) == "1969-12-31T23:59:59.000Z")
    }

    @Test func decimals() {
        #expect(ReportNumber.decimal(60) == "60")
        #expect(ReportNumber.decimal(0.1666666) == "0.167")
        #expect(ReportNumber.decimal(2.5) == "2.5")
        #expect(ReportNumber.decimal(-0.0001) == "0")
        #expect(ReportNumber.decimal(-1.25) == "-1.25")
        #expect(ReportNumber.decimal(.nan) == nil)
        #expect(ReportNumber.decimal(.infinity) == nil)
        #expect(ReportNumber.decimal(1e17) == "100000000000000000")
        #expect(ReportNumber.millis(123_456) == "123.456")
        #expect(ReportNumber.millis(1_200) == "1.2")
        #expect(ReportNumber.millis(5) == "0.005")
        #expect(ReportNumber.millis(3_000) == "3")
    }

    @Test func oneLine() {
        #expect(ReportText.oneLine("a\nb\tc", limit: 10) == "a b c")
        #expect(ReportText.oneLine("abcdefghijkl", limit: 8) == "abcde...")
    }
}
