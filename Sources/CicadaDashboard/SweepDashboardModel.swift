import CicadaCore

/// Everything the live sweep dashboard shows at one moment; the renderer is a pure function
/// of it, so every screen state can be reproduced in a test from a hand-built model.
public struct SweepDashboardModel: Sendable {
    /// The scenario's name.
    public var scenarioName: String
    /// What is swept, as the header names it.
    public var targetDescription: String
    /// The configurations in grid order (their letters on the curve).
    public var configurations: [String]
    /// The p99 objective in milliseconds.
    public var p99ObjectiveMillis: Double
    /// The points measured so far.
    public var points: [SweepCurvePoint]
    /// Where the sweep is; nil before the first point.
    public var progress: SweepProgress?
    /// The current point's run as the run dashboard models it; nil before its first snapshot.
    public var live: DashboardModel?
    /// The current point's p99 (ms) and throughput over the live window, drawn on the curve
    /// as the point that is growing; nil when not measured yet.
    public var liveP99Millis: Double?
    public var liveThroughput: Double?
    /// What the curve's x axis shows.
    public var axis: SweepCurveAxis = .requests
    /// Whether the current run is the point's measurement (not its warm-up).
    public var measuring = false
    /// Whether `n` was pressed during the current point.
    public var skipping = false
    /// Whether `q` was pressed.
    public var stopping = false
    /// Whether the key help overlay is shown.
    public var showHelp = false
    /// The time the progress is read at.
    public var now: ContinuousClock.Instant?
    /// A transient status line.
    public var message: String?
    /// Draw with UTF-8 glyphs rather than ASCII.
    public var unicode: Bool
    /// Draw with colours.
    public var color: Bool

    /// A model; the live figures and flags have quiet defaults.
    public init(scenarioName: String, targetDescription: String, configurations: [String], p99ObjectiveMillis: Double,
                points: [SweepCurvePoint], progress: SweepProgress?, live: DashboardModel?, unicode: Bool = true, color: Bool = true) {
        self.scenarioName = scenarioName; self.targetDescription = targetDescription; self.configurations = configurations
        self.p99ObjectiveMillis = p99ObjectiveMillis; self.points = points; self.progress = progress; self.live = live
        self.unicode = unicode; self.color = color
    }
}
