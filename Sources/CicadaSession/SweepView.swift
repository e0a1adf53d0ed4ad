import CicadaEngineServer
import CicadaRunner
import CicadaSweep

/// An interactive view of a running sweep (the executable's live sweep dashboard).
///
/// The session starts it before the first point and stops it (restoring the terminal) before
/// the analysis is printed. Between, the runner's thread tells it each load run it starts and
/// each point it measures; the view reads the runs' snapshots itself and asks for skips and a
/// stop through ``control``. This library never imports a terminal module: the view is injected.
public protocol SweepView: AnyObject, Sendable {
    /// Where the view's `n` (skip the point) and `q` (stop the sweep) go.
    var control: SweepControl { get }
    /// Starts drawing (on the view's own thread).
    func start()
    /// Stops drawing and gives the terminal back.
    func stop()
    /// A point's load run is about to start (its warm-up or its measurement), on `engine` if the
    /// configuration is the embedded engine's. Called on the runner's thread.
    func follow(_ stage: SweepRunner.Stage, run: LoadRun, engine: EngineServer?)
    /// A point was measured (skipped ones too). Called on the runner's thread.
    func measured(_ point: SweepPoint)
}
