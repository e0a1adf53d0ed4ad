import CicadaCore
import CicadaEngineServer
import CicadaReport
import CicadaRunner
import CicadaScenario
import CicadaTelemetry
import CicadaTestTarget
import CicadaTransport
import Foundation

/// One `cicada run`, from a scenario document to reports and an exit status: a single run, or a
/// comparison (a `compare:` block: one lane per variant, all at once with the same load).
///
/// Building a session validates everything and starts what the run needs (the embedded engine,
/// one per engine variant, or the local test target) before any load; ``run(view:output:stopSignal:)``
/// then polls telemetry, runs under a live view or progress lines, prints the summary, writes
/// every report through its ``ReportSink`` and chooses the exit status. Everything it started is
/// stopped when the run returns (or by ``close()`` when it never runs). The executable keeps only
/// flag parsing, the terminal, signals and `exit`.
public final class RunSession: @unchecked Sendable {
    /// What was asked.
    public let request: SessionRequest
    /// The scenario after the overrides (its target is the started server's, if any).
    public let scenario: Scenario
    /// One lane for a run, one per variant for a comparison.
    public let lanes: [SessionLane]
    /// The comparison's variants; nil for a single run.
    public let compare: CompareSpec?
    /// What the load goes to, for a live view's header.
    public let title: String
    /// Starts an embedded engine for a live view's `e` key; nil when the load already goes to the
    /// engine, or in a comparison (each variant keeps its own target).
    public let makeEngine: (() throws -> EngineServer)?
    /// Whether the scenario uses the open (arrival-rate) model.
    public var isOpenModel: Bool { if case .open = scenario.load { return true } else { return false } }
    /// The lines said before the load starts when no live view runs.
    let startLines: [String]
    let servers: Servers

    /// Validates `document` with `request`'s overrides and starts the servers the run needs.
    ///
    /// - Parameters:
    ///   - environment: where the plan finds its bearer token.
    ///   - cores: the default number of load-generating threads.
    /// - Throws: ``SessionError``: `.usage` for the scenario or flags, `.tool` when a server will
    ///   not start; anything already started is stopped first.
    public init(document: ScenarioDocument, request: SessionRequest, environment: [String: String] = ProcessInfo.processInfo.environment,
                cores: Int = ProcessInfo.processInfo.activeProcessorCount) throws(SessionError) {
        let servers = Servers()
        let prepared: Prepared
        do {
            let scenario = try Self.validate(document, request)
            try request.reports.checkPaths()
            if let compare = document.compare {
                prepared = try Self.prepareComparison(compare, scenario: scenario, request: request, environment: environment, cores: cores, servers: servers)
            } else {
                prepared = try Self.prepareRun(document, scenario: scenario, request: request, environment: environment, cores: cores, servers: servers)
            }
        } catch {
            servers.stop()
            throw error
        }
        self.request = request
        self.scenario = prepared.scenario
        self.lanes = prepared.lanes
        self.compare = document.compare
        self.title = prepared.title
        self.makeEngine = prepared.makeEngine
        self.startLines = prepared.startLines
        self.servers = servers
    }

    /// Reads and validates a scenario file; every problem is a usage error.
    public static func document(at path: String) throws(SessionError) -> ScenarioDocument {
        do { return try ScenarioReader().readDocument(path: path) } catch { throw .usage(error.description) }
    }

    /// Stops every server and poller the session started. Idempotent.
    public func close() { servers.stop() }

    /// What the preparation of a run or a comparison settles.
    struct Prepared {
        var scenario: Scenario
        var lanes: [SessionLane]
        var title: String
        var makeEngine: (() throws -> EngineServer)?
        var startLines: [String]
    }

    /// The scenario with the overrides applied; the extra thresholds and the window checked.
    static func validate(_ document: ScenarioDocument, _ request: SessionRequest) throws(SessionError) -> Scenario {
        var scenario: Scenario
        do { scenario = try request.overrides.apply(to: document.scenario) } catch { throw .usage("error: \(error.description)") }
        try applyMeasurementFlags(request, to: &scenario)
        for t in request.extraThresholds {
            do { _ = try Threshold(ThresholdSpec(t)) } catch { throw .usage("error: --threshold: \(error.message)") }
        }
        guard (1...3600).contains(request.windowSeconds) else { throw .usage("error: --window must be 1..3600 seconds") }
        try checkRepeat(request, comparing: document.compare != nil)
        return scenario
    }

