/// The intended start times of an open-model run, as a deterministic sequence.
///
/// Every worker walks the same sequence (same seed) and takes the arrivals whose index `k`
/// satisfies `k % workerCount == workerIndex`, so the whole run's schedule is exactly the
/// scenario's whatever the worker count, and two runs with one seed send the same sequence.
/// Times are nanoseconds from test start.
public struct ArrivalSchedule: Sendable {
    public let load: OpenLoad
    private var rng: SeededRandom
    private var nextOffsetNanos: Double = 0
    /// Index of the next arrival to be returned.
    public private(set) var index: UInt64 = 0
    private let endNanos: Double

    public init(load: OpenLoad, seed: UInt64) {
        self.load = load
        self.rng = SeededRandom(seed: seed, stream: 0xA11_1BA1)
        self.endNanos = Double((load.duration ?? .seconds(Int64.max / 2_000_000_000)).nanos)
        self.nextOffsetNanos = 0
        // The first arrival is one gap after a zero-rate start, or at time zero otherwise.
        if load.rate(at: .zero) <= 0 { advanceOverIdle() }
    }

    /// The next arrival as (index, intended offset from start in ns), or nil past the end.
    public mutating func next() -> (index: UInt64, offsetNanos: UInt64)? {
        guard nextOffsetNanos < endNanos else { return nil }
        let current = (index, UInt64(nextOffsetNanos))
        index += 1
        let rate = load.rate(at: .nanos(UInt64(nextOffsetNanos)))
        if rate <= 0 {
            advanceOverIdle()
        } else {
            nextOffsetNanos += gap(rate: rate)
        }
        return current
    }

    private func gapScale(_ rate: Double) -> Double { 1e9 / rate }

    private mutating func gap(rate: Double) -> Double {
        switch load.process {
        case .constant:
            return 1e9 / rate
        case .gamma(let b):
            return rng.gamma(shape: b, scale: 1 / (rate * b)) * 1e9
        }
    }

    /// Steps through a stretch where the rate is zero, 1 ms at a time, to the next positive rate.
    private mutating func advanceOverIdle() {
        while nextOffsetNanos < endNanos {
            nextOffsetNanos += 1_000_000
            let r = load.rate(at: .nanos(UInt64(nextOffsetNanos)))
            if r > 0 { nextOffsetNanos += gap(rate: r); return }
        }
    }
}
