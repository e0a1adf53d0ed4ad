/// Where the open-model schedule's arrivals fall while the rate multiplier (the dashboard's
/// `+`/`-`) changes during a run.
///
/// The schedule is drawn in operational time: position `p` is the `p`-th expected arrival
/// (unit rate), and with no change it is due when the scenario's own cumulative rate reaches
/// `p`. A multiplier `s` set at some moment makes the positions from there on come `s` times as
/// densely against the scenario's curve: the rate is `s x` the scenario's rate from that moment,
/// the ramps keep their clock times, and nothing already due moves. (Dividing every offset by
/// `s` instead would play the ramp faster, run out of schedule before the end, and pull a
/// stretch of future arrivals into the past as one burst.) Pure.
public struct RateWarp: Sendable, Equatable {
    /// The scenario's expected arrivals (its cumulative rate) at the last change.
    public private(set) var anchorBase: Double = 0
    /// The schedule position reached at the last change.
    public private(set) var anchorPosition: Double = 0
    /// The multiplier in force (1 = the scenario's rate).
    public private(set) var scale: Double = 1
    private var previous: Segment = Segment(base: 0, position: 0, scale: 1)

    struct Segment: Sendable, Equatable { var base, position, scale: Double }

    public init() {}

    /// The scenario's cumulative expected arrivals at which schedule position `p` is due.
    /// Positions before the last change keep the mapping they were due under.
    public func base(forPosition p: Double) -> Double {
        if p >= anchorPosition { return anchorBase + (p - anchorPosition) / scale }
        return max(0, previous.base + (p - previous.position) / previous.scale)
    }

    /// The schedule position reached when the scenario's cumulative arrivals are `b`.
    public func position(atBase b: Double) -> Double {
        if b >= anchorBase { return anchorPosition + (b - anchorBase) * scale }
        return previous.position + (b - previous.base) * previous.scale
    }

    /// Sets the multiplier from the moment the scenario's cumulative arrivals are `b` (which
    /// must not go back in time).
    public mutating func setScale(_ newScale: Double, atBase b: Double) {
        let b = max(b, anchorBase)
        let p = position(atBase: b)
        previous = Segment(base: anchorBase, position: anchorPosition, scale: scale)
        anchorBase = b
        anchorPosition = p
        scale = max(newScale, 1e-6)
    }
}
