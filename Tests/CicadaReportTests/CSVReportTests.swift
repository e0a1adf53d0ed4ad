import CicadaCore
import CicadaReport
import Testing

@Suite struct CSVReportTests {
    /// Splits one CSV line with no quoted fields.
    func cells(_ line: Substring) -> [String] { line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

    @Test func statsHeaderIsLocustsExactly() {
        let lines = CSVReport.stats(Fixture.result()).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%")
        #expect(lines.count == 5) // header, predict, health, Aggregated, and the empty piece after the final newline
        #expect(lines.last == "")
    }

    @Test func historyAndFailureHeadersAreLocustsExactly() {
        #expect(CSVReport.historyHeader == "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size")
        #expect(CSVReport.failuresHeader == "Method,Name,Error,Occurrences,First Seen,Last Seen")
        #expect(CSVReport.failures(Fixture.result(), startNanos: Fixture.startNanos, startUnix: Fixture.startUnix).hasPrefix(CSVReport.failuresHeader + "\n"))
    }

    @Test func statsRowValues() {
        let lines = CSVReport.stats(Fixture.result()).split(separator: "\n")
        let predict = cells(lines[1])
        #expect(predict.count == 22)
        #expect(Array(predict[0...3]) == ["POST", "predict", "10", "2"])
        #expect(predict[6] == "1.2")      // min, ms
        #expect(predict[7] == "123.456")  // max, ms
        #expect(predict[8] == "80")       // 800 bytes in / 10 requests
        #expect(predict[9] == "0.167")    // 10 requests / 60 s
        #expect(predict[10] == "0.033")   // 2 failures / 60 s
        #expect(predict[21] == "123.456") // 100% is the exact max

        let health = cells(lines[2])
        #expect(Array(health[0...3]) == ["GET", "health", "3", "0"])
        #expect(health[5] == "0.6") // average

        let total = cells(lines[3])
        #expect(Array(total[0...3]) == ["", "Aggregated", "13", "2"])
        #expect(total[6] == "0.5" && total[7] == "123.456")
    }

    @Test func percentilesAreNotRoundedToTwoSignificantDigits() throws {
        let predict = cells(CSVReport.stats(Fixture.result()).split(separator: "\n")[1])
        // 90%, 95%, 99%: the 123.456 ms requests. Locust would print 120.
        for column in [15, 16, 18] {
            let v = try #require(Double(predict[column]))
            #expect(v >= 123.455 && v <= 123.6, "column \(column) = \(predict[column])")
        }
        // The median (3.0 ms) keeps HdrHistogram's three significant digits, not Locust's rounding.
        let median = try #require(Double(predict[4]))
        #expect(median >= 3.0 && median < 3.01)
        // No percentile exceeds the max.
        for column in 11...21 { #expect(try #require(Double(predict[column])) <= 123.456) }
    }

    @Test func emptyStatsAreNotApplicableNotZero() {
        let lines = CSVReport.stats(Fixture.emptyResult()).split(separator: "\n")
        #expect(lines[1] == "POST,predict,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A")
        #expect(lines[2] == ",Aggregated,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A")
    }

    @Test func historyRowsUseTheWindowAndCumulativeTotals() {
        let snap = Fixture.snapshot()
        let full = CSVReport.historyRows(snap, timestampUnix: 1_700_000_060, fullHistory: true).split(separator: "\n")
        #expect(full.count == 3)
        let predict = cells(full[0])
        #expect(predict.count == 24)
        #expect(Array(predict[0...5]) == ["1700000060", "10", "POST", "predict", "0.2", "0.2"]) // 2 requests, 2 failures in a 10 s window
        #expect(predict[6] == "123.456") // windowed median: only the slow requests are in the window
        #expect(Array(predict[17...]) == ["10", "2", "3.001", "27.411", "1.2", "123.456", "80"]) // cumulative
        let health = cells(full[1])
        #expect(Array(health[2...6]) == ["GET", "health", "0", "0", "N/A"])
        #expect(health[17] == "3")
        let total = cells(full[2])
        #expect(Array(total[2...3]) == ["", "Aggregated"])
        #expect(total[17] == "13" && total[18] == "2")

        let aggregateOnly = CSVReport.historyRows(snap, timestampUnix: 1_700_000_060, fullHistory: false)
        #expect(aggregateOnly == String(full[2]) + "\n")
    }

    @Test func historyWithoutWindowIsNotApplicable() {
        let row = CSVReport.historyRows(Fixture.emptyResult().snapshot, timestampUnix: 5, fullHistory: false)
        #expect(row == "5,0,,Aggregated,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,N/A,N/A,N/A,N/A,N/A\n")
    }

    @Test func failuresRowsWithUnixTimesAndEscaping() {
        let text = CSVReport.failures(Fixture.result(), startNanos: Fixture.startNanos, startUnix: Fixture.startUnix)
        #expect(text == """
        Method,Name,Error,Occurrences,First Seen,Last Seen
        POST,predict,HTTP 503,2,1700000009.373,1700000009.873
        GET,health,"bad ""json"", line 1",1,1700000030.25,1700000030.25

        """)
    }

    @Test func escaping() {
        #expect(CSVReport.escape("plain text") == "plain text")
        #expect(CSVReport.escape("") == "")
        #expect(CSVReport.escape("a,b") == "\"a,b\"")
        #expect(CSVReport.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVReport.escape("two\nlines") == "\"two\nlines\"")
        #expect(CSVReport.escape("cr\r\nlf") == "\"cr\r\nlf\"")
        #expect(CSVReport.escape("µs, é") == "\"µs, é\"")
    }

    @Test func namesWithCommasAreQuotedInStats() {
        var snap = Fixture.snapshot()
        snap.names = ["predict, v2", "health"]
        let line = CSVReport.stats(Fixture.result(snapshot: snap)).split(separator: "\n")[1]
        #expect(line.hasPrefix("POST,\"predict, v2\",10,2,"))
    }
}
