import Synchronization

/// What the live sweep's dashboard asks of a running ``SweepRunner``: skip the current point
/// (`n`) or stop the sweep (`q`). Set from the dashboard's thread, read by the runner's.
///
/// A skip ends the current point's load at once and keeps its partial measurement, labelled
/// ``SweepPoint/skipped``; the sweep goes on with the next point. A stop does the same to the
/// current point and then ends the sweep, so everything measured so far is analysed and
/// reported. Neither is a signal: the exit status stays the sweep's own.
public final class SweepControl: Sendable {
    private let skip = Atomic<Bool>(false)
    private let stop = Atomic<Bool>(false)

    /// A control with nothing asked.
    public init() {}

    /// Asks the runner to end the current point now and go on with the next.
    public func requestSkip() { skip.store(true, ordering: .releasing) }
    /// Asks the runner to end the current point now and the sweep after it.
    public func requestStop() { stop.store(true, ordering: .releasing) }
    /// Whether a skip of the current point is pending.
    public var skipRequested: Bool { skip.load(ordering: .acquiring) }
    /// Whether the sweep was asked to stop.
    public var stopRequested: Bool { stop.load(ordering: .acquiring) }
    /// Forgets a pending skip (at the start of each point, so a key pressed between points
    /// does not skip the next one unseen). Returns whether one was pending.
    @discardableResult
    func clearSkip() -> Bool { skip.exchange(false, ordering: .acquiringAndReleasing) }
}
