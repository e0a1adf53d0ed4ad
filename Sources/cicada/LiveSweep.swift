#if canImport(Glibc)
import Glibc
#endif
import CicadaCore
import CicadaDashboard
import CicadaEngine
import CicadaEngineServer
import CicadaRunner
import CicadaSession
import CicadaSweep
import CicadaTerminal
import Foundation
import Synchronization

/// The interactive sweep: a thin driver around the pure ``SweepDashboardController``. The
/// runner's thread posts each stage it starts, each point it measures and the current run's
/// snapshots; the UI thread reads keys, hands the controller what was posted, turns `n` and
/// `q` into requests on the runner's ``SweepControl`` and draws at most 10 frames a second.
/// The measurement never waits for it.
final class LiveSweep: @unchecked Sendable {
    /// What the runner's thread posted since the UI thread last looked.
    struct Inbox: Sendable {
        enum Event: Sendable { case begin(SweepProgress), point(SweepCurvePoint) }
        var events: [Event] = []
        var snapshot: Snapshot?
        var points: [TimelinePoint] = []
        var engine: EngineServer?
    }

    let control = SweepControl()
    let screen: TerminalScreen
    let spec: SweepSpec
    private let inbox = Mutex<Inbox>(Inbox())
    private let quit = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Touched only on the UI thread.
    private var driver: SweepDashboardDriver

    init(screen: TerminalScreen, spec: SweepSpec, configuration: SweepDashboardController.Configuration) {
        self.screen = screen; self.spec = spec
        driver = SweepDashboardDriver(screen: screen, controller: SweepDashboardController(configuration: configuration))
    }

    /// A dashboard for `session`, or nil (said on stderr) when the terminal cannot take one.
    static func make(for session: SweepSession) -> LiveSweep? {
        let color = ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        do {
            let screen = try TerminalScreen(color: color)
            let spec = session.spec
            var what = spec.configurations.map(\.name).joined(separator: ", ")
            if spec.usesEngine {
                let e = session.document.engine ?? EngineConfig()
                what = "embedded engine \(e.gpu) / \(e.model) (modelled): " + what
            }
            var configuration = SweepDashboardController.Configuration(
                scenarioName: session.document.scenario.name, targetDescription: what, configurations: spec.configurations.map(\.name),
                p99ObjectiveMillis: spec.p99.milliseconds, unicode: screen.unicode, color: color)
            configuration.diagnosisLimits = session.document.scenario.diagnosisLimits
            return LiveSweep(screen: screen, spec: spec, configuration: configuration)
        } catch {
            printError("cicada: no dashboard (\(error)); running headless")
            return nil
        }
    }

    /// A level as the progress row shows it.
    static func levelText(_ level: Double, axis: SweepSpec.Axis) -> String {
        axis == .rate ? "\(Format.number(level, digits: 0))/s" : "\(Format.number(level, digits: 0)) users"
    }
}

extension LiveSweep: SweepView {
    /// Starts the UI thread; it ends when the session stops the view, on a stop signal, or
    /// when the terminal goes away (then the sweep stops as on SIGHUP, as the run dashboard does).
    func start() {
        TerminalLoop.startThread(name: "cicada-sweep-dashboard", isGone: { [self] in screen.isGone }, shouldQuit: { [self] in quit.load(ordering: .acquiring) },
                                 finished: finished) { [self] in driver.turn(host: self) }
    }

    /// Stops the UI thread and restores the terminal (SIGTTOU ignored, as the run dashboard's).
    func stop() {
        quit.store(true, ordering: .releasing)
        _ = finished.wait(timeout: .now() + 2)
        TerminalLoop.restore(screen)
    }

    func follow(_ stage: SweepRunner.Stage, run: LoadRun, engine: EngineServer?) {
        let progress = SweepProgress(
            index: stage.index, total: stage.total, configuration: stage.configuration, levelText: Self.levelText(stage.level, axis: stage.axis),
            phase: stage.phase == .warmup ? .warmup : .measure, phaseStarted: .now, phaseDuration: stage.duration,
            pointDuration: stage.pointDuration, measureDuration: spec.measure)
        // The previous run has finished: whatever it posted last is dropped with its lane.
        inbox.withLock { box in
            box.events.append(.begin(progress)); box.snapshot = nil; box.points = []; box.engine = engine
        }
        run.onTick = { [weak self] snap in self?.inbox.withLock { $0.snapshot = snap } }
        run.onPoint = { [weak self] p in
            self?.inbox.withLock { box in
                box.points.append(p)
                if box.points.count > DashboardLane.historyLimit { box.points.removeFirst(box.points.count - DashboardLane.historyLimit) }
            }
        }
    }

    func measured(_ point: SweepPoint) {
        let status: SweepCurvePoint.Status = switch point.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate) {
        case .holds: .holds
        case .slow: .slow
        case .errors: .errors
        case .outOfMemory: .outOfMemory
        case .skipped: .skipped
        }
        let p = SweepCurvePoint(configuration: point.preset, level: point.rate, throughput: point.achievedQPS, p99Millis: point.p99Millis,
                                status: status, outputTokensPerSecond: point.outputTokensPerSecond)
        inbox.withLock { $0.events.append(.point(p)) }
    }
}

extension LiveSweep: SweepDashboardHost {
    func refresh(_ controller: inout SweepDashboardController) {
        let box = inbox.withLock { box in
            defer { box.events = []; box.snapshot = nil; box.points = [] }
            return box
        }
        for e in box.events {
            switch e {
            case .begin(let p): controller.begin(p)
            case .point(let p): controller.add(p)
            }
        }
        for p in box.points { controller.append(p) }
        if let s = box.snapshot { controller.update(snapshot: s) }
        controller.update(engine: box.engine.map(LiveDashboard.reading))
    }

    func perform(_ action: SweepDashboardAction) {
        switch action {
        case .skipPoint: control.requestSkip()
        case .stopSweep: control.requestStop()
        case .redraw: break
        }
    }
}
