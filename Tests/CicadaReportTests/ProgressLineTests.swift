import CicadaCore
import CicadaReport
import Testing

@Suite struct ProgressLineTests {
    @Test func closedModel() {
        #expect(ProgressLine.format(Fixture.snapshot(), duration: .seconds(120))
            == "[ 60s/120s] users 10/10 | 0.2 req/s (10s) | p50 123.5ms p99 123.5ms (10s) | fails 15.38% | lag p99 0.120ms")
    }

    @Test func openModelWithQueueAndDrops() {
        var snap = Fixture.snapshot(dropped: 4)
        snap.targetUsers = nil
        snap.targetRate = 500
        snap.gauges.queued = 12
        snap.elapsed = .milliseconds(7_900)
        #expect(ProgressLine.format(snap, duration: .seconds(60))
            == "[ 7s/60s] rate 500.0/s target queued 12 dropped 4 | 0.2 req/s (10s) | p50 123.5ms p99 123.5ms (10s) | fails 15.38% | lag p99 0.120ms")
    }

    @Test func absentValuesAreDashes() {
        #expect(ProgressLine.format(Fixture.emptyResult().snapshot, duration: nil)
            == "[0s] users 0/- | - req/s (10s) | p50 - p99 - (10s) | fails - | lag p99 -")
    }
}
