import Foundation
import CicadaCore
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
    /// Serve the live figures (Prometheus text at `/metrics`, JSON at `/status`) on this port
    /// (`--status-port`; 0 picks a free one); nil: no status server.
    public var statusPort: Int?
    /// The address the status server binds (`--status-host`).
    public var statusHost: String = "127.0.0.1"
    /// How long the status server keeps serving the final figures after the run
    /// (`--status-linger`), so a scraper gets them.
    public var statusLinger: Duration = .zero
    /// The bearer token the status server's `POST /control` asks for (`--status-token-env`);
    /// nil: loopback clients only.
    public var statusToken: String?
    /// `--warmup` / `--cooldown`: replace the scenario's `warmup:` / `cooldown:`.
    public var warmup: MeasurementWindow.Span?
    public var cooldown: Duration?
    /// `--telemetry URL` (repeatable): Prometheus endpoints polled besides the scenario's.
    public var telemetryURLs: [String] = []
    /// `--requests-out FILE.jsonl`: one line per request; `--requests-sample`: the fraction kept.
    public var requestsOut: String?
    public var requestsSample: Double = 1
    /// The shard of the run this process generates (`--shard I/N`, or the cluster's
    /// environment: ``ShardResolver``); `.single` for the whole run.
    public var shard: ShardSpec = .single
    /// The folder the shard artifact is written to (`--out DIR`: `DIR/shard-I-of-N.json`); nil: none.
    public var shardOut: String?
    /// The wall-clock moment (Unix seconds) the load starts at (`--start-at`); nil: at once.
    public var startAtUnix: Double?
    /// How many times the scenario runs back to back (`--repeat K`, K >= 1), each a full
    /// measured run with the same seed; the report pools them and gives confidence intervals.
    public var repeatCount: Int = 1

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
    /// A self-contained HTML report (single runs).
    public var html: String?

    public init(json: String? = nil, csvPrefix: String? = nil, csvFullHistory: Bool = false, junit: String? = nil, markdown: String? = nil, html: String? = nil) {
        self.json = json; self.csvPrefix = csvPrefix; self.csvFullHistory = csvFullHistory; self.junit = junit; self.markdown = markdown
        self.html = html
    }

    /// Refuses, before any load, a report whose folder is missing or not writable, or whose
    /// path is a folder or a file that cannot be written, or whose disk is already full: found
    /// at the end, the run's results would be lost for that report. (A disk that fills during
    /// the run is still found only at the end; then the summary prints and the failure names
    /// the file.)
    public func checkPaths() throws(SessionError) {
        var paths: [(flag: String, path: String)] = []
        if let json { paths.append(("--json", json)) }
        if let csvPrefix { paths.append(("--csv", csvPrefix + "_stats.csv")) }
        if let junit { paths.append(("--junit", junit)) }
        if let markdown { paths.append(("--summary-md", markdown)) }
        if let html { paths.append(("--html", html)) }
        for (flag, path) in paths {
            if let why = Self.problem(writing: path) { throw .usage("error: \(flag): cannot write \(path): \(why)") }
        }
    }

    /// Why `path` cannot be written, or nil when it can.
    static func problem(writing path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return "it is a folder" }
            if access(path, W_OK) != 0 { return "the file is not writable" }
        }
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) else { return "the folder \(folder) does not exist" }
        guard isDir.boolValue else { return "\(folder) is not a folder" }
        // Reports are written to a temporary file in the folder and renamed.
        if access(folder, W_OK | X_OK) != 0 { return "the folder \(folder) is not writable" }
        if let free = freeBytes(folder), free < minimumFreeBytes {
            return "the disk holding \(folder) is full (\(free / 1024) KiB free)"
        }
        return nil
    }

    /// Below this much free space a report folder counts as full: even a short run's JSON
    /// report is tens of KiB. (Not a promise that a long run's reports fit.)
    static let minimumFreeBytes: UInt64 = 64 << 10

    /// Bytes an unprivileged writer may still use on the file system holding `folder`.
    static func freeBytes(_ folder: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(folder, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    /// One sink per requested report, in the order they are written.
    public func sinks() -> [any ReportSink] {
        var sinks: [any ReportSink] = []
        if let json { sinks.append(JSONReportSink(path: json)) }
        if let csvPrefix { sinks.append(CSVReportSink(prefix: csvPrefix, fullHistory: csvFullHistory)) }
        if let junit { sinks.append(JUnitReportSink(path: junit)) }
        if let markdown { sinks.append(MarkdownReportSink(path: markdown)) }
        if let html { sinks.append(HTMLReportSink(path: html)) }
        return sinks
    }
}
