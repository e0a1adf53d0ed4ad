import Foundation
import Testing
@testable import CicadaCore

/// A canary roll-out judged step by step (issue 16): each request recorded in the step window
/// its weights were chosen in, each window judged alone with a minimum of requests a side, the
/// run failing when any judged step fails; shard artifacts carrying it all through `cicada merge`.
@Suite struct SplitStepTests {
    static let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                                          .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false)],
                                bounds: [try! RegressionBound(parsing: "error_rate=+1%"), try! RegressionBound(parsing: "p(99)=+50%")],
                                steps: [10, 25, 50, 100], minRequests: 50)

    /// One outcome of `ms` milliseconds for member `member` in step `step` (2 members).
    static func outcome(member: Int, step: Int, ms: UInt64, failed: Bool = false) -> RequestOutcome {
        var o = RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: ms * 1_000_000, ttfbMicros: nil,
                               status: failed ? 503 : 200, failure: failed ? .http5xx : nil, error: nil, bytesIn: 0, bytesOut: 0)
        o.splitGroup = member
        o.splitStepSlot = step * 2 + member
        return o
    }

    /// Step 1 (90/10): both at 10 ms, no failure. Step 2 (75/25): the canary fails 5 of its
    /// 100 requests; step 3 (50/50): only 20 canary requests, all failed (not enough data).
    static func outcomes() -> [RequestOutcome] {
        var out: [RequestOutcome] = []
        for i in 0..<900 { out.append(outcome(member: 0, step: 0, ms: 10 + UInt64(i % 3))) }
        for i in 0..<100 { out.append(outcome(member: 1, step: 0, ms: 10 + UInt64(i % 3))) }
        for i in 0..<300 { out.append(outcome(member: 0, step: 1, ms: 10 + UInt64(i % 3))) }
        for i in 0..<100 { out.append(outcome(member: 1, step: 1, ms: 11, failed: i < 5)) }
        for _ in 0..<20 { out.append(outcome(member: 0, step: 2, ms: 10)) }
        for _ in 0..<20 { out.append(outcome(member: 1, step: 2, ms: 10, failed: true)) }
        return out
    }

    static let shifts = [SplitShift(atNanos: 5_000_000_000 + 12_500_000_000, weights: [75, 25]),
                         SplitShift(atNanos: 5_000_000_000 + 30_000_000_000, weights: [50, 50])]

    /// A snapshot whose split groups and step windows hold `outcomes`, recorded by workers'
    /// interval stats (two workers, merged as the aggregator does).
    static func snapshot(_ outcomes: [RequestOutcome]) -> Snapshot {
        var a = IntervalStats(statCount: 1), b = IntervalStats(statCount: 1)
        for (i, o) in outcomes.enumerated() {
            if i % 2 == 0 { a.record(o, method: "GET", name: "x") } else { b.record(o, method: "GET", name: "x") }
        }
        a.merge(b)
        var snap = Snapshot(elapsed: .seconds(40), names: ["x"], methods: ["GET"], perStat: a.perStat, total: a.perStat[0], windows: [:],
                            defaultWindowSeconds: 10, errors: a.errors, scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: WorkerGauges(), targetUsers: nil, targetRate: nil, measuredSeconds: 40)
        snap.groupKeys = [.target("stable"), .target("canary")]
        snap.groups = a.groups
        snap.splitSteps = a.splitSteps
        return snap
    }

    @Test func intervalStatsKeepEachStepWindowApart() {
        let snap = Self.snapshot(Self.outcomes())
        #expect(snap.splitSteps.count == 6)
        #expect(snap.splitSteps.map(\.requests) == [900, 100, 300, 100, 20, 20])
        #expect(snap.splitSteps.map(\.failures) == [0, 0, 0, 5, 0, 20])
        // The windows add up to the whole-run groups.
        #expect(snap.groups.map(\.requests) == [1220, 220])
    }

    @Test func eachStepIsJudgedAloneAndAFailingStepFailsTheRun() throws {
        let r = SplitResult(spec: Self.spec, snapshot: Self.snapshot(Self.outcomes()), finalWeights: [50, 50], shifts: Self.shifts,
                            runStartNanos: 5_000_000_000)
        // The whole run: 25 failures in 220 canary requests (11.4 %) fail +1 point too.
        #expect(r.windows.count == 3)
        #expect(r.windows.map(\.weights) == [[90, 10], [75, 25], [50, 50]])
        #expect(r.windows.map(\.startSeconds) == [0, 12.5, 30])
        #expect(r.windows.map(\.endSeconds) == [12.5, 30, nil])
        #expect(r.windows[0].verdict.state == .passed)
        #expect(r.windows[1].verdict.state == .failed)
        let err = try #require(r.windows[1].verdict.checks.first { $0.bound.figure == "error_rate" })
        #expect(err.passed == false && err.value == 0.05 && err.baselineValue == 0 && err.requests == 100 && err.baselineRequests == 300)
        // Step 3: every canary request failed, but 20 < 50 a side: not judged, not a failure.
        #expect(r.windows[2].verdict.state == .notEnoughData)
        #expect(r.windows[2].verdict.checks.allSatisfy { $0.passed == nil && !$0.enoughData })
        #expect(r.windows[2].verdict.passed)
        #expect(!r.passed)
    }

    @Test func aStepFailsTheRunEvenWhenTheWholeRunPasses() throws {
        // Step 1 at 10 ms with 2,000 canary requests, step 2 with 60 at 10 ms and 3 failures:
        // 3 / 2,060 = 0.15 % over the run (within +1 point), 5 % in step 2 (not).
        var outs: [RequestOutcome] = []
        for _ in 0..<4000 { outs.append(Self.outcome(member: 0, step: 0, ms: 10)) }
        for _ in 0..<2000 { outs.append(Self.outcome(member: 1, step: 0, ms: 10)) }
        for _ in 0..<100 { outs.append(Self.outcome(member: 0, step: 1, ms: 10)) }
        for i in 0..<60 { outs.append(Self.outcome(member: 1, step: 1, ms: 10, failed: i < 3)) }
        let r = SplitResult(spec: Self.spec, snapshot: Self.snapshot(outs), finalWeights: [75, 25], shifts: [Self.shifts[0]], runStartNanos: 5_000_000_000)
        #expect(r.verdict.passed, "the whole run is within its bounds")
        #expect(r.windows[1].verdict.state == .failed)
        #expect(!r.passed)
        var run = RunResult(scenarioName: "s", target: "t", snapshot: Self.snapshot(outs), thresholds: [], stopReason: .completed, timeline: Timeline(),
                            events: [], startedAtUnix: 0, cpuSeconds: 0, workers: 1, modelDescription: "")
        run.split = r
        #expect(!run.passed, "exit 99")
    }

    @Test func theMinimumIsAKnob() {
        var spec = Self.spec
        spec.minRequests = 20
        let r = SplitResult(spec: spec, snapshot: Self.snapshot(Self.outcomes()), finalWeights: nil, shifts: Self.shifts, runStartNanos: 5_000_000_000)
        #expect(r.windows[2].verdict.state == .failed, "20 requests a side are enough now")
    }

    @Test func aSnapshotWithoutStepFiguresHasNoWindows() {
        var snap = Self.snapshot(Self.outcomes())
        snap.splitSteps = []
        let r = SplitResult(spec: Self.spec, snapshot: snap, finalWeights: nil)
        #expect(r.windows.isEmpty)
        #expect(r.passed == r.verdict.passed)
    }

    @Test func shiftsPastTheCapFoldIntoTheLastWindow() {
        let n = SplitSpec.maxStepWindows + 3
        let shifts = (1...n).map { SplitShift(atNanos: UInt64($0) * 1_000_000_000, weights: [100 - $0 % 50, $0 % 50]) }
        let w = SplitStepWindow.windows(spec: Self.spec, cumulative: [], shifts: shifts, runStartNanos: 0)
        #expect(w.count == SplitSpec.maxStepWindows)
        #expect(w.last?.merged == true && w.dropLast().allSatisfy { !$0.merged })
        #expect(w.last?.endSeconds == nil)
    }

    @Test func runControlDatesEachShiftAndRearmForgetsThem() {
        let clock = ManualTimeSource(startNanos: 1_000)
        let control = RunControl(clock: clock)
        #expect(control.splitState.step == 0 && control.splitState.weights == nil)
        clock.advance(by: .seconds(3))
        control.setSplitWeights([75, 25])
        clock.advance(by: .seconds(2))
        control.setSplitWeights([50, 50])
        #expect(control.splitShifts == [SplitShift(atNanos: 3_000_001_000, weights: [75, 25]), SplitShift(atNanos: 5_000_001_000, weights: [50, 50])])
        #expect(control.splitState.step == 2 && control.splitState.weights == [50, 50])
        control.rearm()
        #expect(control.splitShifts.isEmpty && control.splitState.step == 0 && control.splitWeights == nil)
    }

    @Test func repetitionsPoolTheirStepWindowsByStepNumber() {
        let one = Self.runResult(Self.outcomes(), startedAtUnix: 0)
        let pooled = RepeatedRuns.pooled([one, one], seeds: [1, 1], thresholds: [])
        #expect(pooled.snapshot.splitSteps.map(\.requests) == one.snapshot.splitSteps.map { $0.requests * 2 })
        #expect(pooled.snapshot.groups.map(\.requests) == one.snapshot.groups.map { $0.requests * 2 })
    }

    // MARK: Shard artifacts

    static func runResult(_ outcomes: [RequestOutcome], startedAtUnix: Double) -> RunResult {
        let snap = snapshot(outcomes)
        var r = RunResult(scenarioName: "s", target: "t", snapshot: snap, thresholds: [], stopReason: .completed, timeline: Timeline(),
                          events: [], startedAtUnix: startedAtUnix, cpuSeconds: 0, workers: 1, modelDescription: "",
                          startNanos: 5_000_000_000)
        r.split = SplitResult(spec: spec, snapshot: snap, finalWeights: [50, 50], shifts: shifts, runStartNanos: 5_000_000_000)
        return r
    }

    @Test func twoShardArtifactsMergeIntoExactPerMemberFigures() throws {
        let all = Self.outcomes()
        let identity = ShardArtifact.RunIdentity(scenario: "s", scenarioHash: "h", seed: 1, scheduleHash: "x")
        // Shard 0 and 1 each recorded every other request; the merge must equal one process.
        let parts = [0, 1].map { k in
            let mine = all.enumerated().filter { $0.offset % 2 == k }.map(\.element)
            return ShardArtifact(result: Self.runResult(mine, startedAtUnix: 1_800_000_000 + Double(k) / 10), shard: ShardSpec(index: k, count: 2)!,
                                 identity: identity, thresholds: [], timeline: [], startAtUnix: nil, writtenAtUnix: 1_800_000_100)
        }
        #expect(parts[0].split?.windows.count == 3)
        // Through the files, as `cicada merge` reads them.
        let read = try parts.map { try ShardArtifact.read(Data($0.json().utf8)) }
        #expect(read == parts)
        let merged = try #require(try ShardArtifact.merged(read))
        let got = try #require(merged.runResult().split)
        let one = try #require(Self.runResult(all, startedAtUnix: 1_800_000_000).split)
        #expect(got.members.map { $0.stats?.requests } == one.members.map { $0.stats?.requests })
        #expect(got.members.map { $0.stats?.corrected } == one.members.map { $0.stats?.corrected })
        #expect(got.members.map { $0.stats?.failures } == [0, 25])
        #expect(got.windows.count == 3)
        for k in 0..<3 {
            #expect(got.windows[k].stats.map { $0?.requests } == one.windows[k].stats.map { $0?.requests })
            #expect(got.windows[k].stats.map { $0?.corrected } == one.windows[k].stats.map { $0?.corrected })
            #expect(got.windows[k].verdict == one.windows[k].verdict)
            #expect(got.windows[k].weights == one.windows[k].weights)
        }
        // The windows' times are on the merged run's clock (the earliest shard's start).
        #expect(got.windows.map(\.startSeconds) == [0, 12.5, 30])
        #expect(got.verdict == one.verdict && got.passed == one.passed && !got.passed)
        #expect(merged.runResult().passed == false)
    }

    @Test func shardsWhoseStepsDisagreeKeepOnlyTheWholeRun() throws {
        let identity = ShardArtifact.RunIdentity(scenario: "s", scenarioHash: "h", seed: 1, scheduleHash: "x")
        let a = ShardArtifact(result: Self.runResult(Self.outcomes(), startedAtUnix: 1_800_000_000), shard: ShardSpec(index: 0, count: 2)!,
                              identity: identity, thresholds: [], timeline: [], startAtUnix: nil, writtenAtUnix: 1_800_000_100)
        var b = ShardArtifact(result: Self.runResult(Self.outcomes(), startedAtUnix: 1_800_000_000), shard: ShardSpec(index: 1, count: 2)!,
                              identity: identity, thresholds: [], timeline: [], startAtUnix: nil, writtenAtUnix: 1_800_000_100)
        b.split?.windows.removeLast()
        let m = try a.merged(with: b)
        #expect(m.split?.windows.isEmpty == true)
        #expect(m.split?.stats.map(\.requests) == [2440, 440])
        #expect(m.runResult().split?.windows.isEmpty == true)
    }
}
