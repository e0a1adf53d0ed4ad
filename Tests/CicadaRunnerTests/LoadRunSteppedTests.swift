import CicadaCore
import CicadaScenario
import Foundation
import Synchronization
import Testing
@testable import CicadaRunner

/// A generator that records one request every `every` of virtual time, driven from the
/// runner's own thread: the runner's sleep moves the manual clock and then calls ``step``, so
/// a whole run, its drain and its stop timeout play out in virtual time, the same every time.
final class ScriptedGenerator: LoadGenerator, @unchecked Sendable {
    var context: GeneratorContext?
    let every: UInt64
    let latencyNanos: UInt64
    /// Whether it finishes when the load stops (else it holds `inFlightAtEnd` requests until
    /// the runner aborts it, as a stalled server would).
    let finishesOnStop: Bool
    let inFlightAtEnd: UInt64
    /// Requests ending before this offset from the start take `slowLatency` instead (a cold
    /// server's warm-up).
    let slowUntilNanos: UInt64?
    let slowLatencyNanos: UInt64
    private var stats: IntervalStats?
    private var next: UInt64 = 0
    private var lastPost: UInt64 = 0
    private var done = false
    private let ended = DispatchSemaphore(value: 0)
    /// The user target the runner had set at each whole virtual second.
    var usersBySecond: [Int] = []

    init(every: Duration = .milliseconds(10), latency: Duration = .milliseconds(5), finishesOnStop: Bool = true, inFlightAtEnd: UInt64 = 0,
         slowUntil: Duration? = nil, slowLatency: Duration = .milliseconds(500)) {
        self.every = every.nanos; self.latencyNanos = latency.nanos; self.finishesOnStop = finishesOnStop; self.inFlightAtEnd = inFlightAtEnd
        self.slowUntilNanos = slowUntil?.nanos; self.slowLatencyNanos = slowLatency.nanos
    }

    func run() { ended.wait() }
    func wake() {}

    func step(now: UInt64) {
        guard let c = context, !done else { return }
        if stats == nil {
            stats = IntervalStats(statCount: c.plan.statNames.count, sampling: c.plan.requestSampling, worker: c.index)
            next = c.startNanos + every; lastPost = c.startNanos
        }
        if c.control.abort || (c.control.stopStarting && finishesOnStop) {
            if c.control.abort { stats!.cutOff += inFlightAtEnd }
            c.outbox.post(.init(worker: c.index, stats: stats!, gauges: WorkerGauges(), finished: true))
            done = true
            ended.signal()
            return
        }
        if c.control.stopStarting { return }
        while next <= now {
            let slow = slowUntilNanos.map { next - c.startNanos < $0 } ?? false
            let latency = slow ? slowLatencyNanos : latencyNanos
            let phase = c.control.phase(in: c.plan, intendedNanos: next - latency, startNanos: c.startNanos)
            stats!.record(RequestOutcome(statIndex: 0, intendedNanos: next - latency, sentNanos: next - latency, endNanos: next,
                                         ttfbMicros: nil, status: 200, failure: nil, error: nil, bytesIn: 10, bytesOut: 10),
                          method: "GET", name: "t", phase: phase)
            if (next - c.startNanos) % 1_000_000_000 == 0 { usersBySecond.append(c.control.targetUsers) }
            next += every
        }
        if now - lastPost >= 200_000_000 {   // a multiple of the runner's 20 ms turn
            c.outbox.post(.init(worker: c.index, stats: stats!, gauges: WorkerGauges(users: c.control.targetUsers), finished: false))
            stats = stats!.emptied()
            lastPost = now
        }
    }
}

struct ScriptedTransport: LoadTransport {
    let generator: ScriptedGenerator
    func makeGenerator(_ context: GeneratorContext) throws -> any LoadGenerator {
        generator.context = context
        return generator
    }
}

