import CicadaCore
import CicadaDashboard
import Testing

/// The live sweep's pure parts: the Pareto marks, the progress and time left, the keys, the
/// curve and panels as a rendered frame, and the driver with an injected clock.
@Suite struct SweepDashboardTests {
    static let configurations = ["seed", "throughput"]

    func point(_ c: String, _ level: Double, _ x: Double, _ p99: Double?, _ status: SweepCurvePoint.Status = .holds) -> SweepCurvePoint {
        SweepCurvePoint(configuration: c, level: level, throughput: x, p99Millis: p99, status: status)
    }

    func progress(index: Int = 3, phase: SweepProgress.Phase = .measure, started: ContinuousClock.Instant) -> SweepProgress {
        SweepProgress(index: index, total: 8, configuration: "throughput", levelText: "40/s", phase: phase, phaseStarted: started,
                      phaseDuration: phase == .warmup ? .seconds(1) : .seconds(5), pointDuration: .seconds(6), measureDuration: .seconds(5))
    }

    func controller(unicode: Bool = true) -> SweepDashboardController {
        SweepDashboardController(configuration: .init(scenarioName: "tiny-sweep", targetDescription: "embedded engine",
                                                      configurations: Self.configurations, p99ObjectiveMillis: 100, unicode: unicode))
    }

    // MARK: Pareto marks

    @Test func paretoFrontIsTheSweepAnalysisFront() {
        // The same points as SweepTests.paretoFrontAndRecommendationArePure: b@100 and b@200.
        let pts = [point("a", 100, 100, 50), point("a", 200, 150, 300), point("b", 100, 100, 30), point("b", 200, 199, 90)]
        #expect(SweepCurvePoint.paretoFront(pts) == [2, 3])
    }

    @Test(arguments: [SweepCurvePoint.Status.errors, .outOfMemory, .skipped])
    func pointsThatDidNotAnswerAreNeverOnTheFront(_ status: SweepCurvePoint.Status) {
        // The dominating point (more throughput, lower p99) is left out: the other two form the front.
        let pts = [point("a", 10, 10, 20), point("a", 20, 20, 40), point("b", 30, 300, 1, status)]
        #expect(SweepCurvePoint.paretoFront(pts) == [0, 1])
        #expect(SweepCurvePoint.paretoFront(pts.dropLast()) == [0, 1])
        #expect(SweepCurvePoint.paretoFront([point("b", 30, 300, 1, .holds)] + pts) == [0])
    }

    // MARK: Progress

    @Test func timeLeftCountsTheRestOfThisPointAndEveryLaterOne() {
        let t0 = ContinuousClock.now
        let measuring = progress(started: t0)
        // 3 s of this measurement, then points 4...8 at 6 s each.
        #expect(measuring.timeLeft(at: t0 + .seconds(2)) == .seconds(33))
        // Past its time limit it counts nothing more for this point.
        #expect(measuring.timeLeft(at: t0 + .seconds(9)) == .seconds(30))
        let warming = progress(phase: .warmup, started: t0)
        #expect(warming.timeLeft(at: t0 + .milliseconds(500)) == .milliseconds(35_500))
        #expect(progress(index: 8, started: t0).timeLeft(at: t0 + .seconds(5)) == .zero)
    }

    // MARK: Keys

    @Test func nSkipsTheCurrentPointOnceAndQStopsTheSweep() {
        var c = controller()
        let t0 = ContinuousClock.now
        #expect(c.handle(.character("n"), at: t0).isEmpty, "no point yet")
        c.begin(progress(started: t0))
        #expect(c.handle(.character("n"), at: t0) == [.skipPoint])
        #expect(c.skipping)
        #expect(c.viewModel(at: t0).message?.contains("its partial measurement is kept") == true)
        #expect(c.handle(.character("n"), at: t0).isEmpty, "already skipping")
        // The next point starts: n applies to it again.
        c.begin(progress(index: 4, phase: .warmup, started: t0))
        #expect(!c.skipping)
        #expect(c.handle(.character("n"), at: t0) == [.skipPoint])
        #expect(c.viewModel(at: t0).message?.contains("in its warm-up") == true)
        // Its measurement after the warm-up keeps the skip (the runner does too).
        c.begin(progress(index: 4, phase: .measure, started: t0))
        #expect(c.skipping)
        #expect(c.handle(.character("q"), at: t0) == [.stopSweep])
        #expect(c.stopping)
        #expect(c.handle(.character("q"), at: t0).isEmpty)
        #expect(c.handle(.character("n"), at: t0).isEmpty, "nothing to skip once stopping")
        #expect(c.viewModel(at: t0).message?.hasPrefix("q: already stopping") == true)
        // Messages expire.
        #expect(c.viewModel(at: t0 + .seconds(4)).message == nil)
        #expect(c.handle(.resize, at: t0) == [.redraw])
        #expect(c.handle(.character("x"), at: t0).isEmpty)
    }

