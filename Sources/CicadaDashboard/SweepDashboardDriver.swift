/// What the sweep dashboard's driver needs from the side that owns the sweep.
///
/// The executable's `LiveSweep` implements it over the sweep runner's control and load runs;
/// tests implement it with fakes. Both calls come from the driver's (the UI) thread.
public protocol SweepDashboardHost: AnyObject {
    /// Feeds what the runner posted since the last call into `controller`: stages begun, points
    /// measured, the current run's snapshot and per-second points, the engine's figures.
    func refresh(_ controller: inout SweepDashboardController)
    /// Carries out one action on the sweep.
    func perform(_ action: SweepDashboardAction)
}

/// Runs a ``SweepDashboardController`` against a ``Screen``: keys in, actions carried out by a
/// ``SweepDashboardHost``, at most ten frames a second out. As ``DashboardDriver``: the
/// caller's thread owns it and the measurement never waits for it.
public struct SweepDashboardDriver {
    /// Where frames go and keys come from.
    public let screen: any Screen
    /// The dashboard's state.
    public private(set) var controller: SweepDashboardController
    private let now: () -> ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant?

    /// A driver; `now` is the clock (injected so tests control frame pacing, progress and
    /// message expiry).
    public init(screen: any Screen, controller: SweepDashboardController, now: @escaping () -> ContinuousClock.Instant = { .now }) {
        self.screen = screen; self.controller = controller; self.now = now
    }

    /// One turn of the loop: read a key, handle it, draw if a frame is due. Returns whether the
    /// sweep was asked to stop.
    @discardableResult
    public mutating func turn(host: some SweepDashboardHost) -> Bool {
        var stop = false
        if let key = screen.readKey() {
            host.refresh(&controller)
            for action in controller.handle(key, at: now()) {
                switch action {
                case .redraw: screen.invalidate()
                case .stopSweep: stop = true; host.perform(action)
                case .skipPoint: host.perform(action)
                }
            }
        }
        let t = now()
        // A key's message shows at once; otherwise at most ten frames a second.
        if lastDraw.map({ t - $0 >= DashboardDriver.frameInterval }) ?? true {
            lastDraw = t
            host.refresh(&controller)
            let (width, height) = screen.size
            screen.draw(controller.frame(width: width, height: height, at: t))
        }
        return stop
    }
}
