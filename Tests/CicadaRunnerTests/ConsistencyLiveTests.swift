import CicadaCore
import CicadaScenario
import Foundation
import Synchronization
import Testing
@testable import CicadaRunner

/// The consistency probe judged live: a run stepped in virtual time, a prober whose answers
/// come from a script (no server), and the diagnosis rules run on every snapshot as the
/// dashboard runs them (``DiagnosisRules`` and ``DiagnosisLog``).
@Suite struct ConsistencyLiveTests {
    /// Answers the fake server gives, one per probe, in order (the last one repeats).
    static let answers = ["two three five", "two three five", "two three seven", "two three five"]

    final class Holder: @unchecked Sendable {
        var prober: ConsistencyProber?
    }

    /// A chat completion's body with `text` as the answer.
    static func body(_ text: String) -> [UInt8] {
        Array(#"{"choices":[{"index":0,"message":{"role":"assistant","content":"\#(text)"}}]}"#.utf8)
    }

    @Test func theRuleFiresAtTheFirstSnapshotAfterAnAnswerDiffersAndMatchesTheEndOfRun() throws {
        let clock = ManualTimeSource(startNanos: 7_000_000_000)
        let generator = ScriptedGenerator()
        let holder = Holder()
        let scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        tasks: [{name: t, path: /}]
        users: 4
        run_time: 4500ms
        consistency: {interval: 1s, kind: openai-chat, prompt: "Name three primes."}
        """, file: "live.yaml")
        // The prober's turn runs on the runner's thread after each virtual sleep: deterministic.
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1, stopTimeout: .seconds(5)),
                              clock: clock, transport: ScriptedTransport(generator: generator),
                              sleep: { d in clock.advance(by: d); generator.step(now: clock.nowNanos()); holder.prober?.tick() })
        let sent = Mutex<[String]>([])
        let prober = ConsistencyProber(spec: try #require(scenario.consistency), plan: run.plan, control: run.control) { url, body, _ in
            let n = sent.withLock { $0.append(url + " " + body); return $0.count }
            return .response(status: 200, body: Self.body(Self.answers[min(n, Self.answers.count) - 1]))
        }
        prober.attach(to: run)
        holder.prober = prober
        // What the dashboard's panel does with each snapshot.
        let rules = DiagnosisRules()
        let ticks = Mutex<[(t: Double, answered: Int?, found: Diagnosis?)]>([])
        let log = Mutex(DiagnosisLog())
        run.onTick = { snap in
            let found = rules.evaluate(DiagnosisFacts(snapshot: snap))
            let logged = log.withLock { $0.update(found, atSeconds: snap.elapsed.seconds) }
            ticks.withLock { $0.append((snap.elapsed.seconds, snap.consistency?.answered, logged.first { $0.rule == "inconsistent_outputs" })) }
        }
        let result = try run.run(shouldStop: { false })
        let summary = prober.stop()

        // One probe a virtual second, at 1, 2, 3 and 4 s, to the scenario's target.
        #expect(sent.withLock { $0.count } == 4)
        #expect(sent.withLock { $0.allSatisfy { $0.hasPrefix("http://127.0.0.1:1/v1/chat/completions {") } })
        #expect(summary.answered == 4 && summary.differing == 1 && summary.compared == 3)
        let differedAt = try #require(summary.samples.first?.atSeconds)
        #expect(differedAt >= 3 && differedAt < 3.1, "\(differedAt)")

        let all = ticks.withLock { $0 }
        // Every snapshot carries the findings so far: none answered before 1 s, all four by the end.
        #expect(all.first?.answered == 0)
        #expect(all.last?.answered == 4)
        // Silent while the answers agree; fired from the first snapshot after the differing one.
        let firstAfter = try #require(all.first { $0.t >= differedAt })
        #expect(all.filter { $0.t < differedAt }.allSatisfy { $0.found == nil })
        let fired = try #require(firstAfter.found, "\(all.map { ($0.t, $0.answered) })")
        #expect(fired.firedAtSeconds == firstAfter.t && firstAfter.t - differedAt < 0.3)
        #expect(fired.symptom.hasPrefix("1 of 2 probe answers differed, from character 10 (word 2): "), "\(fired.symptom)")
        #expect(fired.evidence[1] == "first differing position: character 10 (word 2): expected \"two three five\", got \"two three seven\"")

        // The end of the run judges the same findings with the same rule: the last live finding
        // is the finished run's, time apart.
        var finished = result
        finished.consistency = summary
        let end = try #require(rules.evaluate(DiagnosisFacts(result: finished)).first { $0.rule == "inconsistent_outputs" })
        var last = try #require(all.last?.found)
        #expect(last.firedAtSeconds == fired.firedAtSeconds)
        last.firedAtSeconds = nil
        #expect(last == end)
        #expect(end.evidence[0] == "1 of 3 probe answers differed from the first (same request, temperature 0, openai-chat /v1/chat/completions)")
        // The run's own final snapshot carries the findings too.
        #expect(result.snapshot.consistency == summary)
    }

    @Test func probesWithNoAnswerAreFailuresNotAnswers() throws {
        let clock = ManualTimeSource(startNanos: 1_000_000_000)
        let generator = ScriptedGenerator()
        let holder = Holder()
        let scenario = try ScenarioReader().parse("""
        target: http://127.0.0.1:1
        tasks: [{name: t, path: /}]
        users: 1
        run_time: 4s
        consistency: {every: 50, kind: openai-chat, prompt: p}
        """, file: "p.yaml")
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: 1),
                              clock: clock, transport: ScriptedTransport(generator: generator),
                              sleep: { d in clock.advance(by: d); generator.step(now: clock.nowNanos()); holder.prober?.tick() })
        let replies: [ConsistencyProber.Reply] = [.response(status: 200, body: Array("{}".utf8)), .failed("connect: refused"), .response(status: 503, body: [])]
        let n = Mutex(0)
        let prober = ConsistencyProber(spec: try #require(scenario.consistency), plan: run.plan, control: run.control) { _, _, _ in
            n.withLock { $0 += 1; return replies[($0 - 1) % replies.count] }
        }
        prober.attach(to: run)
        holder.prober = prober
        let r = try run.run(shouldStop: { false })
        let s = prober.stop()
        // every: 50 reads the load's completed requests from each second's snapshot (100 a
        // second): one probe after each of seconds 1, 2 and 3, none piled up.
        #expect(n.withLock { $0 } == 3)
        #expect(s.failed == 3 && s.answered == 0 && s.lastFailure == "HTTP 503", "\(s)")
        #expect(r.snapshot.consistency?.failed == 3)
        #expect(!DiagnosisRules().evaluate(DiagnosisFacts(snapshot: r.snapshot)).map(\.rule).contains("inconsistent_outputs"))
    }
}
