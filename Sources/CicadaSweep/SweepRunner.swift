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

    public init(scenario: Scenario, spec: SweepSpec, workers: Int) {
        self.scenario = scenario; self.spec = spec; self.workers = workers
    }

    /// Runs the grid; `engineConfig` turns a batching configuration into the engine to start.
    /// Throws only for a configuration error (engine or plan).
    public func run(engineConfig: (BatcherConfig) -> EngineConfig) throws -> [SweepPoint] {
        var points: [SweepPoint] = []
        configLoop: for configuration in spec.configurations {
            var failuresInARow = 0
            for level in spec.levels {
                if shouldStop() { break configLoop }
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
                    _ = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(5)))
                        .run(shouldStop: shouldStop)
                }
                let oomBefore = server?.stats.outOfMemory ?? 0
                let memoryBefore = server?.stats.memoryPeakBytes ?? 0
                scenario.load = try Self.load(self.scenario.load, axis: spec.axis, level: level, duration: spec.measure)
                let (stats, seconds, stable) = try measure(scenario)
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
                points.append(point)
                onPoint?(point)
                let v = point.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
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
    /// the whole measurement's, drain included). Returns the stats, the seconds they cover, and
    /// whether the windows agreed (nil without a stability rule).
    func measure(_ scenario: Scenario) throws -> (RequestStats, Double, Bool?) {
        guard let rule = spec.stability else {
            let r = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(5)))
                .run(shouldStop: shouldStop)
            return (r.snapshot.total, r.snapshot.measuredSeconds, nil)
        }
        let windowSeconds = max(1, Int(rule.window.seconds.rounded()))
        // The figures of a stable point cover its agreeing windows: a sliding window of that many
        // whole seconds (plus the partial one the check fires in).
        let span = rule.windows * windowSeconds + 1
        let run = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]),
                              options: RunOptions(workers: workers, windowSeconds: span, progressInterval: .seconds(windowSeconds), stopTimeout: .seconds(5)))
        let state = Locked<(check: StabilityCheck, stable: WindowStats?)>((StabilityCheck(windows: rule.windows, tolerance: rule.tolerance), nil))
        run.onProgress = { snap in
            state.update { s in
                guard s.stable == nil else { return }
                if s.check.add(snap.total, atSeconds: snap.measuredSeconds) { s.stable = snap.window }
            }
        }
        let stop = shouldStop
        let r = try run.run(shouldStop: { stop() || state.read { $0.stable != nil } })
        if let w = state.read({ $0.stable }) { return (w.total, w.span.seconds, true) }
        return (r.snapshot.total, r.snapshot.measuredSeconds, false)
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
