/// Why a run ended.
public enum StopReason: Sendable, Equatable {
    /// The scenario's run time passed.
    case completed
    /// SIGINT/SIGTERM/SIGHUP or the user quit.
    case interrupted
    /// An `abort_on_fail` threshold failed.
    case thresholdAbort(String)
}

/// Everything a run measured, for the summary and the report writers.
public struct RunResult: Sendable {
    public var scenarioName: String
    public var target: String
    public var snapshot: Snapshot
    public var thresholds: [ThresholdResult]
    public var stopReason: StopReason
    public var timeline: Timeline
    public var events: [RunEvent]
    /// Wall-clock start (seconds since 1970).
    public var startedAtUnix: Double
    /// CPU seconds the whole process used (generator cost), and the workers count.
    public var cpuSeconds: Double
    public var workers: Int
    public var modelDescription: String
    /// The test start on the run's monotonic clock (ns), to turn ``ErrorStat`` times into
    /// offsets from the start.
    public var startNanos: UInt64
    /// Whether the scenario set goodput SLOs (so goodput is reported, or absent).
    public var goodputConfigured: Bool = false
    /// What the figures mean (``DiagnosisRules``), worst first; set by the session once the
    /// run is over, empty for a healthy run.
    public var diagnoses: [Diagnosis] = []
    /// The consistency probe's findings (`consistency:`), set by the session; nil when the
    /// scenario has no probe. Probes are not in ``snapshot``.
    public var consistency: ConsistencySummary?
    /// What `--requests-out` wrote, set by the session; nil when it was not asked for.
    public var requestLog: RequestLogSummary?
    /// Which transport sent the requests (`curl`, `fast`); nil when not known.
    public var transport: String?
    /// A `split:` run's per-member figures and canary verdict, set by the session; nil for none.
    public var split: SplitResult?
    /// The measured requests by second of the run (set by the runner), for confidence intervals.
    public var secondWindows: SecondWindows?
    /// Confidence intervals on the whole run's figures (``WindowBootstrap``); nil when not computed.
    public var intervals: FigureIntervals?
    /// The measured requests of each task (stat index) by second of the run (set by the runner;
    /// empty when not kept), for the tasks' confidence intervals.
    public var taskSecondWindows: [SecondWindows] = []
    /// Confidence intervals on each task's figures, by stat index (``computeIntervals(repetitions:seed:resamples:)``);
    /// empty when not computed, nil for a task with no measured window.
    public var taskIntervals: [FigureIntervals?] = []
    /// With `--repeat K` (K >= 2): each repetition's own figures; this result is then the pool.
    public var repetitions: [RepetitionFigures] = []

    public init(scenarioName: String, target: String, snapshot: Snapshot, thresholds: [ThresholdResult], stopReason: StopReason,
                timeline: Timeline, events: [RunEvent], startedAtUnix: Double, cpuSeconds: Double, workers: Int, modelDescription: String, startNanos: UInt64 = 0) {
        self.scenarioName = scenarioName; self.target = target; self.snapshot = snapshot; self.thresholds = thresholds
        self.stopReason = stopReason; self.timeline = timeline; self.events = events; self.startedAtUnix = startedAtUnix
        self.cpuSeconds = cpuSeconds; self.workers = workers; self.modelDescription = modelDescription
        self.startNanos = startNanos
    }

    /// Whether every threshold passed (and a split's canary verdict, when there is one).
    public var passed: Bool { thresholds.allSatisfy(\.passed) && (split?.passed ?? true) }
}


/// What the per-request export (`--requests-out`) wrote: the summary says it, and says how many
/// lines were lost when the writer could not keep up.
public struct RequestLogSummary: Sendable, Equatable {
    public var path: String
    /// Lines written.
    public var written: UInt64
    /// Records dropped because a queue was full (the workers' interval cap or the writer's
    /// queue): requests that happened but have no line.
    public var dropped: UInt64
    /// The sampled fraction (1 = every request).
    public var fraction: Double
    /// Why writing stopped early (a disk error), if it did.
    public var error: String?
    public init(path: String, written: UInt64, dropped: UInt64, fraction: Double, error: String? = nil) {
        self.path = path; self.written = written; self.dropped = dropped; self.fraction = fraction; self.error = error
    }
}
