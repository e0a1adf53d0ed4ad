import CicadaCore
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaScenario

/// Walks a sweep grid against the embedded engine: for each batching preset a fresh engine
/// (so no queue or cache carries over), and for each rate a warm-up then a measured run of the
/// scenario's open-model load. A preset's scan stops after two consecutive points fail.
public struct SweepRunner {
    public let document: ScenarioDocument
    public let spec: SweepSpec
    public let workers: Int
    /// Called after each point (progress).
    public var onPoint: ((SweepPoint) -> Void)?
    /// Checked between points; true stops the sweep (results so far are kept).
    public var shouldStop: () -> Bool = { false }

    public init(document: ScenarioDocument, spec: SweepSpec, workers: Int) {
        self.document = document; self.spec = spec; self.workers = workers
    }

    /// Runs the grid; throws only for a configuration error (engine or plan).
    public func run(engineConfig: (BatcherConfig) -> EngineConfig) throws -> [SweepPoint] {
        let engineSpec = document.engine ?? EngineSpec()
        var points: [SweepPoint] = []
        presetLoop: for name in spec.presets {
            guard let preset = engineSpec.presets.first(where: { $0.name == name }) else { continue }
            var failuresInARow = 0
            for rate in spec.rates {
                if shouldStop() { break presetLoop }
                let server = try EngineServer(config: engineConfig(preset.config))
                try server.start()
                defer { server.stop() }
                var scenario = document.scenario
                scenario.target = server.baseURL
                scenario.thresholds = []
                scenario.telemetry.scrapeTarget = false
                guard case .open(var load) = scenario.load else { throw SweepError(description: "a sweep needs an open-model (arrival) scenario") }
                if spec.warmup > .zero {
                    load.startRate = rate; load.stages = [RateStage(duration: spec.warmup, rate: rate)]
                    scenario.load = .open(load)
                    _ = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(5))).run(shouldStop: shouldStop)
                }
                let oomBefore = server.stats.outOfMemory
                let memoryBefore = server.stats.memoryPeakBytes
                load.startRate = rate; load.stages = [RateStage(duration: spec.measure, rate: rate)]
                scenario.load = .open(load)
                let r = try LoadRun(plan: RunPlan(scenario: scenario, environment: [:]), options: RunOptions(workers: workers, stopTimeout: .seconds(5))).run(shouldStop: shouldStop)
                let s = server.stats
                let h = r.snapshot.total.corrected
                let point = SweepPoint(
                    preset: name, rate: rate, achievedQPS: r.snapshot.qps ?? 0,
                    p50Millis: h.percentile(50).map { Double($0) / 1000 }, p99Millis: h.percentile(99).map { Double($0) / 1000 },
                    errorRate: r.snapshot.total.errorRate, outOfMemory: s.outOfMemory - oomBefore,
                    averageBatchSize: s.averageBatchSize,
                    memoryFraction: s.memoryTotalBytes > 0 ? Double(max(s.memoryPeakBytes, memoryBefore)) / Double(s.memoryTotalBytes) : nil)
                points.append(point)
                onPoint?(point)
                let v = point.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate)
                failuresInARow = v == .holds ? 0 : failuresInARow + 1
                if failuresInARow >= 2 || v == .outOfMemory { continue presetLoop }
            }
        }
        return points
    }
}

/// A sweep that cannot run as configured.
public struct SweepError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
