/// What the driver needs from the side that owns the runs and engines.
///
/// The executable's `LiveDashboard` implements it over `LoadRun`s and engine servers; tests
/// implement it with fakes. Both calls come from the driver's (the UI) thread.
public protocol DashboardHost: AnyObject {
    /// Feeds what arrived since the last call into `controller`: latest snapshots with their
    /// threshold verdicts, per-second points, engine readings.
    func refresh(_ controller: inout DashboardController)
    /// Carries out one action on the runs or engines.
    func perform(_ action: DashboardAction) -> DashboardActionResult
}

/// Runs a ``DashboardController`` against a ``Screen``: keys in, actions carried out by a
/// ``DashboardHost``, at most ten frames a second out.
///
/// One ``turn(host:)`` waits for a key (the screen's poll interval paces the loop), hands it to
/// the controller with fresh readings, carries out the actions and draws when a frame is due.
/// The caller's thread owns the driver; the measurement never waits for it, so a slow
/// terminal drops frames, never samples.
public struct DashboardDriver {
    /// The shortest time between two frames (10 fps).
    public static let frameInterval: Duration = .milliseconds(100)

    /// Where frames go and keys come from.
    public let screen: any Screen
    /// The dashboard's state.
    public private(set) var controller: DashboardController
    private let now: () -> ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant?

    /// A driver; `now` is the clock (injected so tests control frame pacing and message expiry).
    public init(screen: any Screen, controller: DashboardController, now: @escaping () -> ContinuousClock.Instant = { .now }) {
        self.screen = screen; self.controller = controller; self.now = now
    }

    /// One turn of the loop: read a key, handle it, draw if a frame is due. Returns whether the
    /// controller asked to quit.
    @discardableResult
    public mutating func turn(host: some DashboardHost) -> Bool {
        var quit = false
        if let key = screen.readKey() {
            host.refresh(&controller)
            let t = now()
            var pending = controller.handle(key, at: t)
            while !pending.isEmpty {
                let action = pending.removeFirst()
                switch action {
                case .quit: quit = true
                case .redraw: screen.invalidate()
                default: break
                }
                let result = host.perform(action)
                pending.insert(contentsOf: controller.complete(action, with: result, at: t), at: 0)
            }
        }
        let t = now()
        if lastDraw.map({ t - $0 >= Self.frameInterval }) ?? true {
            lastDraw = t
            host.refresh(&controller)
            let (width, height) = screen.size
            if let frame = controller.frame(width: width, height: height, at: t) { screen.draw(frame) }
        }
        return quit
    }
}
