import CicadaCore
import CicadaDashboard
import Testing

/// `inconsistent_outputs` in the live diagnoses panel: probe answers arrive in virtual time on
/// the snapshots the dashboard is fed, and the rule shows from the first snapshot after an
/// answer differs, with the count and where the answers part, in the run's and the live
/// sweep's panels alike.
@Suite struct ConsistencyPanelTests {
    static let spec = ConsistencySpec(cadence: .interval(.seconds(1)), prompt: "Name three primes.")
    /// The fake server's answers, one a second from 1 s on.
    static let stream: [(at: Double, answer: String)] = [(1, "two three five"), (2, "two three five"), (3, "two three seven"), (4, "two three five")]

    /// A snapshot `t` seconds in that carries the probe's findings up to then.
    func snapshot(at t: Double) -> Snapshot {
        var tally = ConsistencyTally(spec: Self.spec)
        for a in Self.stream where a.at <= t { tally.record(answer: a.answer, atSeconds: a.at) }
        var s = Fixture.snapshot(names: ["chat"], methods: ["POST"], outcomes: [Fixture.outcome(0, at: 0.5, took: 20)], elapsed: t,
                                 windows: [10], defaultWindow: 10, lagMicros: [100], users: 4, targetUsers: 4, targetRate: nil)
        s.consistency = tally.summary
        return s
    }

    /// Snapshot times as the runner hands them to the dashboard: every 250 ms.
    static let ticks = stride(from: 0.25, through: 5.0, by: 0.25).map { $0 }

    @Test func theRunDashboardShowsItFromTheFirstSnapshotAfterTheDifference() throws {
        var c = DashboardController(configuration: .init(scenarioName: "probe", targetDescription: "http://127.0.0.1:8000"),
                                    lanes: [DashboardLane(name: "probe", config: "http://127.0.0.1:8000")])
        let t0 = ContinuousClock.now
        var firstSeen: Double?
        for t in Self.ticks {
            c.update(snapshot: snapshot(at: t), thresholds: [], lane: 0)
            let d = c.lanes[0].diagnoses.first { $0.rule == "inconsistent_outputs" }
            if t < 3 { #expect(d == nil, "fired at \(t) s before any answer differed") }
            if d != nil, firstSeen == nil { firstSeen = t }
        }
        #expect(firstSeen == 3)
        let model = try #require(c.viewModel(at: t0))
        let d = try #require(model.diagnoses.first { $0.rule == "inconsistent_outputs" })
        #expect(d.firedAtSeconds == 3)
        // The same rule and text as the finished run's, which reads the same findings.
        var end = try #require(DiagnosisRules().evaluate(DiagnosisFacts(snapshot: snapshot(at: 5))).first { $0.rule == "inconsistent_outputs" })
        end.firedAtSeconds = 3
        #expect(d == end)
        #expect(d.evidence[0].hasPrefix("1 of 3 probe answers differed from the first"))
        // The panel's line, and its second line with the rest of the symptom: count and position.
        let text = DashboardRenderer().render(model, width: 160, height: 48).text
        #expect(text.contains("3s ⚠ inconsistent_outputs: 1 of 3 probe answers"), "\(text)")
        #expect(text.contains("character 10 (word 2)"), "\(text)")
    }

    @Test func theRulesThresholdAppliesLiveToo() {
        var config = DashboardController.Configuration(scenarioName: "probe", targetDescription: "t")
        config.diagnosisLimits.inconsistentFraction = 0.5   // 1 of 3 may differ
        var c = DashboardController(configuration: config, lanes: [DashboardLane(name: "probe", config: "t")])
        for t in Self.ticks { c.update(snapshot: snapshot(at: t), thresholds: [], lane: 0) }
        #expect(!c.lanes[0].diagnoses.contains { $0.rule == "inconsistent_outputs" })
    }

    @Test func theLiveSweepShowsItForTheRunningPoint() throws {
        var c = SweepDashboardController(configuration: .init(scenarioName: "sweep", targetDescription: "embedded engine",
                                                              configurations: ["seed"], p99ObjectiveMillis: 100))
        let t0 = ContinuousClock.now
        c.begin(SweepProgress(index: 1, total: 2, configuration: "seed", levelText: "40/s", phase: .measure, phaseStarted: t0,
                              phaseDuration: .seconds(5), pointDuration: .seconds(6), measureDuration: .seconds(5)))
        for t in Self.ticks where t <= 2.75 { c.update(snapshot: snapshot(at: t)) }
        #expect(c.viewModel(at: t0).live?.diagnoses.contains { $0.rule == "inconsistent_outputs" } == false)
        c.update(snapshot: snapshot(at: 3))
        let d = try #require(c.viewModel(at: t0).live?.diagnoses.first { $0.rule == "inconsistent_outputs" })
        #expect(d.firedAtSeconds == 3 && d.symptom.hasPrefix("1 of 2 probe answers differed, from character 10 (word 2)"))
    }
}
