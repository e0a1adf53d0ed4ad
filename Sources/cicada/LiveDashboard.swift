import CicadaCore
import CicadaDashboard
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaSession
import CicadaTerminal
import Foundation
import Synchronization

/// The interactive run: draws the dashboard at most 10 times a second from the latest snapshot
/// and turns keys into changes of the load and the engine's batching. Runs on its own thread;
/// the measurement never waits for it (a slow terminal drops frames, never samples).
///
/// In a comparison there is one lane per variant: load keys (space, w/s, +/-, r) act on every
/// lane so the variants keep the same load; batching keys act on the focused lane's engine
/// only; tab moves the focus.
final class LiveDashboard: @unchecked Sendable {
    /// One run the dashboard follows: a single run, or one variant of a comparison.
    final class Lane: @unchecked Sendable {
        let name: String
        let config: String
        let isBaseline: Bool
        let run: LoadRun
        /// The engine this lane drives, if any (started by the scenario, or by the `e` key).
        var engine: EngineServer?
        var presetIndex = 0
        let latest = Mutex<Snapshot?>(nil)
        let history = Mutex<[TimelinePoint]>([])

        init(name: String, config: String, isBaseline: Bool, run: LoadRun, engine: EngineServer?) {
            self.name = name; self.config = config; self.isBaseline = isBaseline; self.run = run; self.engine = engine
            if let e = engine { presetIndex = e.config.presets.firstIndex { $0.config == e.stats.batching } ?? 0 }
            run.onTick = { [weak self] snap in self?.latest.withLock { $0 = snap } }
            run.onPoint = { [weak self] p in
                self?.history.withLock { h in
                    h.append(p)
                    if h.count > 600 { h.removeFirst(h.count - 600) }
                }
            }
        }
    }

    let screen: TerminalScreen
    let lanes: [Lane]
    private var focus = 0
    private var comparing: Bool { lanes.count > 1 }
    private var focused: Lane { lanes[focus] }
    /// The engine of a single run (started by the scenario or by the `e` key).
    var engine: EngineServer? { lanes[0].engine }
    /// Starts an engine for the `e` key; nil when the scenario's own target is the engine.
    let makeEngine: (() throws -> EngineServer)?
    /// Whether the load goes to the engine now.
    private var onEngine: Bool
    let scenarioName: String
    let targetDescription: String
    let runTime: Duration?
    let isOpenModel: Bool
    let color: Bool
    let quit = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var windowChoices = [10, 60, 300]
    private var windowIndex = 0
    private var showHelp = false
    private var message: String?
    private var messageUntil = Date.distantPast
    /// Changes made from the keyboard, marked on the charts (and noted in the runs' events).
    private var marks: [RunEvent] = []

    /// A dashboard for several lanes (a comparison) or one.
    init(screen: TerminalScreen, lanes: [Lane], makeEngine: (() throws -> EngineServer)?, scenarioName: String,
         targetDescription: String, runTime: Duration?, isOpenModel: Bool, color: Bool) {
        self.screen = screen; self.lanes = lanes; self.makeEngine = lanes.count > 1 ? nil : makeEngine
        self.onEngine = lanes.count == 1 && lanes[0].engine != nil
        self.scenarioName = scenarioName
        self.targetDescription = targetDescription; self.runTime = runTime; self.isOpenModel = isOpenModel; self.color = color
    }

    /// Starts the UI thread.
    func start() {
        let t = Thread { [self] in
            loop()
            finished.signal()
        }
        t.name = "cicada-dashboard"
        t.start()
    }

    /// Stops the UI thread and restores the terminal.
    func stop() {
        quit.store(true, ordering: .releasing)
        _ = finished.wait(timeout: .now() + 2)
        screen.restore()
    }

    private func loop() {
        var lastDraw = Date.distantPast
        while !quit.load(ordering: .acquiring) && receivedSignal.load(ordering: .relaxed) == 0 {
            if let key = screen.readKey() { handle(key) }
            if Date().timeIntervalSince(lastDraw) >= 0.1 {
                lastDraw = Date()
                draw()
            }
        }
    }

