import CicadaCore
import Testing

/// When the consistency probe is due (`every:` and `interval:`), in virtual time, and how a
/// snapshot's probe findings reach the diagnosis rules.
@Suite struct ConsistencyCadenceTests {
    static let start: UInt64 = 5_000_000_000

    @Test func everyNRequestsIsDueAtEachMultipleAndSkipsWhatPassedMeanwhile() {
        var c = ConsistencyCadence(.everyRequests(5))
        func due(_ completed: UInt64) -> Bool { c.isDue(nowNanos: Self.start, startNanos: Self.start, completed: completed) }
        #expect(!due(0) && !due(4))
        #expect(due(5))
        #expect(!due(6) && !due(9))
        #expect(due(10))
        // 10 -> 23 while a probe was in flight: one probe, not two; the next is at 25.
        #expect(due(23))
        #expect(!due(24))
        #expect(due(25))
    }

    @Test func everyNRequestsStartsAgainAfterAReset() {
        var c = ConsistencyCadence(.everyRequests(5))
        func due(_ completed: UInt64) -> Bool { c.isDue(nowNanos: Self.start, startNanos: Self.start, completed: completed) }
        #expect(due(5))
        #expect(!due(8))
        // Statistics reset (or the next repetition): the count falls, and the next probe is n on.
        #expect(!due(2))
        #expect(!due(6))
        #expect(due(7))
    }

    @Test func anIntervalIsDueOnTheRunClockAndNeverQueues() {
        var c = ConsistencyCadence(.interval(.milliseconds(200)))
        func due(_ ms: UInt64) -> Bool { c.isDue(nowNanos: Self.start + ms * 1_000_000, startNanos: Self.start, completed: 0) }
        #expect(!due(0) && !due(199))
        #expect(due(200))
        #expect(!due(399))
        #expect(due(400))
        // The loop was held up until 1,050 ms (a slow probe): the three due points that passed
        // give one probe then and one more at the next turn, not four; then the grid goes on.
        #expect(due(1_050))
        #expect(due(1_070))
        #expect(!due(1_249))
        #expect(due(1_270))
    }

    @Test func aSnapshotsFindingsReachTheRulesUnlessOthersAreGiven() throws {
        var tally = ConsistencyTally(spec: ConsistencySpec(cadence: .interval(.seconds(1)), prompt: "Name three primes."))
        tally.record(answer: "two three five", atSeconds: 1)
        tally.record(answer: "two three seven", atSeconds: 2)
        var snap = Snapshot(elapsed: .seconds(2), names: ["t"], methods: ["GET"], perStat: [RequestStats()], total: RequestStats(),
                            windows: [:], defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: .init(), targetUsers: nil, targetRate: nil, measuredSeconds: 2)
        #expect(!DiagnosisRules().evaluate(DiagnosisFacts(snapshot: snap)).map(\.rule).contains("inconsistent_outputs"))
        snap.consistency = tally.summary
        let live = try #require(DiagnosisRules().evaluate(DiagnosisFacts(snapshot: snap)).first { $0.rule == "inconsistent_outputs" })
        #expect(live.symptom == "1 of 1 probe answers differed, from character 10 (word 2): the server answered the same temperature-0 request differently")
        #expect(live.evidence[0].hasPrefix("1 of 1 probe answers differed from the first"))
        // Findings given explicitly (the finished run's) win over the snapshot's.
        var agreeing = ConsistencyTally(spec: tally.summary.spec)
        agreeing.record(answer: "a", atSeconds: 1); agreeing.record(answer: "a", atSeconds: 2)
        #expect(!DiagnosisRules().evaluate(DiagnosisFacts(snapshot: snap, consistency: agreeing.summary)).map(\.rule).contains("inconsistent_outputs"))
    }
}