    static func options(_ request: SessionRequest, workers: Int) -> RunOptions {
        var o = RunOptions(workers: workers, windowSeconds: request.windowSeconds, stopTimeout: request.stopTimeout,
                           extraThresholds: request.extraThresholds.map { ThresholdSpec($0) })
        o.shard = request.shard
        return o
    }

    /// Refuses a run whose connections would not fit under the open-file limit (exit 2), before
    /// any load: past it the client's own EMFILE would read as the server refusing connections.
    /// Refuses, before any load, a baseline that cannot be read or is not a run's JSON report.
    static func checkBaseline(_ b: BaselineSpec) throws(SessionError) {
        guard let data = FileManager.default.contents(atPath: b.file) else {
            throw .usage("error: baseline.file: cannot read \(b.file)")
        }
        // The report's own scenario name does not matter here: a diff against itself checks the shape.
        let text = String(decoding: data, as: UTF8.self)
        do { _ = try RunDiff(base: text, new: text, bounds: []) } catch { throw .usage("error: baseline.file \(b.file): \(error.description)") }
    }

    /// A comparison's lanes run at once, so their needs add up.
    static func checkOpenFiles(_ lanes: [(concurrency: Int, http2: Bool, serverInProcess: Bool)]) throws(SessionError) {
        let needed = lanes.reduce(0) { $0 + FileLimit.needed(concurrency: $1.concurrency, http2: $1.http2, serverInProcess: $1.serverInProcess) - FileLimit.headroom }
            + FileLimit.headroom
        var (soft, hard) = FileLimit.current()
        if let s = soft, needed > s {
            FileLimit.raiseToHard()   // the executable did at start; a library user may not have
            (soft, hard) = FileLimit.current()
        }
        if let why = FileLimit.problem(needed: needed, concurrency: lanes.reduce(0) { $0 + $1.concurrency },
                                       serverInProcess: lanes.contains { $0.serverInProcess }, soft: soft, hard: hard) {
            throw .usage(why)
        }
    }

    /// A single run: the engine or the local test target when asked for, one plan, one lane.
    static func prepareRun(_ document: ScenarioDocument, scenario input: Scenario, request: SessionRequest, environment: [String: String],
                           cores: Int, servers: Servers) throws(SessionError) -> Prepared {
        var scenario = input
        try Self.prepareSplit(document, scenario: &scenario, request: request, servers: servers)
        let useEngine = request.startEngine || (document.targetsEngine && request.overrides.target == nil)
        if useEngine && request.localTargetServiceTime != nil { throw .usage("error: --engine and --local-target each start a server; choose one") }
        let engineConfig = document.engine ?? EngineConfig()
        var embedded: EngineServer?
        if useEngine {
            let server = try servers.startEngine(configProblem: "error: engine: ", startProblem: "cannot start the embedded engine: ") { engineConfig }
            scenario.target = server.baseURL
            embedded = server
        }
        if let serviceTime = request.localTargetServiceTime {
            scenario.target = try servers.startTestTarget(serviceTime: serviceTime).baseURL
        }
        var plan: RunPlan
        do { plan = try RunPlan(scenario: scenario, environment: environment) } catch { throw .usage("error: \(error.description)") }
        if request.requestsOut != nil { plan.requestSampling = RequestSampling(fraction: request.requestsSample, seed: scenario.seed) }
        if scenario.http2, let why = Curl.http2Problem(baseURL: plan.baseURL) { throw .usage("error: --http2: \(why)") }
        if let b = scenario.baseline { try Self.checkBaseline(b) }
        try Self.checkOpenFiles([(FileLimit.concurrency(of: scenario.load), scenario.http2,
                                  embedded != nil || request.localTargetServiceTime != nil)])
        let options = options(request, workers: request.workers ?? cores)
        let run: LoadRun
        do { run = try LoadRun(plan: plan, options: options) } catch { throw .usage("error: \(error.message)") }
        let telemetry = TelemetryChoice.endpoints(scenario.telemetry, baseURL: plan.baseURL, engine: embedded != nil,
                                                  localTarget: request.localTargetServiceTime != nil)
        let title = scenario.split.map(Self.splitTitle) ?? embedded.map { "embedded engine: \($0.stats.deviceLabel.replacingOccurrences(of: "modelled: ", with: "")) (modelled)" } ?? plan.baseURL
        let against = embedded.map { "embedded engine (\($0.stats.deviceLabel)) at " } ?? (request.localTargetServiceTime != nil ? "local test target " : "")
        let makeEngine: (() throws -> EngineServer)? = embedded != nil ? nil : {
            let server = try EngineServer(config: engineConfig)
            try server.start()
            return server
        }
        return Prepared(scenario: scenario, lanes: [SessionLane(name: scenario.name, config: title, isBaseline: true, run: run, engine: embedded, telemetry: telemetry)],
                        title: title, makeEngine: makeEngine,
                        startLines: ["cicada: running \(scenario.name) against \(against)\(plan.baseURL) (\(LoadRun.describe(scenario.load)), \(options.workers) workers)"])
    }

