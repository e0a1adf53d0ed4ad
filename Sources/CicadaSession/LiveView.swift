import CicadaEngineServer

/// An interactive view of a running session (the executable's terminal dashboard).
///
/// The session starts it just before the load and stops it (restoring the terminal) before
/// anything is printed; the view attaches itself to the session's ``SessionLane``s' runs when it
/// is built. This library never imports a terminal module: the view is injected.
public protocol LiveView: AnyObject, Sendable {
    /// Starts drawing (on the view's own thread).
    func start()
    /// Stops drawing and gives the terminal back.
    func stop()
    /// Whether the user asked to end the run from the view (the `q` key).
    var quitRequested: Bool { get }
    /// The engine a single run's view drives: the session's own, or one the user started from
    /// the view (the `e` key), which the session then reports and stops.
    var engine: EngineServer? { get }
}

/// Where a session writes text: the summary (stdout in the CLI) and notices and progress lines
/// (stderr). Progress lines come from the runner's thread.
public struct SessionOutput: Sendable {
    /// Summary text, exactly as it should appear (it carries its own newlines).
    public var summary: @Sendable (String) -> Void
    /// One line of notice or progress, without its newline.
    public var log: @Sendable (String) -> Void

    public init(summary: @escaping @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void) {
        self.summary = summary; self.log = log
    }
}