    // MARK: Frames

    /// The curve's plot area in a 120x40 frame: columns 7..<59, rows 3..<33 (under the title,
    /// above the x axis).
    static let plotX = 7..<59, plotY = 3..<33

    /// The first cell (top to bottom, left to right) of the plot holding `ch`, or nil.
    func find(_ ch: Character, in f: Frame) -> (x: Int, y: Int)? {
        for y in Self.plotY { for x in Self.plotX where f[x, y].char == ch { return (x, y) } }
        return nil
    }

    @Test func theCurveGrowsPointByPointWithTheFrontMarked() {
        var c = controller()
        let t0 = ContinuousClock.now
        c.begin(progress(started: t0))
        let empty = c.frame(width: 120, height: 40, at: t0 + .seconds(2)).text
        #expect(empty.contains("point 3 of 8: throughput @ 40/s  measuring 2s of 5s  ≤ 33s left"), "\(empty)")
        #expect(empty.contains("front: none yet"))
        #expect(empty.contains("waiting for the point's first figures"))
        #expect(empty.contains("0 measured"))

        c.add(point("seed", 10, 10, 8))
        c.add(point("seed", 20, 19.5, 30))
        c.add(point("throughput", 40, 39, 60))
        c.add(point("throughput", 80, 52, 400, .slow))
        c.add(point("seed", 40, 30, 20, .skipped))
        c.add(point("seed", 160, 0, nil, .outOfMemory))
        let f = c.frame(width: 120, height: 40, at: t0 + .seconds(2))
        let text = f.text
        #expect(text.contains("6 measured"))
        // Front: seed@10 (8 ms), seed@20 (30 ms), throughput@40 (60 ms), throughput@80 (400 ms);
        // the skipped point would dominate seed@20 but is no evidence.
        #expect(text.contains("front: A@10 A@20 B@40 B@80"), "\(text)")
        #expect(text.contains("A seed") && text.contains("B throughput") && text.contains("· Pareto front"))
        let a = find("A", in: f), b = find("B", in: f), skipped = find("a", in: f), oom = find("!", in: f)
        #expect(a != nil && b != nil && skipped != nil && oom != nil, "\(text)")
        // Higher p99 is higher up; the out-of-memory point sits on the bottom row at 0 req/s.
        if let a, let b, let oom { #expect(b.y < a.y); #expect(oom.y > a.y); #expect(oom.x < a.x) }
        // The front is joined by dots; the objective is a dashed line labelled 100ms.
        #expect(find("·", in: f) != nil, "\(text)")
        #expect(find("┄", in: f) != nil)
        #expect(text.contains("100ms│"), "the objective's row is labelled")
        #expect(text.contains("objective 100ms"))
        #expect(text.contains("n skip point  q stop sweep"))
    }

    @Test func theCurrentPointsPanelsAndLivePositionShow() {
        var c = controller()
        let t0 = ContinuousClock.now
        c.begin(progress(started: t0))
        let live = Fixture.open().snapshot
        c.update(snapshot: live)
        c.add(point("seed", 10, 10, 8))
        let f = c.frame(width: 120, height: 40, at: t0 + .seconds(1))
        let text = f.text
        // The run dashboard's panels: latency and throughput charts, status codes.
        #expect(text.contains("Throughput"), "\(text)")
        #expect(!text.contains("waiting for the point's first figures"))
        #expect(find("+", in: f) != nil, "the running point stands on the curve: \(text)")
        #expect(text.contains("+ now"))
    }

    /// The whole view at 120x40 and 80x24: the curve with every kind of point, the open
    /// fixture's live panels, the progress row.
    @Test(arguments: [(120, 40), (80, 24)]) func golden(_ size: (Int, Int)) throws {
        var c = controller()
        let t0 = ContinuousClock.now
        c.begin(progress(started: t0))
        let open = Fixture.open()
        c.update(snapshot: open.snapshot)
        open.history.forEach { c.append($0) }
        for p in [point("seed", 10, 10, 8), point("seed", 20, 19.5, 30), point("throughput", 40, 39, 60),
                  point("throughput", 80, 52, 400, .slow), point("seed", 40, 30, 20, .skipped), point("seed", 160, 0, nil, .outOfMemory)] {
            c.add(p)
        }
        try Golden.check(c.frame(width: size.0, height: size.1, at: t0 + .seconds(2)), "sweep-\(size.0)x\(size.1)")
    }

    @Test func asciiAndTooSmall() {
        var c = controller(unicode: false)
        let t0 = ContinuousClock.now
        c.begin(progress(started: t0))
        c.add(point("seed", 10, 10, 8)); c.add(point("seed", 20, 20, 16))
        let text = c.frame(width: 80, height: 24, at: t0).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(text)")
        #expect(text.contains("<= 35s left"), "\(text)")
        let small = c.frame(width: 40, height: 10, at: t0).text
        #expect(small.hasPrefix("terminal too small: 40x10"))
        #expect(small.contains("q stops the sweep"))
    }

    @Test func xSwitchesTheCurveToOutputTokensOnlyWhenThereAreAny() {
        var c = controller()
        let t0 = ContinuousClock.now
        c.begin(progress(started: t0))
        c.add(point("seed", 10, 10, 8))
        #expect(c.handle(.character("x"), at: t0).isEmpty)
        #expect(c.axis == .requests)
        #expect(c.viewModel(at: t0).message?.hasPrefix("x: no output tokens measured") == true)
        // On tokens the front can differ from the req/s one: here B@40 makes more tokens than A@20.
        c.add(SweepCurvePoint(configuration: "seed", level: 20, throughput: 20, p99Millis: 30, status: .holds, outputTokensPerSecond: 900))
        c.add(SweepCurvePoint(configuration: "throughput", level: 40, throughput: 19, p99Millis: 25, status: .holds, outputTokensPerSecond: 950))
        #expect(SweepCurvePoint.paretoFront(c.points) == [0, 2, 1])
        #expect(SweepCurvePoint.paretoFront(c.points, axis: .outputTokens) == [2], "seed@10 has no tokens; B@40 beats A@20")
        _ = c.handle(.character("x"), at: t0)
        #expect(c.axis == .outputTokens)
        let text = c.frame(width: 120, height: 40, at: t0).text
        #expect(text.contains("p99 vs output tok/s") && text.contains("front: B@40"), "\(text)")
        _ = c.handle(.character("x"), at: t0)
        #expect(c.frame(width: 120, height: 40, at: t0).text.contains("p99 vs achieved req/s"))
    }

    // MARK: Driver

    final class Host: SweepDashboardHost {
        var pending: [SweepCurvePoint] = []
        var begin: SweepProgress?
        private(set) var performed: [SweepDashboardAction] = []
        func refresh(_ controller: inout SweepDashboardController) {
            if let b = begin { controller.begin(b); begin = nil }
            for p in pending { controller.add(p) }
            pending = []
        }
        func perform(_ action: SweepDashboardAction) { performed.append(action) }
    }

    @Test func driverCarriesOutNThenQAndDrawsWhatTheRunnerPosted() {
        let screen = RecordingScreen(keys: [nil, .character("n"), nil, .character("q")])
        let clock = SteppingClock(step: .milliseconds(150))
        let host = Host()
        host.begin = progress(started: clock.now)
        host.pending = [point("seed", 10, 10, 8)]
        var driver = SweepDashboardDriver(screen: screen, controller: controller(), now: { clock.read() })
        var stopped: [Bool] = []
        for _ in 0..<4 { stopped.append(driver.turn(host: host)) }
        #expect(host.performed == [.skipPoint, .stopSweep])
        #expect(stopped == [false, false, false, true])
        #expect(screen.frames.count == 4)
        #expect(screen.frames.last?.text.contains("STOPPING") == true)
        #expect(screen.frames.first?.text.contains("front: A@10") == true)
    }
}
