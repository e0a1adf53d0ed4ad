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

/// `transport: auto` takes the fast path for every scenario feature (issue 17); what it cannot
/// carry (an https:// split member) stays on libcurl's worker, and an explicit `fast` refuses it
/// with the reason; a plain run goes fast.
@Suite struct AutoTransportTests {
    /// A plan of `yaml` with a target (a `split:` names its own targets instead).
    func plan(_ yaml: String) throws -> RunPlan {
        let target = yaml.contains("split:") ? "" : "target: http://127.0.0.1:1\n"
        return try RunPlan(scenario: try ScenarioReader().parse(target + "run_time: 5s\n" + yaml, file: "t.yaml"), environment: [:])
    }

    @Test(arguments: [
        "users: 1\nwarmup: 1s\ntasks: [{path: /}]\n",
        "users: 1\ntasks: [{kind: openai-chat, model: [{name: a, weight: 1}, {name: b, weight: 2}], prompt: hi}]\n",
        "users: 1\ntasks: [{kind: openai-chat, conversations: [[\"hello\", \"and then?\"]]}]\n",
        "users: 1\ntasks: [{path: /}]\nsplit: {targets: [{name: a, weight: 1, baseline: true, target: \"http://127.0.0.1:1\"}, {name: b, weight: 1, target: \"http://127.0.0.1:2\"}]}\n",
    ])
    func featuresTheFastPathCarriesGoFast(_ yaml: String) throws {
        let p = try plan(yaml)
        #expect(FastTransport.unsupported(p) == nil, "\(FastTransport.unsupported(p) ?? "nil")")
        #expect(Transports.choose(for: p).name == "fast")
    }

    @Test func anHTTPSSplitMemberGoesToLibcurl() throws {
        let p = try plan("users: 1\ntasks: [{path: /}]\nsplit: {targets: [{name: a, weight: 1, baseline: true, target: \"http://127.0.0.1:1\"}, {name: b, weight: 1, target: \"https://127.0.0.1:2\"}]}\n")
        #expect(FastTransport.unsupported(p) == "TLS (https://) needs libcurl (split member b)")
        #expect(Transports.choose(for: p).name == "curl")
    }

    @Test func aPlainRunGoesFast() throws {
        let p = try plan("users: 1\ntasks: [{path: /}]\n")
        #expect(FastTransport.unsupported(p) == nil)
        #expect(Transports.choose(for: p).name == "fast")
    }
}