    /// A comparison: one engine per engine variant (its own modelled GPU), one plan and lane per variant.
    static func prepareComparison(_ spec: CompareSpec, scenario: Scenario, request: SessionRequest, environment: [String: String],
                                  cores: Int, servers: Servers) throws(SessionError) -> Prepared {
        if request.startEngine || request.localTargetServiceTime != nil {
            throw .usage("error: --engine and --local-target do not apply to a comparison: each variant in \(request.file)'s compare: block names its own engine preset or target")
        }
        if scenario.baseline != nil {
            throw .usage("error: baseline: gates a single run; \(request.file) has a compare: block (its variants are compared with each other)")
        }
        if request.statusPort != nil {
            throw .usage("error: --status-port serves one run's figures; it does not apply to a comparison (\(request.file) has a compare: block)")
        }
        if request.requestsOut != nil {
            throw .usage("error: --requests-out records one run's requests; it does not apply to a comparison (\(request.file) has a compare: block)")
        }
        if request.overrides.target != nil {
            throw .usage("error: --target does not apply to a comparison: each variant in \(request.file)'s compare: block names its own target")
        }
        var engines: [EngineServer?] = []
        var plans: [RunPlan] = []
        for v in spec.variants {
            var sc = scenario
            switch v.kind {
            case .engine(let es):
                let server = try servers.startEngine(configProblem: "error: compare variant '\(v.name)': engine: ",
                                                     startProblem: "cannot start the embedded engine for variant '\(v.name)': ") { es }
                sc.target = server.baseURL
                engines.append(server)
            case .target(let url):
                sc.target = url
                engines.append(nil)
            }
            let plan: RunPlan
            do { plan = try RunPlan(scenario: sc, environment: environment) } catch { throw .usage("error: compare variant '\(v.name)': \(error.description)") }
            if sc.http2, let why = Curl.http2Problem(baseURL: plan.baseURL) { throw .usage("error: compare variant '\(v.name)': http2: \(why)") }
            plans.append(plan)
        }
        try Self.checkOpenFiles(plans.indices.map { (FileLimit.concurrency(of: plans[$0].scenario.load), plans[$0].scenario.http2, engines[$0] != nil) })
        // The same worker count for every variant (the closed model deals users by worker).
        let perVariant = request.workers ?? max(1, cores / spec.variants.count)
        let options = options(request, workers: perVariant)
        var lanes: [SessionLane] = []
        for (i, (v, plan)) in zip(spec.variants, plans).enumerated() {
            let run: LoadRun
            do { run = try LoadRun(plan: plan, options: options) } catch { throw .usage("error: \(error.message)") }
            let telemetry = TelemetryChoice.endpoints(scenario.telemetry, baseURL: engines[i]?.baseURL ?? plan.baseURL,
                                                      engine: engines[i] != nil, engineVariant: engines[i] != nil)
            lanes.append(SessionLane(name: v.name, config: v.summary, isBaseline: i == spec.baselineIndex, run: run, engine: engines[i], telemetry: telemetry))
        }
        let names = spec.variants.map(\.name).joined(separator: " vs ")
        let lines = ["cicada: comparing \(names) on \(scenario.name) (\(LoadRun.describe(scenario.load)), \(perVariant) workers each, same seed \(scenario.seed))"]
            + spec.variants.map { "  \($0.name): \($0.summary)" }
        return Prepared(scenario: scenario, lanes: lanes, title: "compare \(names)", makeEngine: nil, startLines: lines)
    }
}
