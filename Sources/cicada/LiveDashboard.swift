#if canImport(Glibc)
import Glibc
#endif
import CicadaCore
import CicadaDashboard
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaSession
import CicadaTerminal
import Foundation
import Synchronization

/// The interactive run: a thin driver around the pure ``DashboardController``. On its own thread
/// it reads keys from the terminal, feeds the controller the runs' snapshots (with their
/// threshold verdicts), per-second points and engine readings, carries out the controller's
/// actions on the runs' ``RunControl``s and the engines, and draws at most 10 frames a second.
/// The measurement never waits for it (a slow terminal drops frames, never samples).
///
/// In a comparison there is one lane per variant: load actions act on every lane so the
/// variants keep the same load; batching actions act on the focused lane's engine only.
final class LiveDashboard: @unchecked Sendable {
    /// One run the dashboard follows: a single run, or one variant of a comparison.
    final class Lane: @unchecked Sendable {
        /// The lane as the controller starts with it.
        let setup: DashboardLane
        let run: LoadRun
        /// The engine this lane drives, if any (started by the scenario, or by the `e` key).
        var engine: EngineServer?
        /// What the runner's thread handed over since the UI thread last looked.
        let inbox = Mutex<(snapshot: Snapshot?, points: [TimelinePoint])>((nil, []))

        init(name: String, config: String, isBaseline: Bool, run: LoadRun, engine: EngineServer?) {
            let p99 = run.thresholds.first { $0.metric == .latency && $0.aggregate == .percentile(99) && $0.task == nil }?.bound
            let preset = engine.map { e in e.config.presets.firstIndex { $0.config == e.stats.batching } ?? 0 } ?? 0
            setup = DashboardLane(name: name, config: config, isBaseline: isBaseline, p99ThresholdMillis: p99, presetIndex: preset)
            self.run = run; self.engine = engine
            run.onTick = { [weak self] snap in self?.inbox.withLock { $0.snapshot = snap } }
            run.onPoint = { [weak self] p in
                self?.inbox.withLock { box in
                    box.points.append(p)
                    if box.points.count > DashboardLane.historyLimit { box.points.removeFirst(box.points.count - DashboardLane.historyLimit) }
                }
            }
        }
    }

    let screen: TerminalScreen
    let lanes: [Lane]
    /// The engine of a single run (started by the scenario or by the `e` key).
    var engine: EngineServer? { lanes[0].engine }
    /// Starts an engine for the `e` key; nil when the scenario's own target is the engine.
    let makeEngine: (() throws -> EngineServer)?
    let quit = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Touched only on the UI thread.
    private var driver: DashboardDriver

    /// A dashboard for several lanes (a comparison) or one.
    init(screen: TerminalScreen, lanes: [Lane], makeEngine: (() throws -> EngineServer)?, scenarioName: String,
         targetDescription: String, runTime: Duration?, isOpenModel: Bool, color: Bool, diagnosisLimits: DiagnosisLimits = DiagnosisLimits()) {
        self.screen = screen; self.lanes = lanes; self.makeEngine = lanes.count > 1 ? nil : makeEngine
        var configuration = DashboardController.Configuration(
            scenarioName: scenarioName, targetDescription: targetDescription, runTime: runTime, isOpenModel: isOpenModel,
            canSwitchEngine: lanes.count == 1 && makeEngine != nil, startsOnEngine: lanes.count == 1 && lanes[0].engine != nil,
            unicode: screen.unicode, color: color)
        configuration.diagnosisLimits = diagnosisLimits
        if lanes.count == 1, let split = lanes[0].run.plan.scenario.split {
            configuration.split = split
            configuration.canSwitchEngine = false   // a split's targets are its own
        }
        driver = DashboardDriver(screen: screen, controller: DashboardController(configuration: configuration, lanes: lanes.map(\.setup)))
    }

    /// Starts the UI thread. It ends on the `q` key, on a stop signal, or when the terminal goes
    /// away without a SIGHUP reaching us (the kernel sends it only to the terminal's session
    /// leader and foreground group: a dashboard started with `setsid`, or in a group the shell
    /// did not make the foreground one, gets none; it saw end-of-file on every read and spun a
    /// core until the run's end). That stops the run as SIGHUP does, so it never runs on unseen.
    /// Where SIGHUP is ignored (`nohup`, `trap '' HUP`) the run goes on to its end, undrawn.
    func start() {
        TerminalLoop.startThread(name: "cicada-dashboard", isGone: { [self] in screen.isGone }, shouldQuit: { [self] in quit.load(ordering: .acquiring) },
                                 finished: finished) { [self] in driver.turn(host: self) }
    }

    /// Stops the UI thread and restores the terminal (``TerminalLoop/restore(_:)``).
    func stop() {
        quit.store(true, ordering: .releasing)
        _ = finished.wait(timeout: .now() + 2)
        TerminalLoop.restore(screen)
    }