    /// Shows `text`, notes it in the events of `lanes` (all of them by default) and marks it on
    /// the charts.
    private func say(_ text: String, mark: Bool = true, only lane: Lane? = nil) {
        message = text
        messageUntil = Date().addingTimeInterval(3)
        for l in lane.map({ [$0] }) ?? lanes { l.run.note(kind: "key", detail: text) }
        if mark, let t = focused.latest.withLock({ $0?.elapsed.seconds }) {
            marks.append(RunEvent(t: t, kind: String(text.prefix(1)), detail: text))
            if marks.count > 200 { marks.removeFirst(marks.count - 200) }
        }
    }

    private func handle(_ key: Int32) {
        if key == TerminalScreen.resizeKey { screen.invalidate(); return }
        guard let scalar = Unicode.Scalar(UInt32(max(0, key))) else { return }
        let controls = lanes.map(\.run.control)
        let control = controls[0]
        // In a comparison, batching changes name the variant they apply to.
        let who = comparing ? "\(focused.name): " : ""
        switch Character(scalar) {
        case "q": quit.store(true, ordering: .releasing)
        case "\t":
            guard comparing else { say("tab moves the focus between the variants of a compare: run", mark: false); return }
            focus = (focus + 1) % lanes.count
            say("focus: \(focused.name)", mark: false)
        case " ":
            let paused = !control.paused
            controls.forEach { $0.paused = paused }
            say(paused ? "paused: no new requests start" : "resumed")
        case "w", "W", "s", "S":
            guard !isOpenModel else { say("users apply to the closed model; use +/- for the arrival rate"); return }
            let delta = ["w": 1, "W": 10, "s": -1, "S": -10][String(Character(scalar))]!
            controls.forEach { $0.userOffset += delta }
            say("users \(delta > 0 ? "+" : "")\(delta) (offset \(control.userOffset))")
        case "+", "=", "-":
            guard isOpenModel else { say("the arrival rate applies to the open model; use w/s for users"); return }
            let scale = control.rateScale * (Character(scalar) == "-" ? 1 / 1.1 : 1.1)
            controls.forEach { $0.rateScale = scale }
            say("arrival rate x\(Format.number(scale, digits: 2))")
        case "b":
            let lane = focused
            guard let e = lane.engine else { say(comparing ? "\(who)not an engine variant" : "no embedded engine in this run (start it with --engine)"); return }
            let presets = e.config.presets
            lane.presetIndex = (lane.presetIndex + 1) % presets.count
            try? e.reconfigure(presets[lane.presetIndex].config)
            say("\(who)batching preset: \(presets[lane.presetIndex].name)", only: comparing ? lane : nil)
        case "[", "]":
            let lane = focused
            guard let e = lane.engine else { say(comparing ? "\(who)not an engine variant" : "no embedded engine in this run"); return }
            let c = e.stats.batching.withQueueDelay(scaledBy: Character(scalar) == "]" ? 2 : 0.5)
            try? e.reconfigure(c)
            say("\(who)max queue delay \(Format.number(Double(c.maxQueueDelayMicros) / 1000, digits: 2)) ms", only: comparing ? lane : nil)
        case "{", "}":
            let lane = focused
            guard let e = lane.engine else { say(comparing ? "\(who)not an engine variant" : "no embedded engine in this run"); return }
            let b = e.stats.batching
            let c = b.withMaxBatchSize(Character(scalar) == "}" ? b.maxBatchSize * 2 : max(1, b.maxBatchSize / 2))
            try? e.reconfigure(c)
            say("\(who)max batch size \(c.maxBatchSize)", only: comparing ? lane : nil)
        case "e":
            guard let make = makeEngine else {
                say(comparing ? "e: each variant keeps its own target in a comparison" : "e: the scenario's target is the embedded engine; there is nothing to switch back to")
                return
            }
            let lane = lanes[0]
            if onEngine {
                lane.run.control.retarget(nil)
                onEngine = false
                say("e: load back on the scenario's target")
            } else {
                if lane.engine == nil {
                    do { lane.engine = try make() } catch { say("e: cannot start the engine: \(error)"); return }
                }
                lane.run.control.retarget(lane.engine!.baseURL)
                onEngine = true
                say("e: load switched to the embedded engine (\(lane.engine!.stats.deviceLabel))")
            }
        case "t":
            windowIndex = (windowIndex + 1) % windowChoices.count
            say("chart span \(windowChoices[windowIndex])s")
        case "r":
            controls.forEach { $0.resetRequested = true }
            lanes.forEach { $0.history.withLock { $0.removeAll() } }
            marks.removeAll()
            say("statistics reset")
        case "?":
            showHelp.toggle()
        default:
            break
        }
    }

