import Testing
@testable import CicadaEngine

/// The engine's overload bookkeeping: the in-flight bound and the answer-time histogram.
@Suite struct OverloadAccountingTests {
    @Test func inFlightLimitAdmitsUpToItsBoundAndCountsRefusals() {
        var gate = InFlightLimit(limit: 2)
        var admitted: [Bool] = []
        for _ in 0..<4 { admitted.append(gate.admit()) }
        #expect(admitted == [true, true, false, false])
        #expect(gate.current == 2 && gate.peak == 2 && gate.refused == 2)
        gate.release()
        #expect(gate.current == 1)
        admitted = [gate.admit(), gate.admit()]
        #expect(admitted == [true, false])
        #expect(gate.peak == 2 && gate.refused == 3)
        gate.release(); gate.release()
        #expect(gate.current == 0)
        // A stray release never lets the bound grow.
        gate.release()
        #expect(gate.current == 0)
        admitted = [gate.admit(), gate.admit(), gate.admit()]
        #expect(admitted == [true, true, false])
        #expect(gate.peak == 2)
    }

    @Test func durationBucketsAreInclusiveUpperBoundsAsPrometheusLe() {
        var h = DurationBuckets(boundsNanos: [10, 20, 40])
        for v: UInt64 in [0, 10, 11, 20, 21, 40, 41, 1_000] { h.record(nanos: v) }
        #expect(h.counts == [2, 2, 2, 2])
        #expect(h.cumulative == [2, 4, 6, 8])
        #expect(h.count == 8)
        #expect(h.sumNanos == 0 + 10 + 11 + 20 + 21 + 40 + 41 + 1_000)
        h.record(nanos: .max)
        #expect(h.sumNanos == .max, "the sum saturates")
        #expect(h.cumulative.last == 9)
    }

    @Test func standardBoundsAscendFromOneMillisecondToAMinute() {
        let b = DurationBuckets.standardBoundsNanos
        #expect(b.first == 1_000_000 && b.last == 60_000_000_000)
        #expect(zip(b, b.dropFirst()).allSatisfy { $0 < $1 })
        #expect(b.contains(7_500_000) && b.contains(12_500_000))
    }
}
