import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaTransport
import Synchronization

/// Walks a sweep grid: every configuration at every load level. An engine configuration gets a
/// fresh engine per point (no queue, cache or memory peak carries over); a target is used as
/// it is. Each point is a warm-up, then a measurement that stops once its windows agree
/// (``StabilityCheck``) or at the time limit. A configuration's scan stops after two failing
/// points in a row, or at once when batches run out of modelled memory.
public struct SweepRunner {
    /// The scenario whose requests and load model each point runs (its target is replaced).
    public let scenario: Scenario
    public let spec: SweepSpec
    public let workers: Int
    /// Called after each point (progress).
    public var onPoint: ((SweepPoint) -> Void)?
    /// Checked between points and during them; true stops the sweep (results so far are kept).
    public var shouldStop: @Sendable () -> Bool = { false }
    /// The live dashboard's skip and stop requests; nil for a headless sweep.
    public var control: SweepControl?
    /// Called just before each load run of a point starts (its warm-up, then its measurement),
    /// with the run and the point's engine, so a live view can follow the run's snapshots.
    public var onStage: ((Stage, LoadRun, EngineServer?) -> Void)?
    /// How the consistency probe (`consistency:`) sends at each point's measurement; nil: a
    /// blocking POST to the point's target (tests inject answers).
    public var probeSender: ConsistencyProber.Sender?

    /// Where the sweep is: which point of how many, and which part of it.
    public struct Stage: Sendable, Equatable {
        /// What a point's load run is for.
        public enum Phase: String, Sendable, Equatable {
            /// The unmeasured warm-up before the measurement.
            case warmup
            /// The measurement.
            case measure
        }
        /// The point's number, from 1.
        public var index: Int
        /// Points in the grid (configurations x levels): an upper bound, since a configuration's
        /// scan stops after two failing points in a row or out of memory.
        public var total: Int
        /// The configuration's name.
        public var configuration: String
        /// The load level: an arrival rate, or users for a concurrency sweep.
        public var level: Double
        /// What the level is.
        public var axis: SweepSpec.Axis
        public var phase: Phase
        /// How long this phase runs at most (a stability rule may end a measurement sooner).
        public var duration: Duration
        /// The longest a whole point takes (warm-up and measurement).
        public var pointDuration: Duration
    }

    public init(scenario: Scenario, spec: SweepSpec, workers: Int) {
        self.scenario = scenario; self.spec = spec; self.workers = workers
    }

