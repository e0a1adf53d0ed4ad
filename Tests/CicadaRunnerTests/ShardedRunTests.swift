import CicadaCore
import CicadaScenario
import Foundation
import Synchronization
import Testing
@testable import CicadaRunner

/// A generator that sends its slot's part of the open-model schedule in virtual time, each
/// request taking a latency fixed by its arrival index, so a run's histograms depend only on
/// which arrivals it sent.
final class ScheduleGenerator: LoadGenerator, @unchecked Sendable {
    let context: GeneratorContext
    private var schedule: ArrivalSchedule?
    private var pending: (index: UInt64, offsetNanos: UInt64)?
    private var stats: IntervalStats
    private var done = false
    private let ended = DispatchSemaphore(value: 0)
    /// Intended offsets of what it sent.
    var sent: [UInt64] = []
    /// The shard's user target at each step (closed model).
    var usersSeen: [Int] = []

    init(_ context: GeneratorContext) {
        self.context = context
        stats = IntervalStats(statCount: context.plan.statNames.count)
        if case .open(let o) = context.plan.scenario.load { schedule = ArrivalSchedule(load: o, seed: context.plan.scenario.seed) }
    }
    func run() { ended.wait() }
    func wake() {}

    func step(now: UInt64) {
        guard !done else { return }
        let c = context
        if c.control.stopStarting {
            c.outbox.post(.init(worker: c.index, stats: stats, gauges: WorkerGauges(), finished: true))
            done = true; ended.signal(); return
        }
        usersSeen.append(RunControl.share(of: c.control.targetUsers, worker: c.index, workerCount: c.count))
        let slot = c.shard.slot(worker: c.index, workerCount: c.count)
        while schedule != nil {
            if pending == nil {
                guard let a = schedule!.next() else { break }
                if a.index % UInt64(slot.count) != UInt64(slot.index) { continue }
                pending = a
            }
            let intended = c.startNanos + pending!.offsetNanos
            guard intended <= now else { break }
            let k = pending!.index
            let latency = 1_000_000 + (k &* 7919 % 400) * 250_000      // 1 .. 100 ms, by arrival
            stats.record(RequestOutcome(statIndex: Int(k % 2), intendedNanos: intended, sentNanos: intended + 1000, endNanos: intended + latency,
                                        ttfbMicros: latency / 2000, status: k % 17 == 0 ? 500 : 200, failure: k % 17 == 0 ? .http5xx : nil,
                                        error: nil, bytesIn: 10, bytesOut: 10), method: "GET", name: k % 2 == 0 ? "a" : "b")
            sent.append(pending!.offsetNanos)
            pending = nil
        }
        c.outbox.post(.init(worker: c.index, stats: stats, gauges: WorkerGauges(), finished: false))
        stats = IntervalStats(statCount: c.plan.statNames.count)
    }
}

final class ScheduleTransport: LoadTransport, @unchecked Sendable {
    let generators = Mutex<[ScheduleGenerator]>([])
    func makeGenerator(_ context: GeneratorContext) throws -> any LoadGenerator {
        let g = ScheduleGenerator(context)
        generators.withLock { $0.append(g) }
        return g
    }
    func step(now: UInt64) { for g in generators.withLock({ $0 }) { g.step(now: now) } }
}

@Suite struct ShardedRunTests {
    static let head = "target: http://127.0.0.1:1\nseed: 5\ntasks: [{name: a, path: /a}, {name: b, path: /b}]\nthresholds: ['p(99)<80ms', 'error_rate<5%']\n"

    /// Runs `yaml` as shard `shard` with `workers` workers in virtual time.
    func run(_ yaml: String, shard: ShardSpec, workers: Int) throws -> (RunResult, [ScheduleGenerator]) {
        let clock = ManualTimeSource(startNanos: 9_000_000_000)
        let scenario = try ScenarioReader().parse(Self.head + yaml, file: "sharded.yaml")
        let transport = ScheduleTransport()
        var options = RunOptions(workers: workers)
        options.shard = shard
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: options, clock: clock, transport: transport,
                              sleep: { d in clock.advance(by: d); transport.step(now: clock.nowNanos()) })
        return (try run.run(), transport.generators.withLock { $0 })
    }

    func artifact(_ r: RunResult, _ shard: ShardSpec) -> ShardArtifact {
        ShardArtifact(result: r, shard: shard, identity: .init(scenario: "s", scenarioHash: "h", seed: 5, scheduleHash: "x"),
                      thresholds: r.thresholds.map(\.threshold.spec), timeline: [], startAtUnix: nil, writtenAtUnix: r.startedAtUnix)
    }

    @Test(arguments: [
        "arrival: {rate: 400, process: constant}\nrun_time: 3s\n",
        "arrival: {rate: 400, process: poisson}\nrun_time: 3s\n",
        "arrival: {stages: [{duration: 2s, rate: 600}, {duration: 1s, rate: 50}], process: poisson}\n",
    ])
    func fourShardsMergeToExactlyTheSingleRun(_ yaml: String) throws {
        let (single, singleGens) = try run(yaml, shard: .single, workers: 2)
        var parts: [ShardArtifact] = []
        var sent: [UInt64] = []
        for i in 0..<4 {
            let shard = ShardSpec(index: i, count: 4)!
            let (r, gens) = try run(yaml, shard: shard, workers: 3)
            #expect(gens.count == 3)
            sent += gens.flatMap(\.sent)
            parts.append(artifact(r, shard))
        }
        #expect(sent.sorted() == singleGens.flatMap(\.sent).sorted())
        let merged = try #require(try ShardArtifact.merged(parts)).runResult()
        let a = single.snapshot, b = merged.snapshot
        #expect(a.total.requests > 800)
        #expect(b.total.requests == a.total.requests)
        #expect(b.total.failures == a.total.failures)
        // Lossless: the merged histograms are the single run's, bucket for bucket, min and max.
        #expect(b.total.corrected == a.total.corrected)
        #expect(b.perStat[0].corrected == a.perStat[0].corrected && b.perStat[1].raw == a.perStat[1].raw)
        #expect(b.total.ttfb == a.total.ttfb)
        for p in [50.0, 90, 99, 99.9] { #expect(b.total.corrected.percentile(p) == a.total.corrected.percentile(p)) }
        #expect(merged.thresholds.map(\.passed) == single.thresholds.map(\.passed))
        #expect(merged.thresholds.map(\.measured) == single.thresholds.map(\.measured))
    }

    @Test func theClosedModelsUsersAreSplitAmongTheShards() throws {
        let yaml = "users: 13\nspawn_rate: 4\nrun_time: 4s\nwait_time: constant(1)\n"
        let (_, single) = try run(yaml, shard: .single, workers: 1)
        var perShard: [[Int]] = []
        for i in 0..<4 {
            let (_, gens) = try run(yaml, shard: ShardSpec(index: i, count: 4)!, workers: 2)
            // The shard's workers together, step by step.
            perShard.append(zip(gens[0].usersSeen, gens[1].usersSeen).map { $0 + $1 })
        }
        let steps = min(single[0].usersSeen.count, perShard.map(\.count).min()!)
        #expect(steps > 100)
        for s in 0..<steps {
            #expect(perShard.map { $0[s] }.reduce(0, +) == single[0].usersSeen[s], "step \(s)")
        }
        #expect(perShard.map { $0[steps - 1] } == [4, 3, 3, 3])
    }
}