    static func engineLine(_ e: EngineServer) -> EngineLine {
        let s = e.stats
        let lookups = s.cacheHits + s.cacheMisses
        return .init(presetName: s.presetName ?? "custom", maxBatchSize: s.batching.maxBatchSize,
                     preferredBatchSizes: s.batching.effectivePreferredBatchSizes, maxQueueDelayMicros: s.batching.maxQueueDelayMicros,
                     queueSize: s.queueSize, averageBatchSize: s.averageBatchSize, batchSizes: s.batchSizes,
                     cacheHitRate: lookups == 0 ? nil : Double(s.cacheHits) / Double(lookups), label: s.deviceLabel)
    }

    private func draw() {
        let lane = focused
        guard let snap = lane.latest.withLock({ $0 }) else { return }
        let (w, h) = screen.size
        let windowSeconds = windowChoices[windowIndex]
        var engineLine: EngineLine?
        if let e = lane.engine, onEngine || comparing { engineLine = Self.engineLine(e) }
        let run = lane.run
        let results = run.thresholds.map { $0.evaluate(snap) }
        let p99 = run.thresholds.first { $0.metric == .latency && $0.aggregate == .percentile(99) && $0.task == nil }?.bound
        let target = comparing ? targetDescription + " (focus: \(lane.name))"
            : (onEngine && makeEngine != nil ? "embedded engine \(engine?.baseURL ?? "") (modelled)" : targetDescription)
        var model = DashboardModel(
            snapshot: snap, scenarioName: scenarioName, targetDescription: target, runTime: runTime,
            thresholds: results, history: lane.history.withLock { $0 }, events: marks, windowSeconds: windowSeconds,
            p99ThresholdMillis: p99, paused: run.control.paused, showHelp: showHelp,
            generatorCPUPercent: nil, engine: engineLine, unicode: screen.unicode, color: color,
            message: Date() < messageUntil ? message : nil)
        if comparing {
            model.focusedVariant = focus
            model.variants = lanes.map { l in
                let s = l.latest.withLock { $0 }
                let win = s.flatMap { $0.windows[windowSeconds] ?? $0.window }
                let stats = l.engine?.stats
                let h = win?.total.corrected
                return VariantLine(
                    name: l.name, config: stats.map { "\($0.presetName ?? "custom"): max \($0.batching.maxBatchSize), \(DashboardRenderer.delayText($0.batching.maxQueueDelayMicros))" } ?? l.config,
                    isBaseline: l.isBaseline, qps: win?.qps, p50: h?.percentile(50), p99: h?.percentile(99), errorRate: win?.total.errorRate,
                    averageBatchSize: stats?.averageBatchSize,
                    memoryFraction: stats.flatMap { $0.memoryTotalBytes > 0 ? Double($0.memoryUsedBytes) / Double($0.memoryTotalBytes) : nil },
                    history: l.history.withLock { $0 })
            }
        }
        screen.draw(DashboardRenderer().render(model, width: w, height: h))
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
                                 targetDescription: session.title, runTime: session.scenario.load.duration, isOpenModel: session.isOpenModel, color: color)
        } catch {
            printError("cicada: no dashboard (\(error)); running headless")
            return nil
        }
    }
}
