import CicadaCore

/// What a key asks of a live sweep, as ``SweepDashboardController/handle(_:at:)`` returns it.
public enum SweepDashboardAction: Sendable, Equatable {
    /// End the current point now, keep its partial measurement (labelled skipped) and go on
    /// with the next point (the `n` key).
    case skipPoint
    /// End the current point now (kept, labelled skipped), then the sweep: what was measured
    /// is analysed and reported (the `q` key).
    case stopSweep
    /// The screen was resized: draw the next frame whole.
    case redraw
}

/// The live sweep dashboard's behaviour as a pure state machine: the runner's progress, the
/// measured points and the current point's readings in; actions and frames out.
///
/// No threads, no terminal, no clock: every event carries its time. Keys: `n` skip the current
/// point, `q` stop the sweep, `x` the curve against req/s or output tok/s, `t` the live
/// charts' span (10/60/300 s), `?` help.
public struct SweepDashboardController: Sendable {
    /// What stays fixed for the whole sweep.
    public struct Configuration: Sendable {
        /// The scenario's name.
        public var scenarioName: String
        /// What is swept, as the header names it (e.g. "embedded engine: 3 presets").
        public var targetDescription: String
        /// The configurations in grid order: the curve gives each a letter (A, B, ...) in this order.
        public var configurations: [String]
        /// The p99 objective in milliseconds, drawn across the curve and the live latency chart.
        public var p99ObjectiveMillis: Double
        /// Draw with UTF-8 glyphs rather than ASCII.
        public var unicode: Bool
        /// Draw with colours (false under `NO_COLOR`).
        public var color: Bool
        /// The diagnosis rules run on the current point's snapshots.
        public var diagnosisLimits = DiagnosisLimits()

        /// A configuration.
        public init(scenarioName: String, targetDescription: String, configurations: [String], p99ObjectiveMillis: Double,
                    unicode: Bool = true, color: Bool = true) {
            self.scenarioName = scenarioName; self.targetDescription = targetDescription; self.configurations = configurations
            self.p99ObjectiveMillis = p99ObjectiveMillis; self.unicode = unicode; self.color = color
        }
    }

    /// What stays fixed for the whole sweep.
    public let configuration: Configuration
    /// The points measured so far, in order.
    public private(set) var points: [SweepCurvePoint] = []
    /// Where the sweep is; nil before the first point starts.
    public private(set) var progress: SweepProgress?
    /// The current point's live figures, as the run dashboard's panels show them.
    public private(set) var lane = DashboardLane(name: "", config: "")
    /// Whether `n` was pressed during the current point.
    public private(set) var skipping = false
    /// Whether `q` was pressed.
    public private(set) var stopping = false
    /// Whether the key help overlay is shown.
    public private(set) var showHelp = false
    /// What the curve's x axis shows.
    public private(set) var axis: SweepCurveAxis = .requests
    /// Index into ``DashboardController/chartSpans``.
    public private(set) var spanIndex = 0
    /// The last message and until when it shows.
    public private(set) var message: (text: String, until: ContinuousClock.Instant)?

    /// A controller with no point yet.
    public init(configuration: Configuration) {
        self.configuration = configuration
        lane.p99ThresholdMillis = configuration.p99ObjectiveMillis
    }

    /// The live charts' span and window, in seconds.
    public var chartSpanSeconds: Int { DashboardController.chartSpans[spanIndex] }

    // MARK: The runner's events

    /// A point's warm-up or measurement starts. A new point clears the live figures and the
    /// pending skip; its measurement after its warm-up keeps the skip (the runner does too).
    public mutating func begin(_ next: SweepProgress) {
        let samePoint = progress.map { $0.index == next.index && $0.configuration == next.configuration } ?? false
        if !samePoint { skipping = false }
        progress = next
        lane = DashboardLane(name: next.configuration, config: next.levelText, p99ThresholdMillis: configuration.p99ObjectiveMillis)
    }

    /// A point was measured: it joins the curve.
    public mutating func add(_ point: SweepCurvePoint) {
        points.append(point)
    }

    /// The current point's latest snapshot.
    public mutating func update(snapshot: Snapshot) {
        lane.snapshot = snapshot
        let found = DiagnosisRules(limits: configuration.diagnosisLimits).evaluate(DiagnosisFacts(snapshot: snapshot))
        lane.diagnoses = lane.diagnosisLog.update(found, atSeconds: snapshot.elapsed.seconds)
    }

