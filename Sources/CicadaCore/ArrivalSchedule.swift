/// The intended start times of an open-model run, as a deterministic sequence.
///
/// Every worker walks the same sequence (same seed) and takes the arrivals whose index `k`
/// satisfies `k % workerCount == workerIndex`, so the whole run's schedule is exactly the
/// scenario's whatever the worker count, and two runs with one seed send the same sequence.
/// Times are nanoseconds from test start.
///
/// Gaps are drawn in operational time (where the rate is 1) and mapped back through the
/// cumulative rate, so ramps are exact: `constant` puts arrival `k` where `k` arrivals are
/// expected; `gamma` draws unit-mean gamma gaps with shape = burstiness (1 = Poisson), which is
/// vLLM's gamma(shape=b, scale=1/(rate·b)) when the rate is constant.
public struct ArrivalSchedule: Sendable {
    public let load: OpenLoad
    private var rng: SeededRandom
    /// Position of the next arrival in operational time (expected arrivals since start).
    private var position: Double = 0
    /// Index of the next arrival to be returned.
    public private(set) var index: UInt64 = 0

    public init(load: OpenLoad, seed: UInt64) {
        self.load = load
        self.rng = SeededRandom(seed: seed, stream: 0xA11_1BA1)
    }

    /// The next arrival as (index, intended offset from start in ns), or nil past the end.
    public mutating func next() -> (index: UInt64, offsetNanos: UInt64)? {
        let (i, p) = nextPosition()
        if load.trace != nil { return offsetNanos(forPosition: p, warp: RateWarp()).map { (i, $0) } }
        guard let seconds = load.secondsForCumulativeArrivals(p) else { return nil }
        let end = load.duration?.seconds ?? .infinity
        guard seconds < end else { return nil }
        return (i, UInt64((seconds * 1e9).rounded()))
    }

    /// The next arrival as (index, position in operational time: expected arrivals since the
    /// start), with no end: the caller maps positions to times (through a ``RateWarp`` when the
    /// rate changes live) and decides where the run ends.
    public mutating func nextPosition() -> (index: UInt64, position: Double) {
        let current = (index, position)
        index += 1
        switch load.process {
        case .constant: position += 1
        case .gamma(let b): position += rng.gamma(shape: b, scale: 1 / b)
        }
        return current
    }

    /// The intended offset (ns from start) of the arrival at `position` under `warp`, or nil
    /// when it falls after the scenario's last stage.
    ///
    /// A replayed trace keeps its own times: position `k` is the trace's arrival `k`, and live
    /// rate changes do not move it (the trace is the load).
    public func offsetNanos(forPosition position: Double, warp: RateWarp) -> UInt64? {
        if let trace = load.trace {
            guard let t = trace.offsetNanos(UInt64(position)) else { return nil }
            if let end = load.duration, t >= UInt64(end.components.seconds) * 1_000_000_000 + UInt64(end.components.attoseconds / 1_000_000_000) { return nil }
            return t
        }
        guard let seconds = load.secondsForCumulativeArrivals(warp.base(forPosition: position)) else { return nil }
        if let end = load.duration?.seconds, seconds >= end { return nil }
        return UInt64((seconds * 1e9).rounded())
    }
}
