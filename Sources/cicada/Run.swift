import ArgumentParser
import CicadaCore
import CicadaReport
import CicadaRunner
import CicadaEngineServer
import CicadaScenario
import CicadaTelemetry
import CicadaTerminal
import CicadaTestTarget
import CicadaTransport
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
        1 tool error, 105 stopped by SIGINT/SIGTERM (results measured so far are still written).
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
    @Flag(help: "Start the embedded inference engine (modelled GPU) on 127.0.0.1 and aim the scenario at it.") var engine = false
    @Flag(help: "Start Cicada's local test target on 127.0.0.1 and aim the scenario at it.") var localTarget = false
    @Option(help: "Service time of the local test target.") var localLatency = "2ms"

    @Option(help: "Write the JSON report here.") var json: String?
    @Option(help: "Write Locust-compatible CSV files with this prefix.") var csv: String?
    @Flag(help: "Also write per-name rows in the CSV history.") var csvFullHistory = false
    @Option(help: "Write a JUnit XML file (one test case per threshold).") var junit: String?
    @Option(help: "Write a Markdown summary (for a CI job summary).") var summaryMd: String?
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Flag(help: "Plain ASCII marks in the summary.") var plain = false

    func run() throws {
        // 1. Read and validate everything before any load starts.
        let document: ScenarioDocument
        do { document = try ScenarioReader().readDocument(path: file) } catch { throw ScenarioProblem(description: error.description) }
        var scenario = document.scenario
        var overrides = ScenarioOverrides(users: users, spawnRate: spawnRate, rate: rate, target: target, seed: seed,
                                          http2: http2 ? true : nil, insecure: insecure ? true : nil)
        if let runTime {
            guard let d = DurationText.parse(runTime) else { throw ScenarioProblem(description: "--run-time '\(runTime)' is not a duration (e.g. 90s, 5m, 1h30m)") }
            overrides.runTime = d
        }
        guard let stopAfter = DurationText.parse(stopTimeout) else { throw ScenarioProblem(description: "--stop-timeout '\(stopTimeout)' is not a duration") }
        guard let serviceTime = DurationText.parse(localLatency, defaultUnit: .milliseconds) else { throw ScenarioProblem(description: "--local-latency '\(localLatency)' is not a duration") }
        do { scenario = try overrides.apply(to: scenario) } catch { throw ScenarioProblem(description: "error: \(error.description)") }
        for t in thresholds {
            do { _ = try Threshold(ThresholdSpec(t)) } catch { throw ScenarioProblem(description: "error: --threshold: \(error.message)") }
        }
        guard (1...3600).contains(window) else { throw ScenarioProblem(description: "error: --window must be 1..3600 seconds") }
        if let compare = document.compare {
            try runCompare(compare, document: document, scenario: scenario, stopAfter: stopAfter)
            return
        }

        // 2. The embedded engine or the local test target, when asked for.
        let useEngine = engine || (document.targetsEngine && target == nil)
        if useEngine && localTarget { throw ScenarioProblem(description: "error: --engine and --local-target each start a server; choose one") }
        if document.targetsEngine && !useEngine && target == nil {
            throw ScenarioProblem(description: "error: \(file) targets the embedded engine; run with --engine or give --target")
        }
        var embedded: EngineServer?
        if useEngine {
            let config = try (document.engine ?? EngineSpec()).engineConfig()
            let server: EngineServer
            do { server = try EngineServer(config: config) } catch { throw ScenarioProblem(description: "error: engine: \(error.description)") }
            do { try server.start() } catch { throw ToolFailure(description: "cannot start the embedded engine: \(error)") }
            scenario.target = server.baseURL
            embedded = server
        }
        defer { embedded?.stop() }
        var local: TestTarget?
        if localTarget {
            let t = TestTarget(config: .init(serviceTime: serviceTime), threads: 1)
            do { try t.start() } catch { throw ToolFailure(description: "cannot start the local test target: \(error)") }
            scenario.target = t.baseURL
            local = t
        }
        defer { local?.stop() }

        let plan: RunPlan
        do { plan = try RunPlan(scenario: scenario, environment: ProcessInfo.processInfo.environment) } catch { throw ScenarioProblem(description: "error: \(error.description)") }
        if scenario.http2, let why = Curl.http2Problem(baseURL: plan.baseURL) { throw ScenarioProblem(description: "error: --http2: \(why)") }
        let options = RunOptions(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount, windowSeconds: window,
                                 stopTimeout: stopAfter, extraThresholds: thresholds.map { ThresholdSpec($0) })
        let run: LoadRun
        do { run = try LoadRun(plan: plan, options: options) } catch { throw ScenarioProblem(description: "error: \(error.message)") }

        // 3. Outputs that stream during the run: the dashboard in a terminal, else progress lines.
        setvbuf(stdout, nil, _IOLBF, 0)
        let duration = scenario.load.duration
        let env = ProcessInfo.processInfo.environment
        let interactive = !headless && Self.isInteractiveTerminal(env)
        installStopSignalHandlers()
        var dashboard: LiveDashboard?
        if interactive {
            do {
                let screen = try TerminalScreen(color: env["NO_COLOR"] == nil)
                let description = embedded.map { "embedded engine: \($0.stats.deviceLabel.replacingOccurrences(of: "modelled: ", with: "")) (modelled)" } ?? plan.baseURL
                var isOpen = false
                if case .open = scenario.load { isOpen = true }
                let spec = document.engine ?? EngineSpec()
                let makeEngine: (() throws -> EngineServer)? = embedded != nil ? nil : {
                    let server = try EngineServer(config: try spec.engineConfig())
                    try server.start()
                    return server
                }
                dashboard = LiveDashboard(screen: screen, run: run, engine: embedded, makeEngine: makeEngine, scenarioName: scenario.name,
                                          targetDescription: description, runTime: duration, isOpenModel: isOpen, color: env["NO_COLOR"] == nil)
            } catch {
                printError("cicada: no dashboard (\(error)); running headless")
            }
        }
        if !quiet && dashboard == nil {
            run.onProgress = { snap in printError(ProgressLine.format(snap, duration: duration)) }
        }
        var history: StreamingFile?
        if let csv {
            do { history = try StreamingFile(path: csv + "_stats_history.csv") } catch { throw ToolFailure(description: "cannot write \(csv)_stats_history.csv: \(error)") }
            history?.write(CSVReport.historyHeader + "\n")
            let full = csvFullHistory
            run.onSecond = { [history] snap in
                history?.write(CSVReport.historyRows(snap, timestampUnix: Int(Date().timeIntervalSince1970), fullHistory: full))
            }
        }

        // Telemetry, polled on its own thread: local GPUs, named Prometheus endpoints, or the
        // target's own /metrics (the engine's modelled device memory when the engine is on).
        let spec = scenario.telemetry
        var endpoints: [TelemetryEndpoint] = []
        if spec.gpu != "none", embedded == nil { endpoints.append(.localGPUs) }
        endpoints += spec.prometheus.map { .prometheus(url: $0) }
        if spec.prometheus.isEmpty, spec.scrapeTarget, local == nil { endpoints.append(.prometheus(url: plan.baseURL + "/metrics")) }
        var poller: TelemetryPoller?
        if !endpoints.isEmpty {
            let reader = spec.gpu == "none" ? nil : LocalGPUReader()
            let p = TelemetryPoller(endpoints: endpoints, interval: spec.interval, staleAfter: spec.staleAfter,
                                    startNanos: MonotonicTimeSource().nowNanos(),
                                    fetch: { url, timeout in try HTTPGet.fetch(url, timeout: timeout) }, localReader: reader)
            p.start()
            run.telemetry = p
            poller = p
        }
        defer { poller?.stop() }

        // 4. Run. SIGINT/SIGTERM (or q) stop the load; everything measured is still reported.
        let against = embedded.map { "embedded engine (\($0.stats.deviceLabel)) at " } ?? (localTarget ? "local test target " : "")
        if dashboard == nil {
            printError("cicada: running \(scenario.name) against \(against)\(plan.baseURL) (\(LoadRun.describe(scenario.load)), \(options.workers) workers)")
        }
        let result = try Self.run(under: dashboard) { stop in try run.run(shouldStop: stop) }
        if embedded == nil, let started = dashboard?.engine {
            embedded = started
        }

        // 5. Summary and reports.
        print(SummaryPrinter(plain: plain).render(result), terminator: "")
        if let llm = LLMReport.text(result, goodputConfigured: result.goodputConfigured) { print("\n" + llm, terminator: "") }
        if let embedded { print("\n" + embedded.stats.summaryLines().joined(separator: "\n")) }
        if let t = TelemetryReport.lines(result.snapshot.telemetry) { print("\n" + t.joined(separator: "\n")) }
        var writeFailures: [String] = []
        func write(_ text: String, _ path: String) {
            do { try AtomicFile.write(text, to: path) } catch { writeFailures.append("\(path): \(error)") }
        }
        if let json { write(JSONReport(startNanos: result.startNanos).render(result), json) }
        if let csv {
            write(CSVReport.stats(result), csv + "_stats.csv")
            write(CSVReport.failures(result, startNanos: result.startNanos, startUnix: result.startedAtUnix), csv + "_failures.csv")
            if let t = CSVReport.telemetryHistory(result.snapshot.telemetry) { write(t, csv + "_telemetry_history.csv") }
            do { try history?.finish() } catch { writeFailures.append("\(csv)_stats_history.csv: \(error)") }
        }
        if let junit { write(JUnitReport.render(result), junit) }
        if let summaryMd { write(MarkdownSummary.render(result), summaryMd) }
        for f in writeFailures { printError("error: cannot write report \(f)") }

        if result.stopReason == .interrupted, receivedSignal.load(ordering: .relaxed) != 0 { throw ExitCode(Cicada.Exit.signal) }
        if !writeFailures.isEmpty { throw ExitCode(Cicada.Exit.toolError) }
        if !result.passed { throw ExitCode(Cicada.Exit.thresholdsFailed) }
    }
}