    /// Runs the grid; `engineConfig` turns a batching configuration into the engine to start.
    /// Throws only for a configuration error (engine or plan).
    public func run(engineConfig: (BatcherConfig) -> EngineConfig) throws -> [SweepPoint] {
        var points: [SweepPoint] = []
        let control = self.control
        // The load of a point ends on a stop signal, on `q` and on `n` (skip).
        let outerStop = self.shouldStop
        let shouldStop: @Sendable () -> Bool = { outerStop() || control?.stopRequested == true || control?.skipRequested == true }
        let total = spec.configurations.count * spec.levels.count
        var index = 0
        configLoop: for (configIndex, configuration) in spec.configurations.enumerated() {
            var failuresInARow = 0
            for (levelIndex, level) in spec.levels.enumerated() {
                index = configIndex * spec.levels.count + levelIndex + 1
                if outerStop() || control?.stopRequested == true { break configLoop }
                control?.clearSkip()
                func stage(_ phase: Stage.Phase) -> Stage {
                    Stage(index: index, total: total, configuration: configuration.name, level: level, axis: spec.axis, phase: phase,
                          duration: phase == .warmup ? spec.warmup : spec.measure, pointDuration: spec.warmup + spec.measure)
                }
                var server: EngineServer?
                defer { server?.stop() }
                var scenario = self.scenario
                if let config = Self.engineConfig(for: configuration, engineConfig: engineConfig) {
                    let s = try EngineServer(config: config)
                    try s.start()
                    server = s
                    scenario.target = s.baseURL
                } else if case .target(let url) = configuration.kind {
                    scenario.target = url
                }
                scenario.thresholds = []
                scenario.telemetry.scrapeTarget = false
                // before_each_point hooks (e.g. a prefix-cache reset), before the warm-up.
                if !scenario.beforeEachPoint.isEmpty {
                    let plan = try RunPlan(scenario: scenario, environment: [:])
                    for hook in scenario.beforeEachPoint {
                        do { try HTTPHook.send(hook, base: plan.baseURL, headers: plan.headers, insecure: scenario.insecure) } catch {
                            throw HTTPHook.Failure(description: "before_each_point failed at \(configuration.name), level \(Format.number(level, digits: 1)): \(error.description)")
                        }
                    }
                }
                if spec.warmup > .zero {
                    scenario.load = try Self.load(self.scenario.load, axis: spec.axis, level: level, duration: spec.warmup)
                    let warmup = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(5)))
                    onStage?(stage(.warmup), warmup, server)
                    _ = try warmup.run(shouldStop: shouldStop)
                }
                // Skipped or stopped during its warm-up: nothing of the point was measured, so
                // there is no point to keep.
                if control?.skipRequested == true || control?.stopRequested == true { continue }
                // A stop signal in the warm-up: nothing of this point was measured either.
                if outerStop() { break configLoop }
                let oomBefore = server?.stats.outOfMemory ?? 0
                let memoryBefore = server?.stats.memoryPeakBytes ?? 0
                scenario.load = try Self.load(self.scenario.load, axis: spec.axis, level: level, duration: spec.measure)
                let (stats, seconds, stable, consistency) = try measure(scenario, stage: stage(.measure), server: server, shouldStop: shouldStop)
                let h = stats.corrected
                var point = SweepPoint(
                    preset: configuration.name, rate: level, achievedQPS: seconds > 0 ? Double(stats.requests) / seconds : 0,
                    p50Millis: h.percentile(50).map { Double($0) / 1000 }, p99Millis: h.percentile(99).map { Double($0) / 1000 },
                    errorRate: stats.errorRate, outOfMemory: (server?.stats.outOfMemory ?? 0) - oomBefore,
                    averageBatchSize: server?.stats.averageBatchSize,
                    memoryFraction: server.flatMap { s in
                        let st = s.stats
                        return st.memoryTotalBytes > 0 ? Double(max(st.memoryPeakBytes, memoryBefore)) / Double(st.memoryTotalBytes) : nil
                    })
                point.axis = spec.axis
                point.stable = stable
                point.measuredSeconds = seconds
                point.consistency = consistency
                point.outputTokensPerSecond = stats.llm.flatMap { l in seconds > 0 && l.outputTokens > 0 ? Double(l.outputTokens) / seconds : nil }
                // Cut short from the dashboard: kept, labelled, never counted as holding.
                point.skipped = control?.skipRequested == true || control?.stopRequested == true
                points.append(point)
                onPoint?(point)
                let v = point.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
                if v == .skipped { continue }
                failuresInARow = v == .holds ? 0 : failuresInARow + 1
                if failuresInARow >= 2 || v == .outOfMemory { continue configLoop }
            }
        }
        return points
    }

    /// The engine a configuration starts (nil for a target): a dynamic-batcher configuration's
    /// batching through `engineConfig`; a continuous one's the same engine block (its batching
    /// unused) on the continuous scheduler with the point's settings.
    public static func engineConfig(for configuration: SweepSpec.Configuration, engineConfig: (BatcherConfig) -> EngineConfig) -> EngineConfig? {
        switch configuration.kind {
        case .engine(let batching):
            return engineConfig(batching)
        case .continuous(let settings):
            var config = engineConfig(BatcherConfig.seed)
            config.scheduler = .continuous
            config.continuous = settings
            return config
        case .target:
            return nil
        }
    }

    /// One measurement: until stable (then the stable windows' figures) or the time limit (then
    /// the whole measurement's, drain included). Returns the stats, the seconds they cover,
    /// whether the windows agreed (nil without a stability rule), and the consistency probe's
    /// findings over the whole measurement (nil without `consistency:`).
    func measure(_ scenario: Scenario, stage: Stage, server: EngineServer?, shouldStop: @escaping @Sendable () -> Bool) throws -> (RequestStats, Double, Bool?, ConsistencySummary?) {
        // The probe runs through the measurement only (not the warm-up), against a fresh
        // reference: each point answers for its own configuration and load.
        var prober: ConsistencyProber?
        defer { _ = prober?.stop() }
        func probe(_ run: LoadRun) {
            guard let spec = scenario.consistency else { return }
            let p = ConsistencyProber(spec: spec, plan: run.plan, control: run.control, send: probeSender)
            p.attach(to: run)
            p.start()
            prober = p
        }
        guard let rule = spec.stability else {
            let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(5)))
            probe(run)
            onStage?(stage, run, server)
            let r = try run.run(shouldStop: shouldStop)
            return (r.snapshot.total, r.snapshot.measuredSeconds, nil, prober?.stop())
        }
        let windowSeconds = max(1, Int(rule.window.seconds.rounded()))
        // The figures of a stable point cover its agreeing windows: a sliding window of that many
        // whole seconds (plus the partial one the check fires in).
        let span = rule.windows * windowSeconds + 1
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]),
                              options: RunOptions(workers: workers, windowSeconds: span, progressInterval: .seconds(windowSeconds), stopTimeout: .seconds(5)))
        let state = Locked<(check: StabilityCheck, stable: WindowStats?)>((StabilityCheck(windows: rule.windows, tolerance: rule.tolerance), nil))
        probe(run)
        onStage?(stage, run, server)
        run.onProgress = { snap in
            state.update { s in
                guard s.stable == nil else { return }
                if s.check.add(snap.total, atSeconds: snap.measuredSeconds) { s.stable = snap.window }
            }
        }
        let stop = shouldStop
        let r = try run.run(shouldStop: { stop() || state.read { $0.stable != nil } })
        let consistency = prober?.stop()
        if let w = state.read({ $0.stable }) { return (w.total, w.span.seconds, true, consistency) }
        return (r.snapshot.total, r.snapshot.measuredSeconds, false, consistency)
    }

    /// The scenario's load reshaped to one level for `duration`: a constant arrival rate (with
    /// the scenario's arrival process and caps), or that many users started at once (with the
    /// scenario's wait time).
    static func load(_ base: LoadProfile, axis: SweepSpec.Axis, level: Double, duration: Duration) throws -> LoadProfile {
        switch (axis, base) {
        case (.rate, .open(var o)):
            o.startRate = level
            o.stages = [RateStage(duration: duration, rate: level)]
            return .open(o)
        case (.concurrency, .closed(var c)):
            let users = max(1, Int(level.rounded()))
            c.stages = [UserStage(duration: duration, users: users, spawnRate: Double(users) * 1000)]
            return .closed(c)
        case (.rate, .closed):
            throw SweepError(description: "a sweep over arrival rates needs an open-model (arrival:) scenario")
        case (.concurrency, .open):
            throw SweepError(description: "a sweep over concurrency needs a closed-model (users:) scenario")
        }
    }
}

/// A value shared between the runner thread and a callback, behind a lock.
final class Locked<T: Sendable>: Sendable {
    private let value: Mutex<T>
    init(_ v: T) { value = Mutex(v) }
    func update(_ f: (inout T) -> Void) { value.withLock { f(&$0) } }
    func read<R>(_ f: (T) -> R) -> R { value.withLock { f($0) } }
}

/// A sweep that cannot run as configured.
public struct SweepError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
