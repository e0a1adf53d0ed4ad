import ArgumentParser
import CicadaCore
import CicadaScenario
import CicadaSession
import CicadaTerminal
@preconcurrency import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `cicada run FILE`: runs a scenario, prints the summary, writes reports, exits with a verdict.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario against its target.",
        discussion: """
        Exit codes: 0 all thresholds passed, 99 a threshold failed, 2 scenario or usage error,
        1 tool error, 105 stopped by SIGINT/SIGTERM/SIGHUP (results measured so far are still written).
        """)

    @Argument(help: "Scenario file (YAML).") var file: String

    @Flag(help: "No interactive display (the default when stdout is not a terminal or CI is set).") var headless = false
    @Option(name: [.customShort("u"), .customLong("users")], help: "Override the number of users (closed model).") var users: Int?
    @Option(name: [.customShort("r"), .customLong("spawn-rate")], help: "Override users started per second.") var spawnRate: Double?
    @Option(name: [.customShort("t"), .customLong("run-time")], help: "Override the run time, e.g. 90s, 1h30m.") var runTime: String?
    @Option(help: "Override the arrival rate per second (open model).") var rate: Double?
    @Option(help: "Override the target base URL.") var target: String?
    @Option(help: "Override the random seed.") var seed: UInt64?
    @Option(name: .customLong("threshold"), help: "An extra threshold, e.g. 'p(99)<100ms' (repeatable).") var thresholds: [String] = []
    @Option(help: "Load-generating threads (default: the number of cores).") var workers: Int?
    @Option(help: "Sliding window for live figures, in seconds.") var window = 10
    @Option(help: "How long in-flight requests may finish after the load ends.") var stopTimeout = "10s"
    @Flag(help: "Use HTTP/2.") var http2 = false
    @Flag(help: "Skip TLS certificate verification.") var insecure = false
    @Option(help: "Which client sends requests: curl (libcurl: TLS, HTTP/2), fast (Cicada's HTTP/1.1 client, http:// only) or auto (fast where it applies).") var transport: String?
    @Flag(help: "Start the embedded inference engine (modelled GPU) on 127.0.0.1 and aim the scenario at it.") var engine = false
    @Flag(help: "Start Cicada's local test target on 127.0.0.1 and aim the scenario at it.") var localTarget = false
    @Option(help: "Service time of the local test target.") var localLatency = "2ms"

    @Option(help: "Write the JSON report here.") var json: String?
    @Option(help: "Write Locust-compatible CSV files with this prefix.") var csv: String?
    @Flag(help: "Also write per-name rows in the CSV history.") var csvFullHistory = false
    @Option(help: "Write a JUnit XML file (one test case per threshold).") var junit: String?
    @Option(help: "Write a Markdown summary (for a CI job summary).") var summaryMd: String?
    @Option(help: "Write a self-contained HTML report (charts, no network).") var html: String?
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "Plain ASCII marks in the summary.") var plain = false
    @Option(help: "Serve live figures on this port: Prometheus text at /metrics, JSON at /status (0 picks a free port).") var statusPort: Int?
    @Option(help: "Address the status server binds.") var statusHost = "127.0.0.1"
    @Option(help: "Keep serving the final figures this long after the run, for a last scrape.") var statusLinger = "0s"
    @Option(help: "Environment variable holding a bearer token for the status server's POST /control (default: loopback clients only).") var statusTokenEnv: String?
    @Option(help: "Leave the run's start out of every figure: a duration (30s) or a request count (500r).") var warmup: String?
    @Option(help: "Leave the run's last part out of every figure: a duration, e.g. 30s.") var cooldown: String?
    @Option(name: .customLong("telemetry"), help: "Also poll this Prometheus /metrics URL (repeatable).") var telemetryURLs: [String] = []
    @Option(help: "Write one JSON line per request to this file (.jsonl).") var requestsOut: String?
    @Option(help: "With --requests-out, write only this seeded fraction of the requests, e.g. 0.1.") var requestsSample: Double?
    @Option(help: "Run shard I of N of the load (e.g. 0/4); default: from JOB_COMPLETION_INDEX+CICADA_SHARDS, SLURM_PROCID/SLURM_NTASKS or OMPI_COMM_WORLD_RANK/SIZE.") var shard: String?
    @Option(help: "Start the load at this wall-clock time (RFC 3339, e.g. 2026-12-06T04:00:00Z).") var startAt: String?
    @Option(help: "Write the shard artifact (lossless histograms, for cicada merge) to DIR/shard-I-of-N.json.") var out: String?
    @Option(name: .customLong("repeat"), help: "Run the scenario K times back to back (same seed) and report the pooled figures with 95% confidence intervals; runs headless.") var repeatCount = 1

    func run() throws {
        // 1. Read and validate everything, and start what the run needs, before any load.
        let document = try RunSession.document(at: file)
        let session = try RunSession(document: document, request: try request())
        // 2. The dashboard in a terminal, else progress lines; then the run, the summary, the reports.
        setvbuf(stdout, nil, _IOLBF, 0)
        installStopSignalHandlers()
        let interactive = !headless && Self.isInteractiveTerminal(ProcessInfo.processInfo.environment)
        if interactive, repeatCount > 1 { printError("cicada: --repeat \(repeatCount) runs headless (no dashboard)") }
        let view = !interactive || repeatCount > 1 ? nil : LiveDashboard.make(for: session)
        let result = try session.run(view: view, output: .standard, stopSignal: stopSignalReceived)
        if result.exitStatus != ExitStatus.ok { throw ExitCode(result.exitStatus) }
    }

    /// The session's request from the flags; a duration that does not parse is a usage error.
    func request() throws(SessionError) -> SessionRequest {
        var overrides = ScenarioOverrides(users: users, spawnRate: spawnRate, rate: rate, target: target, seed: seed,
                                          http2: http2 ? true : nil, insecure: insecure ? true : nil)
        if let transport {
            guard let t = TransportChoice(rawValue: transport) else { throw .usage("--transport '\(transport)' is not one of curl, fast, auto") }
            overrides.transport = t
        }
        if let runTime {
            guard let d = DurationText.parse(runTime) else { throw .usage("--run-time '\(runTime)' is not a duration (e.g. 90s, 5m, 1h30m)") }
            overrides.runTime = d
        }
        guard let stopAfter = DurationText.parse(stopTimeout) else { throw .usage("--stop-timeout '\(stopTimeout)' is not a duration") }
        guard let serviceTime = DurationText.parse(localLatency, defaultUnit: .milliseconds) else { throw .usage("--local-latency '\(localLatency)' is not a duration") }
        var r = SessionRequest(file: file, overrides: overrides, extraThresholds: thresholds, workers: workers, windowSeconds: window,
                               stopTimeout: stopAfter, startEngine: engine, localTargetServiceTime: localTarget ? serviceTime : nil,
                               reports: ReportRequest(json: json, csvPrefix: csv, csvFullHistory: csvFullHistory, junit: junit, markdown: summaryMd, html: html),
                               plain: plain, progress: !quiet)
        if let statusPort {
            guard (0...65535).contains(statusPort) else { throw .usage("--status-port \(statusPort) is not a port (0...65535)") }
            r.statusPort = statusPort
        }
        r.statusHost = statusHost
        guard let linger = DurationText.parse(statusLinger) else { throw .usage("--status-linger '\(statusLinger)' is not a duration") }
        r.statusLinger = linger
        if let env = statusTokenEnv {
            guard let t = ProcessInfo.processInfo.environment[env], !t.isEmpty else { throw .usage("--status-token-env: \(env) is not set") }
            r.statusToken = t
        }
        try measurementFlags(into: &r)
        do { r.shard = try ShardResolver.resolve(flag: shard, environment: ProcessInfo.processInfo.environment) } catch {
            throw .usage(error.message)
        }
        if let startAt {
            guard let at = RunSession.parseStartAt(startAt) else {
                throw .usage("error: --start-at '\(startAt)' is not an RFC 3339 time with a zone (e.g. 2026-12-06T04:00:00Z)")
            }
            r.startAtUnix = at
        }
        r.shardOut = out
        r.repeatCount = repeatCount
        return r
    }

    /// Whether the dashboard can run: stdin and stdout are a terminal, not CI, a usable `TERM`.
    static func isInteractiveTerminal(_ env: [String: String]) -> Bool {
        let term = env["TERM"] ?? ""
        return isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1 && env["CI"] == nil && !term.isEmpty && term != "dumb"
    }
}

extension SessionOutput {
    /// The summary to stdout, notices and progress lines to stderr.
    static let standard = SessionOutput(summary: { print($0, terminator: "") }, log: { printError($0) })
}

extension Run {
    /// `--warmup`, `--cooldown`, `--telemetry`, `--requests-out`, `--requests-sample`.
    func measurementFlags(into r: inout SessionRequest) throws(SessionError) {
        if let warmup {
            guard let w = MeasurementWindow.span(parsing: warmup) else {
                throw .usage("--warmup '\(warmup)' is neither a duration (30s) nor a request count (500r)")
            }
            r.warmup = w
        }
        if let cooldown {
            guard let d = DurationText.parse(cooldown), d > .zero else { throw .usage("--cooldown '\(cooldown)' is not a duration (e.g. 30s)") }
            r.cooldown = d
        }
        r.telemetryURLs = telemetryURLs
        r.requestsOut = requestsOut
        if let requestsSample { r.requestsSample = requestsSample }
    }
}
