import CicadaScenario

/// What the user asked of one `cicada run`, with every flag already parsed: the overrides, how to
/// run, which local server to start and which reports to write.
///
/// The executable builds it from the command line; tests build it directly.
public struct SessionRequest: Sendable {
    /// The scenario file's name, as messages quote it.
    public var file: String
    /// `-u -r -t --rate --target --seed --http2 --insecure`.
    public var overrides: ScenarioOverrides
    /// Extra thresholds (`--threshold`), as written.
    public var extraThresholds: [String]
    /// Load-generating threads; nil: the number of cores (shared among a comparison's variants).
    public var workers: Int?
    /// Sliding window for live figures, 1...3600 seconds.
    public var windowSeconds: Int
    /// How long in-flight requests may finish after the load ends.
    public var stopTimeout: Duration
    /// Start the embedded engine and aim the scenario at it (`--engine`).
    public var startEngine: Bool
    /// Start the local test target with this service time and aim the scenario at it (`--local-target`).
    public var localTargetServiceTime: Duration?
    /// The reports to write.
    public var reports: ReportRequest
    /// Plain ASCII marks in the summary.
    public var plain: Bool
    /// Progress lines while no live view runs.
    public var progress: Bool

    public init(file: String, overrides: ScenarioOverrides = ScenarioOverrides(), extraThresholds: [String] = [], workers: Int? = nil,
                windowSeconds: Int = 10, stopTimeout: Duration = .seconds(10), startEngine: Bool = false,
                localTargetServiceTime: Duration? = nil, reports: ReportRequest = ReportRequest(), plain: Bool = false, progress: Bool = true) {
        self.file = file; self.overrides = overrides; self.extraThresholds = extraThresholds; self.workers = workers
        self.windowSeconds = windowSeconds; self.stopTimeout = stopTimeout; self.startEngine = startEngine
        self.localTargetServiceTime = localTargetServiceTime; self.reports = reports; self.plain = plain; self.progress = progress
    }
}

/// The report files asked for; each set path becomes one ``ReportSink``.
public struct ReportRequest: Sendable, Equatable {
    /// The JSON report (`cicada.report/v1`, or `cicada.compare/v1` for a comparison).
    public var json: String?
    /// The prefix of the Locust-compatible CSV files.
    public var csvPrefix: String?
    /// Per-name rows in the CSV history too.
    public var csvFullHistory: Bool
    /// JUnit XML, one test case per threshold.
    public var junit: String?
    /// A Markdown summary for a CI job page.
    public var markdown: String?

    public init(json: String? = nil, csvPrefix: String? = nil, csvFullHistory: Bool = false, junit: String? = nil, markdown: String? = nil) {
        self.json = json; self.csvPrefix = csvPrefix; self.csvFullHistory = csvFullHistory; self.junit = junit; self.markdown = markdown
    }

    /// One sink per requested report, in the order they are written.
    public func sinks() -> [any ReportSink] {
        var sinks: [any ReportSink] = []
        if let json { sinks.append(JSONReportSink(path: json)) }
        if let csvPrefix { sinks.append(CSVReportSink(prefix: csvPrefix, fullHistory: csvFullHistory)) }
        if let junit { sinks.append(JUnitReportSink(path: junit)) }
        if let markdown { sinks.append(MarkdownReportSink(path: markdown)) }
        return sinks
    }
}
