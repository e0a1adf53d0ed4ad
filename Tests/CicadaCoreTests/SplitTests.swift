import CicadaCore
import Testing

/// The canary split's pure parts: the seeded target chooser, the promotion steps and the verdict.
@Suite struct SplitChooserTests {
    /// How many of `n` keys each member gets.
    static func counts(_ c: SplitChooser, members: Int, _ pick: (SplitChooser) -> [Int]) -> [Int] {
        var out = Array(repeating: 0, count: members)
        for m in pick(c) { out[m] += 1 }
        return out
    }

    @Test(arguments: [(90, 10), (75, 25), (50, 50), (99, 1), (3, 7)])
    func openArrivalsMatchTheWeightsAlmostExactly(stable: Int, canary: Int) {
        let c = SplitChooser(weights: [stable, canary], baseline: 0, seed: 42)
        let n = 20_000
        let got = Self.counts(c, members: 2) { c in (0..<n).map { c.pick(arrival: UInt64($0)) } }
        let want = Double(n) * Double(canary) / Double(stable + canary)
        // A Weyl sequence: within a few requests of exact (independent dice: ±1.3·√(n·p·(1-p)) ≈ ±50 at 10 %).
        #expect(abs(Double(got[1]) - want) <= 3, "canary \(got[1]) of \(n), want \(want)")
        #expect(got[0] + got[1] == n)
        // Every prefix stays close too: the split holds from the run's first requests, not only on average.
        var canaryCount = 0
        for i in 0..<2_000 {
            if c.pick(arrival: UInt64(i)) == 1 { canaryCount += 1 }
            let w = Double(i + 1) * Double(canary) / Double(stable + canary)
            #expect(abs(Double(canaryCount) - w) <= 3, "after \(i + 1): \(canaryCount) vs \(w)")
        }
    }

    @Test func closedUsersMatchTheWeightsAcrossUsersAndRequests() {
        let c = SplitChooser(weights: [90, 10], baseline: 0, seed: 7)
        var canary = 0, total = 0
        for user in 0..<100 {
            for req in 0..<(50 + user % 13) {   // users send different numbers of requests
                if c.pick(user: UInt64(user), request: UInt64(req)) == 1 { canary += 1 }
                total += 1
            }
        }
        let want = Double(total) / 10
        #expect(abs(Double(canary) - want) <= 0.005 * Double(total), "canary \(canary) of \(total), want \(want)")
    }

    @Test func threeMembersEachGetTheirShare() {
        let c = SplitChooser(weights: [60, 30, 10], baseline: 0, seed: 3)
        let got = Self.counts(c, members: 3) { c in (0..<30_000).map { c.pick(arrival: UInt64($0)) } }
        #expect(abs(got[0] - 18_000) <= 4 && abs(got[1] - 9_000) <= 4 && abs(got[2] - 3_000) <= 4, "\(got)")
    }

    @Test func theSameSeedSendsTheSameRequestsToTheCanaryAndAnotherSeedOthers() {
        let a = SplitChooser(weights: [90, 10], baseline: 0, seed: 11)
        let b = SplitChooser(weights: [90, 10], baseline: 0, seed: 11)
        let other = SplitChooser(weights: [90, 10], baseline: 0, seed: 12)
        let pa = (0..<5_000).map { a.pick(arrival: UInt64($0)) }
        #expect(pa == (0..<5_000).map { b.pick(arrival: UInt64($0)) })
        #expect(pa != (0..<5_000).map { other.pick(arrival: UInt64($0)) })
        let ca = (0..<40).flatMap { u in (0..<40).map { a.pick(user: UInt64(u), request: UInt64($0)) } }
        #expect(ca == (0..<40).flatMap { u in (0..<40).map { b.pick(user: UInt64(u), request: UInt64($0)) } })
    }

    @Test func raisingTheCanaryWeightOnlyAddsRequestsToIt() {
        let seed: UInt64 = 5
        var previous = Set<Int>()
        for p in [10, 25, 50, 100] {
            let c = SplitChooser(weights: [100 - p, p], baseline: 0, seed: seed)
            let canary = Set((0..<10_000).filter { c.pick(arrival: UInt64($0)) == 1 })
            #expect(previous.isSubset(of: canary), "a request the canary served at a lower step stays on it at \(p)%")
            #expect(abs(canary.count - 100 * p) <= 3)
            previous = canary
        }
        let all = SplitChooser(weights: [0, 100], baseline: 0, seed: seed)
        #expect((0..<1_000).allSatisfy { all.pick(arrival: UInt64($0)) == 1 })
        let none = SplitChooser(weights: [100, 0], baseline: 0, seed: seed)
        #expect((0..<1_000).allSatisfy { none.pick(arrival: UInt64($0)) == 0 })
    }

    @Test func theBaselineMayBeAnyMember() {
        // The baseline listed second: the canary (index 0) still gets its 20 %.
        let c = SplitChooser(weights: [20, 80], baseline: 1, seed: 9)
        let got = Self.counts(c, members: 2) { c in (0..<10_000).map { c.pick(arrival: UInt64($0)) } }
        #expect(abs(got[0] - 2_000) <= 3, "\(got)")
    }
}

