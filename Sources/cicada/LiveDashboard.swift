import CicadaCore
import CicadaDashboard
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaTerminal
import Foundation
import Synchronization

/// The interactive run: draws the dashboard at most 10 times a second from the latest snapshot
/// and turns keys into changes of the load and the engine's batching. Runs on its own thread;
/// the measurement never waits for it (a slow terminal drops frames, never samples).
final class LiveDashboard: @unchecked Sendable {
    let screen: TerminalScreen
    let run: LoadRun
    /// The engine in this run, if any (started by the scenario, or by the `e` key).
    private(set) var engine: EngineServer?
    /// Starts an engine for the `e` key; nil when the scenario's own target is the engine.
    let makeEngine: (() throws -> EngineServer)?
    /// Whether the load goes to the engine now.
    private var onEngine: Bool
    let scenarioName: String
    let targetDescription: String
    let runTime: Duration?
    let isOpenModel: Bool
    let color: Bool
    private let latest = Mutex<Snapshot?>(nil)
    private let history = Mutex<[TimelinePoint]>([])
    let quit = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var windowChoices = [10, 60, 300]
    private var windowIndex = 0
    private var showHelp = false
    private var message: String?
    private var messageUntil = Date.distantPast
    private var presetIndex = 0
    /// Changes made from the keyboard, marked on the charts (and noted in the run's events).
    private var marks: [RunEvent] = []

    init(screen: TerminalScreen, run: LoadRun, engine: EngineServer?, makeEngine: (() throws -> EngineServer)?, scenarioName: String,
         targetDescription: String, runTime: Duration?, isOpenModel: Bool, color: Bool) {
        self.screen = screen; self.run = run; self.engine = engine; self.makeEngine = makeEngine; self.onEngine = engine != nil
        self.scenarioName = scenarioName
        self.targetDescription = targetDescription; self.runTime = runTime; self.isOpenModel = isOpenModel; self.color = color
        if let e = engine { presetIndex = e.config.presets.firstIndex { $0.config == e.stats.batching } ?? 0 }
        run.onTick = { [weak self] snap in self?.latest.withLock { $0 = snap } }
        run.onPoint = { [weak self] p in
            self?.history.withLock { h in
                h.append(p)
                if h.count > 600 { h.removeFirst(h.count - 600) }
            }
        }
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

    private func say(_ text: String, mark: Bool = true) {
        message = text
        messageUntil = Date().addingTimeInterval(3)
        run.note(kind: "key", detail: text)
        if mark, let t = latest.withLock({ $0?.elapsed.seconds }) {
            marks.append(RunEvent(t: t, kind: String(text.prefix(1)), detail: text))
            if marks.count > 200 { marks.removeFirst(marks.count - 200) }
        }
    }

    private func handle(_ key: Int32) {
        if key == TerminalScreen.resizeKey { screen.invalidate(); return }
        guard let scalar = Unicode.Scalar(UInt32(max(0, key))) else { return }
        let control = run.control
        switch Character(scalar) {
        case "q": quit.store(true, ordering: .releasing)
        case " ":
            control.paused.toggle()
            say(control.paused ? "paused: no new requests start" : "resumed")
        case "w", "W", "s", "S":
            guard !isOpenModel else { say("users apply to the closed model; use +/- for the arrival rate"); return }
            let delta = ["w": 1, "W": 10, "s": -1, "S": -10][String(Character(scalar))]!
            control.userOffset += delta
            say("users \(delta > 0 ? "+" : "")\(delta) (offset \(control.userOffset))")
        case "+", "=", "-":
            guard isOpenModel else { say("the arrival rate applies to the open model; use w/s for users"); return }
            control.rateScale *= Character(scalar) == "-" ? 1 / 1.1 : 1.1
            say("arrival rate x\(Format.number(control.rateScale, digits: 2))")
        case "b":
            guard let e = engine else { say("no embedded engine in this run (start it with --engine)"); return }
            let presets = e.config.presets
            presetIndex = (presetIndex + 1) % presets.count
            try? e.reconfigure(presets[presetIndex].config)
            say("batching preset: \(presets[presetIndex].name)")
        case "[", "]":
            guard let e = engine else { say("no embedded engine in this run"); return }
            let c = e.stats.batching.withQueueDelay(scaledBy: Character(scalar) == "]" ? 2 : 0.5)
            try? e.reconfigure(c)
            say("max queue delay \(Format.number(Double(c.maxQueueDelayMicros) / 1000, digits: 2)) ms")
        case "{", "}":
            guard let e = engine else { say("no embedded engine in this run"); return }
            let b = e.stats.batching
            let c = b.withMaxBatchSize(Character(scalar) == "}" ? b.maxBatchSize * 2 : max(1, b.maxBatchSize / 2))
            try? e.reconfigure(c)
            say("max batch size \(c.maxBatchSize)")
        case "e":
            guard let make = makeEngine else { say("e: the scenario's target is the embedded engine; there is nothing to switch back to"); return }
            if onEngine {
                run.control.retarget(nil)
                onEngine = false
                say("e: load back on the scenario's target")
            } else {
                if engine == nil {
                    do { engine = try make() } catch { say("e: cannot start the engine: \(error)"); return }
                }
                run.control.retarget(engine!.baseURL)
                onEngine = true
                say("e: load switched to the embedded engine (\(engine!.stats.deviceLabel))")
            }
        case "t":
            windowIndex = (windowIndex + 1) % windowChoices.count
            say("chart span \(windowChoices[windowIndex])s")
        case "r":
            control.resetRequested = true
            history.withLock { $0.removeAll() }
            marks.removeAll()
            say("statistics reset")
        case "?":
            showHelp.toggle()
        default:
            break
        }
    }

    private func draw() {
        guard let snap = latest.withLock({ $0 }) else { return }
        let (w, h) = screen.size
        var engineLine: EngineLine?
        if let e = engine, onEngine {
            let s = e.stats
            let lookups = s.cacheHits + s.cacheMisses
            engineLine = .init(presetName: s.presetName ?? "custom", maxBatchSize: s.batching.maxBatchSize,
                               preferredBatchSizes: s.batching.effectivePreferredBatchSizes, maxQueueDelayMicros: s.batching.maxQueueDelayMicros,
                               queueSize: s.queueSize, averageBatchSize: s.averageBatchSize, batchSizes: s.batchSizes,
                               cacheHitRate: lookups == 0 ? nil : Double(s.cacheHits) / Double(lookups), label: s.deviceLabel)
        }
        let results = run.thresholds.map { $0.evaluate(snap) }
        let p99 = run.thresholds.first { $0.metric == .latency && $0.aggregate == .percentile(99) && $0.task == nil }?.bound
        let target = onEngine && makeEngine != nil ? "embedded engine \(engine?.baseURL ?? "") (modelled)" : targetDescription
        let model = DashboardModel(
            snapshot: snap, scenarioName: scenarioName, targetDescription: target, runTime: runTime,
            thresholds: results, history: history.withLock { $0 }, events: marks, windowSeconds: windowChoices[windowIndex],
            p99ThresholdMillis: p99, paused: run.control.paused, showHelp: showHelp,
            generatorCPUPercent: nil, engine: engineLine, unicode: screen.unicode, color: color,
            message: Date() < messageUntil ? message : nil)
        screen.draw(DashboardRenderer().render(model, width: w, height: h))
    }
}
