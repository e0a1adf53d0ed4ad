import CicadaCore
import CicadaScenario
@testable import CicadaTransport
import Testing

/// The schedule lag, like every other figure, leaves out starts in a timed warm-up or the
/// cool-down (the shared worker code both transports use).
@Suite struct ScheduleLagWindowTests {
    final class Worker: ScheduledWorker {
        let plan: RunPlan
        let index = 0, count = 1
        let control = RunControl()
        let outbox = IntervalOutbox()
        let startNanos: UInt64 = 1_000_000_000
        var stats: IntervalStats
        var inFlight: Int { 0 }
        var schedule: WorkerSchedule
        init(_ plan: RunPlan) {
            self.plan = plan
            stats = IntervalStats(statCount: plan.statNames.count)
            schedule = WorkerSchedule(plan: plan, index: 0, count: 1, startNanos: 1_000_000_000)
        }
        func send(_ ref: Transfer.TaskRef, user: Int, seq: UInt64, slot: Int, intended: UInt64, now: UInt64, rng: inout SeededRandom) -> Bool { true }
    }

    func worker(_ yaml: String) throws -> Worker {
        let scenario = try ScenarioReader().parse("target: http://127.0.0.1:1\ntasks: [{name: t, path: /}]\nusers: 1\nrun_time: 10s\n" + yaml, file: "lag.yaml")
        return Worker(try RunPlan(scenario: scenario, environment: [:]))
    }

    @Test func lagInTheWarmUpAndTheCoolDownIsLeftOut() throws {
        let w = try worker("warmup: 2s\ncooldown: 3s\n")
        w.recordLag(40_000_000, intended: 1_000_000_000 + 1_500_000_000)   // 1.5 s in: warm-up
        w.recordLag(50_000_000, intended: 1_000_000_000 + 8_000_000_000)   // 8 s in: cool-down
        #expect(w.stats.scheduleLag.count == 0)
        w.recordLag(7_000_000, intended: 1_000_000_000 + 4_000_000_000)    // measured
        #expect(w.stats.scheduleLag.count == 1)
        #expect(w.stats.scheduleLag.max == 7_000)
    }

    @Test func withoutWindowsEveryStartCounts() throws {
        let w = try worker("")
        w.recordLag(40_000_000, intended: 1_000_000_000)
        w.recordLag(2_000_000, intended: 9_000_000_000)
        #expect(w.stats.scheduleLag.count == 2)
    }
}

/// `transport: auto` keeps on libcurl's worker what the fast path does not carry yet, and an
/// explicit `fast` refuses it with the reason; a plain run goes fast.
@Suite struct AutoTransportTests {
    func plan(_ yaml: String) throws -> RunPlan {
        try RunPlan(scenario: try ScenarioReader().parse("target: http://127.0.0.1:1\nrun_time: 5s\n" + yaml, file: "t.yaml"), environment: [:])
    }

    @Test(arguments: [
        ("users: 1\nwarmup: 1s\ntasks: [{path: /}]\n", "warm-up"),
        ("users: 1\ntasks: [{kind: openai-chat, model: [{name: a, weight: 1}, {name: b, weight: 2}], prompt: hi}]\n", "weighted model"),
        ("users: 1\ntasks: [{kind: openai-chat, conversations: [[\"hello\", \"and then?\"]]}]\n", "conversations"),
    ])
    func featuresTheFastPathLacksGoToLibcurl(_ yaml: String, _ reason: String) throws {
        let p = try plan(yaml)
        #expect(FastTransport.unsupported(p)?.contains(reason) == true, "\(FastTransport.unsupported(p) ?? "nil")")
        #expect(Transports.choose(for: p).name == "curl")
    }

    @Test func aPlainRunGoesFast() throws {
        let p = try plan("users: 1\ntasks: [{path: /}]\n")
        #expect(FastTransport.unsupported(p) == nil)
        #expect(Transports.choose(for: p).name == "fast")
    }
}
