import Foundation
import CicadaCore
import CicadaReport
import Testing

@Suite struct SummaryPrinterTests {
    @Test func goldenText() {
        let expected = """
        checkout → http://127.0.0.1:8080 | closed: 10 users, wait constant(1s) | 60.0s, completed | 2 workers, generator CPU 5.0%

        THRESHOLDS
          ✗ p(99)<100ms .............. 123.5ms
          ✓ error_rate<20% ........... 15.38%
          ✓ health: p(95)<10ms ....... 0.700ms
          ✗ health: ttfb.p(95)<5ms ... no data

        REQUESTS (latency from intended start, corrected for coordinated omission)
          Name        Reqs       Fails  Req/s      p50      p90      p95      p99    p99.9      Max
          predict       10  2 (20.00%)    0.2   3.00ms  123.5ms  123.5ms  123.5ms  123.5ms  123.5ms
          health         3   0 (0.00%)    0.1  0.600ms  0.700ms  0.700ms  0.700ms  0.700ms  0.700ms
          Aggregated    13  2 (15.38%)    0.2   2.50ms  123.5ms  123.5ms  123.5ms  123.5ms  123.5ms

        RAW (from actual send, not corrected for coordinated omission)
          Name        Reqs       Fails  Req/s      p50      p90      p95      p99    p99.9      Max
          predict       10  2 (20.00%)    0.2   3.00ms  23.46ms  23.46ms  23.46ms  23.46ms  23.46ms
          health         3   0 (0.00%)    0.1  0.600ms  0.700ms  0.700ms  0.700ms  0.700ms  0.700ms
          Aggregated    13  2 (15.38%)    0.2   2.50ms  23.46ms  23.46ms  23.46ms  23.46ms  23.46ms

        Schedule lag: p50 0.050ms, p99 0.120ms, max 0.900ms
        Status codes: 200: 11, 503: 2

        ERRORS
          Count  Method  Name     Message
              2  POST    predict  HTTP 503
              1  GET     health   bad "json", line 1

        """
        #expect(SummaryPrinter().render(Fixture.result()) == expected)
    }

    @Test func writesToAnyStream() {
        struct Lines: TextOutputStream {
            var text = ""
            mutating func write(_ s: String) { text += s }
        }
        var out = Lines()
        SummaryPrinter().write(Fixture.result(), to: &out)
        #expect(out.text == SummaryPrinter().render(Fixture.result()))
    }

    @Test func emptyRunPrintsDashesNotZeros() {
        let expected = """
        empty -> http://x | open: 5.0/s constant arrivals, max_in_flight 10 | 0.0s, interrupted | 1 worker, generator CPU -

        REQUESTS (latency from intended start, corrected for coordinated omission)
          Name        Reqs  Fails  Req/s  p50  p90  p95  p99  p99.9  Max
          predict        0      0      -    -    -    -    -      -    -
          Aggregated     0      0      -    -    -    -    -      -    -

        Schedule lag: p50 -, p99 -, max -
        Status codes: -
        Errors: none

        """
        #expect(SummaryPrinter(plain: true).render(Fixture.emptyResult()) == expected)
    }

    @Test func plainUsesPassFailAndNoMarks() {
        let text = SummaryPrinter(plain: true).render(Fixture.result())
        #expect(text.contains("  FAIL p(99)<100ms .............. 123.5ms\n"))
        #expect(text.contains("  PASS error_rate<20% ........... 15.38%\n"))
        #expect(!text.contains("✓") && !text.contains("✗") && !text.contains("→"))
    }

    @Test func rawTableOnlyWhenItDiffers() {
        // No request was late: raw equals corrected, so only one table.
        var s = RequestStats()
        s.record(Fixture.outcome(0, at: 0, took: 5))
        s.record(Fixture.outcome(0, at: 10, took: 7))
        var snap = Fixture.snapshot()
        snap.names = ["a"]; snap.methods = ["GET"]; snap.perStat = [s]; snap.total = s
        let text = SummaryPrinter().render(Fixture.result(snapshot: snap, verdicts: []))
        #expect(!text.contains("RAW"))
        #expect(!text.contains("THRESHOLDS"))
        #expect(text.contains("REQUESTS"))
    }

