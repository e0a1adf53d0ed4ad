import CicadaCore
@testable import CicadaDashboard
import Testing

/// A split run's live panel (issue 16): each target's weight now, requests, recent rate, this
/// step's p50/p99/error rate and the step's verdict as it stands, under the header.
@Suite struct SplitPanelTests {
    static let spec = SplitSpec(members: [.init(name: "stable", target: "http://127.0.0.1:8080", weight: 90, baseline: true),
                                          .init(name: "canary", target: "http://127.0.0.1:8081", weight: 10, baseline: false)],
                                bounds: [try! RegressionBound(parsing: "p(99)=+10%")], steps: [10, 25, 50, 100], minRequests: 50)

    /// `n` requests of `ms` milliseconds (`failures` of them failed).
    static func stats(_ n: Int, ms: Double, failures: Int = 0) -> RequestStats {
        var s = RequestStats()
        for i in 0..<n { s.record(Fixture.outcome(0, at: 0, took: ms, status: i < failures ? 503 : 200, failure: i < failures ? .http5xx : nil)) }
        return s
    }

    /// The open fixture's snapshot at `t` seconds with the split's groups and step windows.
    static func snapshot(at t: Double, whole: [RequestStats], steps: [RequestStats]) -> Snapshot {
        var s = Fixture.open().snapshot
        s.elapsed = .fromSeconds(t)
        s.groupKeys = [.target("stable"), .target("canary")]
        s.groups = whole
        s.splitSteps = steps
        return s
    }

    static func controller() -> DashboardController {
        var config = DashboardController.Configuration(scenarioName: "canary", targetDescription: "split stable 90 / canary 10",
                                                       runTime: .seconds(120), isOpenModel: true)
        config.split = spec
        return DashboardController(configuration: config, lanes: [DashboardLane(name: "canary", config: "split")])
    }

    @Test func thePanelFollowsTheStepSinceTheLastShift() throws {
        var c = Self.controller()
        // Step 1: 900 / 100 requests by 10 s, 1,800 / 200 by 20 s (90 / 10 req/s over the last 5 s).
        c.update(snapshot: Self.snapshot(at: 10, whole: [Self.stats(900, ms: 10), Self.stats(100, ms: 10)],
                                         steps: [Self.stats(900, ms: 10), Self.stats(100, ms: 10)]), thresholds: [], lane: 0)
        c.update(snapshot: Self.snapshot(at: 15, whole: [Self.stats(1350, ms: 10), Self.stats(150, ms: 10)],
                                         steps: [Self.stats(1350, ms: 10), Self.stats(150, ms: 10)]), thresholds: [], lane: 0)
        c.update(snapshot: Self.snapshot(at: 20, whole: [Self.stats(1800, ms: 10), Self.stats(200, ms: 10)],
                                         steps: [Self.stats(1800, ms: 10), Self.stats(200, ms: 10)]), thresholds: [], lane: 0)
        var p = try #require(c.viewModel(at: Controllers.at(20))?.split)
        #expect(p.step == 1 && p.stepStartSeconds == 0)
        #expect(p.rows.map(\.weight) == [90, 10] && p.rows.map(\.requests) == [1800, 200])
        #expect(p.rows.map(\.qps) == [90, 10], "the last 5 s of the run's clock")
        #expect(p.verdict.state == .passed)

        // c at 20 s: step 2 (75 / 25) opens; its window has 40 / 30 requests by 22 s, the canary slow.
        _ = c.handle(.character("c"), at: Controllers.at(20))
        #expect(c.splitShifts == [SplitShiftMark(weights: [75, 25], atSeconds: 20)])
        c.update(snapshot: Self.snapshot(at: 22, whole: [Self.stats(1840, ms: 10), Self.stats(230, ms: 10)],
                                         steps: [Self.stats(1800, ms: 10), Self.stats(200, ms: 10), Self.stats(40, ms: 10), Self.stats(30, ms: 30)]),
                 thresholds: [], lane: 0)
        p = try #require(c.viewModel(at: Controllers.at(22))?.split)
        #expect(p.step == 2 && p.stepStartSeconds == 20)
        #expect(p.rows.map(\.weight) == [75, 25])
        #expect(p.rows.map(\.stepRequests) == [40, 30] && p.rows.map(\.requests) == [1840, 230])
        #expect(p.rows[1].p99Micros == 30_000 && p.rows[0].p99Micros == 10_000, "this step's figures, not the whole run's")
        #expect(p.verdict.state == .notEnoughData, "30 and 40 < 50 a side")

        // By 30 s the step has enough: the canary's 30 ms p99 fails +10 % over 10 ms.
        c.update(snapshot: Self.snapshot(at: 30, whole: [Self.stats(2400, ms: 10), Self.stats(400, ms: 10)],
                                         steps: [Self.stats(1800, ms: 10), Self.stats(200, ms: 10), Self.stats(600, ms: 10), Self.stats(200, ms: 30)]),
                 thresholds: [], lane: 0)
        p = try #require(c.viewModel(at: Controllers.at(30))?.split)
        #expect(p.verdict.state == .failed && p.failedSteps.isEmpty)
        // Rolled back: step 3, and step 2's failure stays in view.
        _ = c.handle(.character("C"), at: Controllers.at(31))
        p = try #require(c.viewModel(at: Controllers.at(31))?.split)
        #expect(p.step == 3 && p.failedSteps == [2] && p.rows.map(\.weight) == [90, 10])
    }

