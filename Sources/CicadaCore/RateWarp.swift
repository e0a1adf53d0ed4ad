/// Maps an arrival's offset on the scenario's schedule to its offset on the run clock while the
/// rate multiplier (the dashboard's `+`/`-`) changes during a run.
///
/// Each change takes effect from the moment it is made: arrivals from then on come at the new
/// multiple of the scenario's rate, and nothing already due moves. (Dividing every offset by the
/// new multiplier would instead pull a stretch of future arrivals into the past at once: a burst
/// the scenario never asked for, measured as latency.) Pure; offsets in nanoseconds.
public struct RateWarp: Sendable, Equatable {
    /// Run-clock offset at which the current multiplier took effect.
    public private(set) var anchorRun: UInt64 = 0
    /// Schedule offset reached at that moment.
    public private(set) var anchorSchedule: UInt64 = 0
    /// The multiplier in force (1 = the scenario's rate).
    public private(set) var scale: Double = 1

    public init() {}

    /// The run-clock offset of the arrival at schedule offset `s`. Arrivals before the last
    /// change keep the mapping they were due under.
    public func runOffset(forSchedule s: UInt64) -> UInt64 {
        if s >= anchorSchedule { return anchorRun &+ UInt64(Double(s - anchorSchedule) / scale) }
        let back = UInt64(Double(anchorSchedule - s) / previousScale)
        return back >= anchorRun ? 0 : anchorRun - back
    }

    /// The schedule offset reached at run-clock offset `t` (where the scenario's own rate curve
    /// is read, e.g. for the target rate shown).
    public func scheduleOffset(atRun t: UInt64) -> UInt64 {
        guard t >= anchorRun else { return UInt64(Double(t) * previousScale) }
        return anchorSchedule &+ UInt64(Double(t - anchorRun) * scale)
    }

    /// The multiplier before the last change, for arrivals that were due before it.
    public private(set) var previousScale: Double = 1

    /// Changes the multiplier at run-clock offset `t` (which must not go back in time).
    public mutating func setScale(_ newScale: Double, atRun t: UInt64) {
        let newScale = max(newScale, 1e-6)
        let t = max(t, anchorRun)
        anchorSchedule = scheduleOffset(atRun: t)
        anchorRun = t
        previousScale = scale
        scale = newScale
    }
}