    /// The current point's engine figures (nil: the configuration is not the embedded engine).
    public mutating func update(engine: EngineReading?) { lane.engine = engine }

    /// One per-second point of the current point's run.
    public mutating func append(_ point: TimelinePoint) {
        lane.history.append(point)
        let extra = lane.history.count - DashboardLane.historyLimit
        if extra > 0 { lane.history.removeFirst(extra) }
    }

    // MARK: Keys

    /// What `key`, pressed at `now`, asks for.
    public mutating func handle(_ key: Key, at now: ContinuousClock.Instant) -> [SweepDashboardAction] {
        guard case .character(let c) = key else { return key == .resize ? [.redraw] : [] }
        switch c {
        case "n":
            if stopping { say("q: already stopping; the reports follow", at: now); return [] }
            guard let p = progress else { say("n: no point is running yet", at: now); return [] }
            if skipping { say("n: already skipping \(p.configuration) @ \(p.levelText)", at: now); return [] }
            skipping = true
            say(p.phase == .warmup ? "n: skipping \(p.configuration) @ \(p.levelText) in its warm-up (nothing measured yet)"
                : "n: skipping \(p.configuration) @ \(p.levelText); its partial measurement is kept, labelled skipped", at: now)
            return [.skipPoint]
        case "q":
            if stopping { return [] }
            stopping = true
            say("q: stopping the sweep; the points measured so far are analysed and reported", at: now)
            return [.stopSweep]
        case "x":
            if axis == .requests {
                let tokens = points.contains { $0.outputTokensPerSecond != nil } || (lane.snapshot?.total.llm?.outputTokens ?? 0) > 0
                guard tokens else { say("x: no output tokens measured (not an LLM stream workload); the curve stays on req/s", at: now); return [] }
                axis = .outputTokens
            } else {
                axis = .requests
            }
            say("x: p99 against \(axis.unit)", at: now)
            return []
        case "t":
            spanIndex = (spanIndex + 1) % DashboardController.chartSpans.count
            say("chart span \(chartSpanSeconds)s", at: now)
            return []
        case "?":
            showHelp.toggle()
            return []
        default:
            return []
        }
    }

    private mutating func say(_ text: String, at now: ContinuousClock.Instant) {
        message = (text, now + DashboardController.messageLifetime)
    }

    // MARK: Output

    /// The dashboard at `now`: the curve so far, the progress, and the current point's live
    /// figures when it has any.
    public func viewModel(at now: ContinuousClock.Instant) -> SweepDashboardModel {
        let c = configuration
        var live: DashboardModel?
        if let s = lane.snapshot {
            var m = DashboardModel(snapshot: s, scenarioName: c.scenarioName, targetDescription: c.targetDescription,
                                   history: lane.history, windowSeconds: chartSpanSeconds, p99ThresholdMillis: c.p99ObjectiveMillis,
                                   engine: lane.engine?.line, unicode: c.unicode, color: c.color)
            m.diagnoses = lane.diagnoses
            live = m
        }
        var model = SweepDashboardModel(
            scenarioName: c.scenarioName, targetDescription: c.targetDescription, configurations: c.configurations,
            p99ObjectiveMillis: c.p99ObjectiveMillis, points: points, progress: progress, live: live, unicode: c.unicode, color: c.color)
        model.liveP99Millis = live.flatMap { m in
            (m.snapshot.windows[chartSpanSeconds] ?? m.snapshot.window).flatMap { $0.total.corrected.percentile(99) }.map { Double($0) / 1000 }
        }
        model.liveThroughput = live.flatMap { m -> Double? in
            guard let w = m.snapshot.windows[chartSpanSeconds] ?? m.snapshot.window else { return nil }
            if axis == .requests { return w.qps }
            guard let tokens = w.total.llm?.outputTokens, tokens > 0, w.span > .zero else { return nil }
            return Double(tokens) / w.span.seconds
        }
        model.axis = axis
        model.measuring = progress?.phase == .measure
        model.skipping = skipping
        model.stopping = stopping
        model.showHelp = showHelp
        model.now = now
        model.message = message.flatMap { now < $0.until ? $0.text : nil }
        return model
    }

    /// The dashboard at `now` drawn into `width` x `height` cells.
    public func frame(width: Int, height: Int, at now: ContinuousClock.Instant) -> Frame {
        SweepDashboardRenderer().render(viewModel(at: now), width: width, height: height)
    }
}