    @Test func aResetStartsTheRateAfresh() throws {
        var c = Self.controller()
        c.update(snapshot: Self.snapshot(at: 10, whole: [Self.stats(900, ms: 10), Self.stats(100, ms: 10)], steps: []), thresholds: [], lane: 0)
        c.update(snapshot: Self.snapshot(at: 11, whole: [Self.stats(5, ms: 10), Self.stats(1, ms: 10)], steps: []), thresholds: [], lane: 0)
        let p = try #require(c.viewModel(at: Controllers.at(11))?.split)
        #expect(p.rows.map(\.qps) == [nil, nil], "one sample since the reset: no rate yet, never a negative one")
        #expect(p.rows.map(\.stepRequests) == [0, 0] && p.rows.map(\.p99Micros) == [nil, nil], "absent, not 0")
    }

    @Test func noSplitNoPanel() {
        var c = DashboardController(configuration: .init(scenarioName: "s", targetDescription: "t"), lanes: [DashboardLane(name: "s", config: "t")])
        c.update(snapshot: Fixture.closed().snapshot, thresholds: [], lane: 0)
        #expect(c.viewModel(at: Controllers.at(0))?.split == nil)
    }

    /// The open fixture with a split panel: step 2 since 41 s, the canary failing its p99 bound.
    static func model() -> DashboardModel {
        var m = Fixture.open()
        m.targetDescription = "split stable 75 / canary 25"
        m.split = SplitPanel(rows: [
            .init(name: "stable", baseline: true, weight: 75, requests: 15_230, qps: 149.8, stepRequests: 4_120, p50Micros: 20_500, p99Micros: 31_200, errorRate: 0),
            .init(name: "canary", baseline: false, weight: 25, requests: 2_310, qps: 50.2, stepRequests: 1_370, p50Micros: 22_100, p99Micros: 41_900, errorRate: 0.004),
        ], step: 2, stepStartSeconds: 41,
           verdict: SplitVerdict(checks: [.init(member: "canary", bound: try! RegressionBound(parsing: "p(99)=+10%"), baselineValue: 31.2, value: 41.9,
                                                limit: 34.32, passed: false, baselineRequests: 4_120, requests: 1_370)]),
           minRequests: 50)
        return m
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func splitGolden(_ width: Int, _ height: Int) throws {
        let frame = DashboardRenderer().render(Self.model(), width: width, height: height)
        try Golden.check(frame, "split-\(width)x\(height)")
        let rows = frame.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let title = try #require(rows.firstIndex { $0.contains("Split") && $0.contains("step 2 since 41s") }, "\(frame.text)")
        #expect(title == 2, "under the header")
        #expect(rows[title + 1].contains("Target") && rows[title + 1].contains("Req/s") && rows[title + 1].contains("p99"))
        #expect(rows[title + 2].split(separator: " ") == ["stable", "baseline", "75", "15230", "149.8", "20.5ms", "31.2ms", "0.0%"], "\(rows[title + 2])")
        #expect(rows[title + 3].split(separator: " ") == ["canary", "canary", "25", "2310", "50.2", "22.1ms", "41.9ms", "0.4%"], "\(rows[title + 3])")
        #expect(rows[title + 4].contains("Verdict, step 2: FAIL canary p(99) 41.90ms, limit 34.32ms"), "\(rows[title + 4])")
        // The rest of the dashboard is still there, and the footer names the canary keys.
        #expect(frame.text.contains("Requests"))
        #expect(rows[height - 1].contains("c/C canary"), "\(rows[height - 1])")
        // The failing verdict is drawn red.
        let x = try #require(rows[title + 4].range(of: "FAIL").map { rows[title + 4].distance(from: rows[title + 4].startIndex, to: $0.lowerBound) })
        #expect(frame.cells[(title + 4) * width + x].style.fg == .red)
    }

    @Test func eachVerdictStateReads() {
        var m = Self.model()
        let d = DashboardRenderer.Drawer(m: m)
        #expect(d.splitVerdictText(m.split!).0.hasPrefix("Verdict, step 2: FAIL"))
        m.split!.verdict.checks[0].passed = nil
        m.split!.verdict.checks[0].enoughData = false
        m.split!.rows[1].stepRequests = 12
        #expect(DashboardRenderer.Drawer(m: m).splitVerdictText(m.split!).0 == "Verdict, step 2: not enough data (stable 4120, canary 12; 50 a side)")
        m.split!.failedSteps = [1]
        #expect(DashboardRenderer.Drawer(m: m).splitVerdictText(m.split!).0.hasPrefix("step 1 FAILED. Verdict, step 2: not enough data"))
        m.split!.verdict.checks = []
        m.split!.failedSteps = []
        #expect(DashboardRenderer.Drawer(m: m).splitVerdictText(m.split!).0 == "Verdict, step 2: no bounds (split.verdict) set")
    }
}