extension Run {
    /// Whether the dashboard can run: stdin and stdout are a terminal, not CI, a usable `TERM`.
    static func isInteractiveTerminal(_ env: [String: String]) -> Bool {
        let term = env["TERM"] ?? ""
        return isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1 && env["CI"] == nil && !term.isEmpty && term != "dumb"
    }

    /// Runs `body` with the dashboard (if any) drawing, stopping on a signal or the dashboard's
    /// `q`; the terminal is restored before this returns or throws, so anything printed after
    /// lands on a normal screen.
    static func run<T>(under dashboard: LiveDashboard?, _ body: (_ shouldStop: @escaping @Sendable () -> Bool) throws -> T) throws -> T {
        dashboard?.start()
        let ui = dashboard
        defer { ui?.stop() }
        do {
            return try body { receivedSignal.load(ordering: .relaxed) != 0 || (ui?.quit.load(ordering: .relaxed) ?? false) }
        } catch {
            throw ToolFailure(description: "\(error)")
        }
    }
}

/// A file written line by line during a run, made visible under its name only when finished
/// (written to a temporary name, then renamed), so readers never see half a file.
final class StreamingFile: @unchecked Sendable {
    let path: String
    let tmp: String
    let handle: FileHandle

    init(path: String) throws {
        self.path = path
        self.tmp = path + ".partial"
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw ToolFailure(description: "cannot create \(tmp)")
        }
        guard let h = FileHandle(forWritingAtPath: tmp) else { throw ToolFailure(description: "cannot open \(tmp)") }
        handle = h
    }

    func write(_ s: String) { handle.write(Data(s.utf8)) }

    func finish() throws {
        try handle.close()
        guard rename(tmp, path) == 0 else { throw ToolFailure(description: "rename to \(path) failed: errno \(errno)") }
    }
}
