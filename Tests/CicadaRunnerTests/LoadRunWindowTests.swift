import CicadaCore
import CicadaScenario
import Synchronization
import Testing
@testable import CicadaRunner

/// Collects the records the runner hands over (what `--requests-out` writes).
final class CollectingSink: RequestRecordSink, @unchecked Sendable {
    let records = Mutex<[RequestRecord]>([])
    let dropped = Atomic<UInt64>(0)
    func accept(_ r: [RequestRecord], droppedUpstream: UInt64) {
        records.withLock { $0 += r }
        dropped.add(droppedUpstream, ordering: .relaxed)
    }
}

/// Warm-up and cool-down windows, and the per-request records, in virtual time.
@Suite struct LoadRunWindowTests {
    func run(_ yaml: String, _ generator: ScriptedGenerator, sampling: RequestSampling? = nil,
             sink: CollectingSink? = nil) throws -> RunResult {
        let clock = ManualTimeSource(startNanos: 7_000_000_000)
        let scenario = try ScenarioReader().parse("target: http://127.0.0.1:1\ntasks: [{name: t, path: /}]\n" + yaml, file: "window.yaml")
        var plan = try RunPlan(scenario: scenario, environment: [:])
        plan.requestSampling = sampling
        let run = try LoadRun(plan: plan, options: RunOptions(workers: 1), clock: clock, transport: ScriptedTransport(generator: generator),
                              sleep: { d in clock.advance(by: d); generator.step(now: clock.nowNanos()) })
        run.requestSink = sink
        return try run.run()
    }

    /// One request every 10 ms for 5 s; those ending in the first 2 s take 500 ms (a cold
    /// server). Intended starts: request k (1...500) at 10k - 5 ms, the slow ones at 10k - 500 ms.
    @Test func warmUpAndCoolDownRequestsAreInNoFigure() throws {
        let g = ScriptedGenerator(slowUntil: .seconds(2))
        let r = try run("""
        users: 1
        run_time: 5s
        warmup: 2s
        cooldown: 1s
        thresholds:
          - {threshold: "p(99)<10ms", abort_on_fail: true, delay_abort_eval: 1s}
        """, g)
        let s = r.snapshot
        // Intended start < 2 s: k = 1...200; >= 4 s: k = 401...500.
        #expect(s.excludedWarmup == 200)
        #expect(s.excludedCooldown == 100)
        #expect(s.total.requests == 200)
        #expect(s.total.requests + s.excludedWarmup + s.excludedCooldown == 500)
        // No slow warm-up request in any figure, and the threshold (which would fail and abort
        // on them) passes.
        #expect(s.total.corrected.max == 5000)
        #expect(r.stopReason == .completed)
        #expect(r.thresholds.allSatisfy { $0.passed })
        // The measured span is 2 s .. 4 s, so throughput is 200 / 2 s.
        #expect(abs(s.measuredSeconds - 2.0) < 1e-9)
        #expect(s.qps.map { abs($0 - 100) < 1e-9 } == true)
        #expect(s.measuredFromSeconds == 2.0)
        #expect(s.measuredToSeconds == 4.0)
        // The timeline still shows every second, each marked with its phase; the warm-up's
        // points come from the excluded requests (100 req/s, 500 ms latency).
        let pts = r.timeline.points
        #expect(pts.map(\.phase) == [.warmup, .warmup, .measured, .measured, .cooldown], "\(pts.map { ($0.t, $0.phase) })")
        #expect(abs(pts[0].qps - 100) < 1e-9)
        #expect(pts[0].p99Millis == 500)
        #expect(pts[2].p99Millis == 5)
    }

    @Test func aRequestCountWarmUpLeavesOutTheFirstRequests() throws {
        let g = ScriptedGenerator()
        let r = try run("users: 1\nrun_time: 2s\nwarmup: {requests: 50}\n", g)
        #expect(r.snapshot.excludedWarmup == 50)
        #expect(r.snapshot.excludedCooldown == 0)
        #expect(r.snapshot.total.requests == 150)
        // Request 51 was meant to start at 505 ms: the measured window begins there.
        #expect(r.snapshot.measuredFromSeconds.map { abs($0 - 0.505) < 1e-9 } == true)
    }

    @Test func withoutWindowsEveryRequestIsMeasured() throws {
        let r = try run("users: 1\nrun_time: 2s\n", ScriptedGenerator())
        #expect(r.snapshot.excludedWarmup == 0 && r.snapshot.excludedCooldown == 0)
        #expect(r.snapshot.total.requests == 200)
        #expect(r.timeline.points.allSatisfy { $0.phase == .measured })
    }

    @Test func everyRequestHasOneRecordInItsPhase() throws {
        let sink = CollectingSink()
        let r = try run("users: 1\nrun_time: 5s\nwarmup: 2s\ncooldown: 1s\n", ScriptedGenerator(), sampling: RequestSampling(), sink: sink)
        let records = sink.records.withLock { $0 }
        let s = r.snapshot
        #expect(records.count == 500)
        #expect(UInt64(records.filter { $0.phase == .measured }.count) == s.total.requests)
        #expect(UInt64(records.filter { $0.phase == .warmup }.count) == s.excludedWarmup)
        #expect(UInt64(records.filter { $0.phase == .cooldown }.count) == s.excludedCooldown)
        #expect(records.map(\.sequence) == Array(0..<500))
        #expect(records.allSatisfy { $0.endNanos - $0.intendedNanos == 5_000_000 && $0.status == 200 })
        #expect(sink.dropped.load(ordering: .relaxed) == 0)
    }

    @Test func aSampleIsSeededAndTheSameEveryRun() throws {
        func sampled(seed: UInt64) throws -> [UInt64] {
            let sink = CollectingSink()
            _ = try run("users: 1\nrun_time: 5s\n", ScriptedGenerator(), sampling: RequestSampling(fraction: 0.1, seed: seed), sink: sink)
            return sink.records.withLock { $0.map(\.sequence) }
        }
        let a = try sampled(seed: 1), b = try sampled(seed: 1), c = try sampled(seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count > 20 && a.count < 80, "\(a.count) of 500 at 10%")
    }

    @Test func recordsPastTheIntervalCapAreDroppedAndCounted() throws {
        let sink = CollectingSink()
        _ = try run("users: 1\nrun_time: 2s\n", ScriptedGenerator(), sampling: RequestSampling(maxPerInterval: 5), sink: sink)
        let kept = UInt64(sink.records.withLock { $0.count })
        #expect(kept + sink.dropped.load(ordering: .relaxed) == 200)
        #expect(sink.dropped.load(ordering: .relaxed) > 0)
    }
}
