import Testing
@testable import CicadaCore

@Suite struct MeasurementWindowTests {
    let s: UInt64 = 1_000_000_000   // the run's start
    let run: UInt64 = 60_000_000_000

    @Test func aRequestBelongsToThePhaseOfItsIntendedStart() {
        let w = MeasurementWindow(warmup: .duration(.seconds(10)), cooldown: .seconds(5))
        #expect(w.phase(intendedNanos: s, startNanos: s, durationNanos: run) == .warmup)
        #expect(w.phase(intendedNanos: s + 9_999_999_999, startNanos: s, durationNanos: run) == .warmup)
        #expect(w.phase(intendedNanos: s + 10_000_000_000, startNanos: s, durationNanos: run) == .measured)
        #expect(w.phase(intendedNanos: s + 54_999_999_999, startNanos: s, durationNanos: run) == .measured)
        #expect(w.phase(intendedNanos: s + 55_000_000_000, startNanos: s, durationNanos: run) == .cooldown)
        // Past the end (a request started in the drain) is still the cool-down.
        #expect(w.phase(intendedNanos: s + 61_000_000_000, startNanos: s, durationNanos: run) == .cooldown)
    }

    @Test func aRequestCountWarmUpGoesByStartOrder() {
        let w = MeasurementWindow(warmup: .requests(3))
        #expect((0..<5).map { w.phase(intendedNanos: s, startNanos: s, durationNanos: run, ticket: $0) }
                == [.warmup, .warmup, .warmup, .measured, .measured])
        #expect(w.needsTicket)
        #expect(!MeasurementWindow(warmup: .duration(.seconds(1))).needsTicket)
    }

    @Test func theWindowMustLeaveSomethingToMeasure() {
        #expect(MeasurementWindow(warmup: .duration(.seconds(30)), cooldown: .seconds(30)).problem(duration: .seconds(60)) != nil)
        #expect(MeasurementWindow(warmup: .duration(.seconds(30)), cooldown: .seconds(29)).problem(duration: .seconds(60)) == nil)
        #expect(MeasurementWindow(warmup: .duration(.seconds(60))).problem(duration: .seconds(60)) != nil)
        #expect(MeasurementWindow(cooldown: .seconds(1)).problem(duration: nil) != nil)
        #expect(MeasurementWindow(warmup: .requests(1_000_000), cooldown: .seconds(1)).problem(duration: .seconds(2)) == nil)
    }

    @Test(arguments: [("30s", MeasurementWindow.Span.duration(.seconds(30))), ("500r", .requests(500)), ("500 requests", .requests(500)),
                      ("1m", .duration(.seconds(60)))])
    func parsesFlagValues(_ text: String, _ span: MeasurementWindow.Span) {
        #expect(MeasurementWindow.span(parsing: text) == span)
    }

    @Test(arguments: ["", "0s", "0r", "-5r", "soon"])
    func refusesBadFlagValues(_ text: String) {
        #expect(MeasurementWindow.span(parsing: text) == nil)
    }

    @Test func excludedRequestsAreCountedApartAndMergeBack() {
        var a = IntervalStats(statCount: 1)
        func o(_ intended: UInt64, failure: FailureKind? = nil) -> RequestOutcome {
            RequestOutcome(statIndex: 0, intendedNanos: intended, sentNanos: intended, endNanos: intended + 1_000_000, ttfbMicros: nil,
                           status: failure == nil ? 200 : 500, failure: failure, error: failure == nil ? nil : "HTTP 500", bytesIn: 1, bytesOut: 1)
        }
        a.record(o(1, failure: .http5xx), method: "GET", name: "t", phase: .warmup)
        a.record(o(2), method: "GET", name: "t", phase: .cooldown)
        a.record(o(3), method: "GET", name: "t")
        #expect(a.perStat[0].requests == 1 && a.perStat[0].failures == 0)
        #expect(a.errors.entries.isEmpty)   // the warm-up's failure is in no error row
        #expect(a.excludedWarmup == 1 && a.excludedCooldown == 1 && a.excluded?.requests == 2)
        #expect(a.firstMeasuredIntendedNanos == 3)
        var b = IntervalStats(statCount: 1)
        b.merge(a)
        b.merge(a)
        #expect(b.excludedWarmup == 2 && b.excluded?.failures == 2 && b.perStat[0].requests == 2)
    }
}