    @Test func lagWarningAndDropped() {
        let snap = Fixture.snapshot(lagMicros: Array(repeating: 50, count: 90) + Array(repeating: 15_000, count: 10), dropped: 7)
        var r = Fixture.result(snapshot: snap)
        r.diagnoses = DiagnosisRules().evaluate(DiagnosisFacts(result: r))
        let text = SummaryPrinter().render(r)
        #expect(text.contains("Schedule lag: p50 0.050ms, p99 15.00ms, max 15.00ms; dropped 7 arrivals\n"))
        #expect(text.contains("DIAGNOSES\n"))
        #expect(text.contains("\n  ⚠ generator_behind: the load generator fell behind its schedule (p99 lag 15.00ms); results measure the client, not only the server\n"))
        #expect(text.contains("  ⚠ arrivals_dropped: 7 arrivals of the open model were never sent\n"))
        #expect(text.contains("      fix: give Cicada more cores (--workers)"))
        var calm = Fixture.result()
        calm.diagnoses = DiagnosisRules().evaluate(DiagnosisFacts(result: calm))
        #expect(!SummaryPrinter().render(calm).contains("generator_behind"))
        #expect(!SummaryPrinter().render(calm).contains("dropped"))
    }

    @Test func errorsAreCappedAtTheLimit() {
        var snap = Fixture.snapshot()
        var errors = ErrorTable()
        for i in 0..<25 { errors.record(ErrorKey(method: "GET", name: "a", message: "error \(i)"), atNanos: 1) }
        snap.errors = errors
        let text = SummaryPrinter().render(Fixture.result(snapshot: snap))
        #expect(text.contains("ERRORS (top 20 of 25)\n"))
        #expect(text.components(separatedBy: "  GET ").count - 1 == 20)
    }

    @Test func abortedRunSaysWhichThreshold() {
        let text = SummaryPrinter().render(Fixture.result(stopReason: .thresholdAbort("p(99)<100ms")))
        #expect(text.hasPrefix("checkout → http://127.0.0.1:8080 | closed: 10 users, wait constant(1s) | 60.0s, aborted: threshold p(99)<100ms failed | "))
    }
}

@Suite struct CutOffTests {
    @Test func cutOffRequestsAreCalledOutNotHidden() throws {
        var snap = Fixture.snapshot()
        #expect(!SummaryPrinter(plain: true).render(Fixture.result(snapshot: snap)).contains("cut off"))
        snap.cutOff = 7
        var r = Fixture.result(snapshot: snap)
        r.diagnoses = DiagnosisRules().evaluate(DiagnosisFacts(result: r))
        let text = SummaryPrinter(plain: true).render(r)
        #expect(text.contains("  WARNING requests_cut_off: 7 request(s) were still in flight when the run stopped and were cut off"))
        let json = JSONReport().render(Fixture.result(snapshot: snap))
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(obj["cut_off"] as? Int == 7)
    }

    @Test func intervalsCarryTheCountIntoTheSnapshot() {
        var a = IntervalStats(statCount: 1), b = IntervalStats(statCount: 1)
        a.cutOff = 2; b.cutOff = 3
        #expect(!b.isEmpty)
        let agg = Aggregator(names: ["p"], methods: ["GET"], startNanos: 0, windowSeconds: 10)
        agg.ingest(a, worker: 0, gauges: WorkerGauges(), atNanos: 1_000_000)
        agg.ingest(b, worker: 1, gauges: WorkerGauges(), atNanos: 2_000_000)
        #expect(agg.snapshot(atNanos: 3_000_000).cutOff == 5)
    }
}