@Suite struct LoadRunSteppedTests {
    /// A run of `yaml` against `generator`, stepped in virtual time (1 worker).
    func run(_ yaml: String, _ generator: ScriptedGenerator, stopTimeout: Duration = .seconds(10),
             shouldStop: ((UInt64) -> Bool)? = nil) throws -> (RunResult, ManualTimeSource, start: UInt64, seconds: Int) {
        let clock = ManualTimeSource(startNanos: 7_000_000_000)
        let scenario = try ScenarioReader().parse("target: http://127.0.0.1:1\ntasks: [{name: t, path: /}]\n" + yaml, file: "stepped.yaml")
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1, stopTimeout: stopTimeout),
                              clock: clock, transport: ScriptedTransport(generator: generator),
                              sleep: { d in clock.advance(by: d); generator.step(now: clock.nowNanos()) })
        let seconds = Mutex(0)
        run.onSecond = { _ in seconds.withLock { $0 += 1 } }
        let r = try run.run(shouldStop: { shouldStop?(clock.nowNanos()) ?? false })
        return (r, clock, 7_000_000_000, seconds.withLock { $0 })
    }

    @Test func aFiveSecondRunInVirtualTime() throws {
        let g = ScriptedGenerator()
        let (r, clock, start, seconds) = try run("users: 4\nrun_time: 5s\n", g)
        let s = r.snapshot
        #expect(s.total.requests == 500)                 // one every 10 ms for 5 s
        #expect(r.stopReason == .completed)
        #expect(seconds == 4)                            // at 1, 2, 3 and 4 s; the run ends at 5
        #expect(r.timeline.points.count == 5)
        #expect(r.timeline.points.prefix(4).allSatisfy { abs($0.qps - 100) < 1e-9 }, "\(r.timeline.points.map { ($0.t, $0.qps) })")
        #expect(s.total.corrected.percentile(50) == 5000)
        // Load for 5 s, then one 5 ms drain turn.
        #expect(clock.nowNanos() - start == 5_005_000_000)
        #expect(abs(s.measuredSeconds - 5.005) < 1e-9)
    }

    @Test func theRampSetsTheUserTargetOnTheRunClock() throws {
        let g = ScriptedGenerator()
        _ = try run("users: 10\nspawn_rate: 2\nrun_time: 6s\n", g)
        #expect(g.usersBySecond == [2, 4, 6, 8, 10, 10])
    }

    @Test func anAbortingThresholdStopsTheRunAfterItsDelay() throws {
        let g = ScriptedGenerator(latency: .milliseconds(50))
        let (r, clock, start, _) = try run("""
        users: 1
        run_time: 60s
        thresholds:
          - {threshold: "p(99)<10ms", abort_on_fail: true, delay_abort_eval: 3s}
        """, g)
        #expect(r.stopReason == .thresholdAbort("p(99)<10ms"))
        // Progress (and abort) checks come every 2 s: the first past the 3 s delay is at 4 s.
        #expect(clock.nowNanos() - start == 4_005_000_000)
        #expect(r.events.contains { $0.kind == "abort" && $0.t == 4.0 })
        #expect(r.thresholds.first?.passed == false)
    }

    @Test func requestsStillInFlightAfterTheStopTimeoutAreCutOff() throws {
        let g = ScriptedGenerator(finishesOnStop: false, inFlightAtEnd: 3)
        let (r, clock, start, _) = try run("users: 3\nrun_time: 2s\n", g, stopTimeout: .seconds(1))
        #expect(r.snapshot.cutOff == 3)
        #expect(r.snapshot.total.requests == 200)
        // 2 s of load, then 1 s of drain before the abort, then the turn that sees it end.
        let ended = clock.nowNanos() - start
        #expect(ended >= 3_000_000_000 && ended <= 3_010_000_000, "ended at \(ended) ns")
    }

    @Test func aStopRequestEndsTheRunAsInterrupted() throws {
        let g = ScriptedGenerator()
        let (r, _, _, _) = try run("users: 1\nrun_time: 60s\n", g, shouldStop: { $0 >= 7_000_000_000 + 2_500_000_000 })
        #expect(r.stopReason == .interrupted)
        #expect(r.snapshot.total.requests == 250)
    }
}