@Suite struct SplitStepsTests {
    static let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                                          .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false)],
                                steps: [10, 25, 50, 100])

    @Test func stepsPromoteAndRollBack() {
        let s = Self.spec
        #expect(s.canaryIndex == 1 && s.canaryPercent == 10)
        #expect(s.promoted(from: 10) == 25)
        #expect(s.promoted(from: 30) == 50, "between steps: the next one up")
        #expect(s.promoted(from: 100) == nil)
        #expect(s.rolledBack(from: 50) == 25)
        #expect(s.rolledBack(from: 10) == 0, "below the first step: no load on the canary")
        #expect(s.rolledBack(from: 0) == nil)
        #expect(s.weights(canaryPercent: 25) == [75, 25])
        #expect(s.weights(canaryPercent: 100) == [0, 100])
    }

    @Test func theBaselineListedSecondKeepsItsPlaceInTheWeights() {
        let s = SplitSpec(members: [.init(name: "canary", target: "http://127.0.0.1:2", weight: 1, baseline: false),
                                    .init(name: "stable", target: "http://127.0.0.1:1", weight: 3, baseline: true)], steps: [50])
        #expect(s.canaryIndex == 0 && s.canaryPercent == 25)
        #expect(s.weights(canaryPercent: 50) == [50, 50])
    }
}

@Suite struct SplitVerdictTests {
    /// Stats of `n` requests taking `ms` each, `failures` of them failed.
    static func stats(_ n: Int, ms: Double, failures: Int = 0) -> RequestStats {
        var s = RequestStats()
        for i in 0..<n {
            let end = UInt64(ms * 1e6)
            s.record(RequestOutcome(statIndex: 0, intendedNanos: 0, sentNanos: 0, endNanos: end, ttfbMicros: nil, status: i < failures ? 500 : 200,
                                    failure: i < failures ? .http5xx : nil, error: nil, bytesIn: 0, bytesOut: 0))
        }
        return s
    }

    static func spec(_ bounds: [String]) throws -> SplitSpec {
        SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:1", weight: 90, baseline: true),
                            .init(name: "canary", target: "http://127.0.0.1:2", weight: 10, baseline: false)],
                  bounds: try bounds.map { try RegressionBound(parsing: $0) })
    }

    @Test func aCanaryWithinItsBoundsPasses() throws {
        let v = SplitVerdict(spec: try Self.spec(["p(99)=+10%", "error_rate=+1%"]),
                             stats: [Self.stats(1000, ms: 100, failures: 5), Self.stats(100, ms: 108, failures: 1)])
        #expect(v.passed)
        #expect(v.checks.count == 2)
        let p99 = try #require(v.checks.first)
        #expect(p99.member == "canary" && p99.passed == true)
        #expect(abs(p99.limit! - p99.baselineValue! * 1.1) < 1e-9)
        let err = v.checks[1]
        #expect(abs(err.baselineValue! - 0.005) < 1e-12 && abs(err.value! - 0.01) < 1e-12 && abs(err.limit! - 0.015) < 1e-12)
    }

    @Test func aSlowCanaryFailsAndFailsTheRun() throws {
        let spec = try Self.spec(["p(99)=+10%"])
        let v = SplitVerdict(spec: spec, stats: [Self.stats(1000, ms: 100), Self.stats(100, ms: 125)])
        #expect(!v.passed)
        #expect(v.checks[0].passed == false)
        // Through a RunResult: `passed` is false, which the session maps to exit 99.
        var snap = Snapshot(elapsed: .seconds(10), names: ["x"], methods: ["GET"], perStat: [RequestStats()], total: RequestStats(), windows: [:],
                            defaultWindowSeconds: 10, errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                            gauges: WorkerGauges(users: 0, inFlight: 0, queued: 0), targetUsers: nil, targetRate: nil, measuredSeconds: 10)
        snap.groupKeys = [.target("stable"), .target("canary")]
        snap.groups = [Self.stats(1000, ms: 100), Self.stats(100, ms: 125)]
        var r = RunResult(scenarioName: "s", target: "t", snapshot: snap, thresholds: [], stopReason: .completed, timeline: Timeline(),
                          events: [], startedAtUnix: 0, cpuSeconds: 0, workers: 1, modelDescription: "")
        #expect(r.passed)
        r.split = SplitResult(spec: spec, snapshot: snap, finalWeights: [75, 25])
        #expect(!r.passed)
        #expect(r.split?.members.map(\.finalWeight) == [75, 25])
        #expect(r.split?.members.map { $0.stats?.requests } == [1000, 100])
    }

    @Test func anErrorRateOverItsPointsFails() throws {
        let v = SplitVerdict(spec: try Self.spec(["error_rate=+1%"]),
                             stats: [Self.stats(1000, ms: 10, failures: 5), Self.stats(100, ms: 10, failures: 2)])
        #expect(v.checks[0].passed == false, "2% > 0.5% + 1 point")
    }

    @Test func anAbsoluteLatencyBound() throws {
        let spec = try Self.spec(["p(99)=+20ms"])
        #expect(SplitVerdict(spec: spec, stats: [Self.stats(100, ms: 100), Self.stats(100, ms: 119)]).passed)
        #expect(!SplitVerdict(spec: spec, stats: [Self.stats(100, ms: 100), Self.stats(100, ms: 122)]).passed)
    }

    @Test func aCanaryWithNoRequestsIsNotJudgedAndDoesNotFail() throws {
        let v = SplitVerdict(spec: try Self.spec(["p(99)=+10%"]), stats: [Self.stats(100, ms: 10), nil])
        #expect(v.passed)
        #expect(v.checks[0].passed == nil && v.checks[0].value == nil && v.checks[0].limit != nil)
    }
}
