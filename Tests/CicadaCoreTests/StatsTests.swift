import Testing
@testable import CicadaCore

@Suite struct LatencyHistogramTests {
    @Test func percentilesStayWithinObservedMinAndMax() {
        var h = LatencyHistogram()
        for v: UInt64 in [1001, 1003, 1007, 123_457] { h.record(micros: v) }
        #expect(h.percentile(100) == 123_457)
        #expect(h.percentile(99.99)! <= 123_457)
        #expect(h.percentile(0.1)! >= 1001)
        #expect(h.min == 1001 && h.max == 123_457)
        #expect(h.count == 4)
    }

    @Test func threeSignificantDigitsNotTwo() {
        var h = LatencyHistogram()
        h.record(micros: 123_456)
        h.record(micros: 123_456)
        let p = h.percentile(50)!
        // Locust rounds 123 ms to 120 ms; Cicada stays within 0.1%.
        #expect(abs(Double(p) - 123_456) / 123_456 < 0.001)
    }

    @Test func emptyIsAbsentNotZero() {
        let h = LatencyHistogram()
        #expect(h.percentile(99) == nil)
        #expect(h.meanMicros == nil)
        #expect(h.min == nil)
    }

    @Test func mergeEqualsRecordingEverythingInOne() {
        var a = LatencyHistogram(), b = LatencyHistogram(), all = LatencyHistogram()
        var rng = SeededRandom(seed: 3)
        for i in 0..<5000 {
            let v = 1 + rng.next() % 2_000_000
            if i % 2 == 0 { a.record(micros: v) } else { b.record(micros: v) }
            all.record(micros: v)
        }
        a.merge(b)
        #expect(a == all)
        for p in [50.0, 90, 99, 99.9] { #expect(a.percentile(p) == all.percentile(p)) }
    }

    @Test func valuesBeyondAnHourAreClamped() {
        var h = LatencyHistogram()
        h.record(micros: 10 * LatencyHistogram.highestMicros)
        #expect(h.max == LatencyHistogram.highestMicros)
    }
}

@Suite struct AggregatorTests {
    func outcome(_ stat: Int, intended: UInt64, sent: UInt64, end: UInt64, status: Int = 200, failure: FailureKind? = nil) -> RequestOutcome {
        RequestOutcome(statIndex: stat, intendedNanos: intended, sentNanos: sent, endNanos: end, ttfbMicros: nil, status: status,
                       failure: failure, error: failure.map { _ in "HTTP \(status)" }, bytesIn: 10, bytesOut: 5)
    }

    @Test func correctedLatencyRunsFromTheIntendedStart() {
        var s = RequestStats()
        s.record(outcome(0, intended: 0, sent: 400_000_000, end: 410_000_000))
        #expect(s.corrected.percentile(50)! > 409_000 && s.corrected.percentile(50)! < 411_000)
        #expect(s.raw.percentile(50)! > 9_900 && s.raw.percentile(50)! < 10_100)
    }

    @Test func windowForgetsOldSecondsCumulativeDoesNot() {
        let clock = ManualTimeSource()
        let agg = Aggregator(names: ["a", "b"], methods: ["GET", "POST"], startNanos: 0, windowSeconds: 10)
        // Second 0..4: slow requests; seconds 20..21: fast ones.
        for sec in 0..<5 {
            var d = IntervalStats(statCount: 2)
            let t = UInt64(sec) * 1_000_000_000
            for _ in 0..<10 { d.record(outcome(0, intended: t, sent: t, end: t + 500_000_000), method: "GET", name: "a") }
            clock.set(nanos: t + 100)
            agg.ingest(d, worker: 0, gauges: WorkerGauges(users: 3), atNanos: clock.nowNanos())
        }
        var d = IntervalStats(statCount: 2)
        for _ in 0..<10 { d.record(outcome(1, intended: 0, sent: 0, end: 1_000_000, status: 503, failure: .http5xx), method: "POST", name: "b") }
        clock.set(nanos: 20_500_000_000)
        agg.ingest(d, worker: 1, gauges: WorkerGauges(users: 2), atNanos: clock.nowNanos())
        let snap = agg.snapshot(atNanos: clock.nowNanos())
        #expect(snap.total.requests == 60)
        #expect(snap.perStat[0].requests == 50)
        #expect(snap.window!.total.requests == 10)
        #expect(snap.window!.perStat[0].requests == 0)
        #expect(abs(snap.window!.span.seconds - 9.5) < 1e-6)
        #expect(snap.gauges.users == 5)
        #expect(snap.errors.entries[ErrorKey(method: "POST", name: "b", message: "HTTP 503")]?.occurrences == 10)
        #expect(snap.total.failuresByKind[.http5xx] == 10)
        #expect(abs(snap.qps! - 60 / 20.5) < 1e-9)
    }

    @Test func resetStartsMeasuringAgain() {
        let agg = Aggregator(names: ["a"], methods: ["GET"], startNanos: 0)
        var d = IntervalStats(statCount: 1)
        d.record(outcome(0, intended: 0, sent: 0, end: 1000), method: "GET", name: "a")
        agg.ingest(d, worker: 0, gauges: .init(), atNanos: 1_000_000_000)
        agg.reset(atNanos: 2_000_000_000)
        let snap = agg.snapshot(atNanos: 4_000_000_000)
        #expect(snap.total.requests == 0)
        #expect(snap.measuredSeconds == 2)
        #expect(snap.qps == 0)
    }

    @Test func errorTableIsBounded() {
        var t = ErrorTable(capacity: 3)
        for i in 0..<100 { t.record(ErrorKey(method: "GET", name: "a", message: "id \(i)"), atNanos: UInt64(i)) }
        #expect(t.entries.count == 4)
        #expect(t.entries.values.map(\.occurrences).reduce(0, +) == 100)
    }

    @Test func timelineStaysBounded() {
        var tl = Timeline(capacity: 100)
        for i in 0..<100_000 { tl.append(TimelinePoint(t: Double(i), users: 1, qps: 1, failuresPerSecond: 0, p50Millis: nil, p95Millis: nil, p99Millis: nil)) }
        #expect(tl.points.count < 100)
        #expect(tl.points.count >= 50)
        #expect(tl.points.first!.t == 0)
        let gaps = zip(tl.points.dropFirst(), tl.points).map { $0.t - $1.t }
        #expect(Set(gaps).count == 1)
    }

    @Test func pickerFollowsWeights() {
        let p = TaskPicker(weights: [1, 3, 0, 6])
        var rng = SeededRandom(seed: 2)
        var counts = [0, 0, 0, 0]
        for _ in 0..<100_000 { counts[p.pick(&rng)] += 1 }
        #expect(counts[2] == 0)
        #expect(abs(Double(counts[0]) / 100_000 - 0.1) < 0.01)
        #expect(abs(Double(counts[3]) / 100_000 - 0.6) < 0.01)
    }
}