    /// The figures of `e` the dashboard shows, as plain values.
    static func reading(_ e: EngineServer) -> EngineReading {
        let s = e.stats
        let lookups = s.cacheHits + s.cacheMisses
        let line = EngineLine(
            presetName: s.presetName ?? "custom", maxBatchSize: s.batching.maxBatchSize,
            preferredBatchSizes: s.batching.effectivePreferredBatchSizes, maxQueueDelayMicros: s.batching.maxQueueDelayMicros,
            queueSize: s.queueSize, averageBatchSize: s.averageBatchSize, batchSizes: s.batchSizes,
            cacheHitRate: lookups == 0 ? nil : Double(s.cacheHits) / Double(lookups), label: s.deviceLabel)
        var reading = EngineReading(line: line, memoryFraction: s.memoryTotalBytes > 0 ? Double(s.memoryUsedBytes) / Double(s.memoryTotalBytes) : nil,
                                    presetNames: e.config.presets.map(\.name), baseURL: e.baseURL)
        if let l2 = s.l2, l2.hits + l2.misses > 0 { reading.line.l2HitRate = Double(l2.hits) / Double(l2.hits + l2.misses) }
        if let c = s.continuous {
            // A continuous engine: no batching presets to cycle; its limits and KV cache instead.
            reading.line.presetName = "continuous"
            reading.line.maxBatchSize = c.settings.maxNumSeqs
            reading.line.preferredBatchSizes = []
            reading.line.maxQueueDelayMicros = 0
            reading.line.maxNumSeqs = c.settings.maxNumSeqs
            reading.line.maxNumBatchedTokens = c.settings.maxNumBatchedTokens
            reading.line.kvCacheUsage = c.kvCacheUsage
            if c.settings.prefixCaching { reading.line.prefixHitRate = c.prefixHitRate }
            reading.presetNames = []
        }
        return reading
    }
}

extension LiveDashboard: DashboardHost {
    /// Hands the controller what the runners posted (threshold verdicts judged here, on the UI
    /// thread) and each engine's figures now.
    func refresh(_ controller: inout DashboardController) {
        for (i, lane) in lanes.enumerated() {
            let (snapshot, points) = lane.inbox.withLock { box in
                defer { box = (nil, []) }
                return box
            }
            for p in points { controller.append(p, lane: i) }
            if let s = snapshot { controller.update(snapshot: s, thresholds: lane.run.thresholds.map { $0.evaluate(s) }, lane: i) }
            controller.update(engine: lane.engine.map(Self.reading), lane: i)
        }
    }

    func perform(_ action: DashboardAction) -> DashboardActionResult {
        let controls = lanes.map(\.run.control)
        switch action {
        case .quit: quit.store(true, ordering: .releasing)
        case .redraw: break
        case .pause(let paused): controls.forEach { $0.paused = paused }
        case .addUsers(let n): controls.forEach { $0.userOffset += n }
        case .setRateScale(let scale): controls.forEach { $0.rateScale = scale }
        case .scaleRate(let factor): for c in controls { _ = try? ShardControlCommand.scaleRate(factor).apply(to: c, isOpenModel: true) }
        case .reset: controls.forEach { $0.resetRequested = true }
        case .applyBatchPreset(let lane, let index):
            if let e = lanes[lane].engine, e.config.scheduler == .dynamic { try? e.reconfigure(e.config.presets[index].config) }
        case .scaleQueueDelay(let lane, let factor):
            if let e = lanes[lane].engine, e.config.scheduler == .dynamic { try? e.reconfigure(e.stats.batching.withQueueDelay(scaledBy: factor)) }
        case .setMaxBatchSize(let lane, let size):
            if let e = lanes[lane].engine {
                if let c = e.stats.continuous {
                    // max_num_batched_tokens may not fall below max_num_seqs: raised with it when needed.
                    try? e.reconfigureContinuous(maxNumSeqs: size, maxNumBatchedTokens: max(c.settings.maxNumBatchedTokens, size))
                } else {
                    try? e.reconfigure(e.stats.batching.withMaxBatchSize(size))
                }
            }
        case .setMaxNumBatchedTokens(let lane, let tokens):
            if let e = lanes[lane].engine, let c = e.stats.continuous {
                try? e.reconfigureContinuous(maxNumSeqs: c.settings.maxNumSeqs, maxNumBatchedTokens: max(tokens, c.settings.maxNumSeqs))
            }
        case .switchToEngine:
            let lane = lanes[0]
            if lane.engine == nil {
                guard let make = makeEngine else { return .failed("no engine to start") }
                do { lane.engine = try make() } catch { return .failed("\(error)") }
            }
            guard let e = lane.engine else { return .failed("no engine to start") }
            lane.run.control.retarget(e.baseURL)
            return .switchedToEngine(deviceLabel: e.stats.deviceLabel)
        case .switchToTarget: lanes[0].run.control.retarget(nil)
        case .setSplitWeights(let weights):
            let run = lanes[0].run
            run.control.setSplitWeights(weights)
            let names = run.plan.scenario.split?.members.map(\.name) ?? []
            run.note(kind: "split", detail: "weights " + zip(names, weights).map { "\($0)=\($1)" }.joined(separator: " "))
        case .note(let detail, let lane):
            for l in lane.map({ [lanes[$0]] }) ?? lanes { l.run.note(kind: "key", detail: detail) }
        }
        return .done
    }
}

extension LiveDashboard: LiveView {
    var quitRequested: Bool { quit.load(ordering: .relaxed) }

    /// A dashboard following `session`'s lanes, or nil (said on stderr) when the terminal cannot
    /// take one.
    static func make(for session: RunSession) -> LiveDashboard? {
        let color = ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        do {
            let screen = try TerminalScreen(color: color)
            let lanes = session.lanes.map { Lane(name: $0.name, config: $0.config, isBaseline: $0.isBaseline, run: $0.run, engine: $0.engine) }
            return LiveDashboard(screen: screen, lanes: lanes, makeEngine: session.makeEngine, scenarioName: session.scenario.name,
                                 targetDescription: session.title, runTime: session.scenario.load.duration, isOpenModel: session.isOpenModel, color: color,
                                 diagnosisLimits: session.scenario.diagnosisLimits)
        } catch {
            printError("cicada: no dashboard (\(error)); running headless")
            return nil
        }
    }
}
