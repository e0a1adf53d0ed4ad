#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A source of monotonic time in nanoseconds, injected everywhere time matters.
///
/// The load engine, the aggregator and the threshold evaluator read time only through this
/// protocol, so tests drive them in virtual time with ``ManualTimeSource`` instead of sleeping.
/// Nanoseconds since an arbitrary origin are used on the hot path because they cost one
/// `clock_gettime` and no allocation; APIs that face users take `Duration`.
public protocol TimeSource: Sendable {
    /// Nanoseconds since an arbitrary, fixed origin; never decreases.
    func nowNanos() -> UInt64
}

/// The real monotonic clock (`CLOCK_MONOTONIC`).
public struct MonotonicTimeSource: TimeSource {
    public init() {}
    @inlinable
    public func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// A clock that moves only when told to: for tests in virtual time.
public final class ManualTimeSource: TimeSource {
    private let now = Atomic<UInt64>(0)
    /// Creates a clock that reads `startNanos` until advanced.
    public init(startNanos: UInt64 = 0) { now.store(startNanos, ordering: .relaxed) }
    public func nowNanos() -> UInt64 { now.load(ordering: .acquiring) }
    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        now.add(duration.nanos, ordering: .releasing)
    }
    /// Sets the clock to an absolute reading.
    public func set(nanos: UInt64) { now.store(nanos, ordering: .releasing) }
}

extension Duration {
    /// Whole nanoseconds in this duration, clamped at zero for negative durations.
    public var nanos: UInt64 {
        let (s, a) = components
        if s < 0 { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(a / 1_000_000_000)
    }
    /// This duration in seconds as a floating-point value.
    public var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
    /// This duration in milliseconds as a floating-point value.
    public var milliseconds: Double { seconds * 1000 }
    /// A duration from a number of nanoseconds.
    public static func nanos(_ n: UInt64) -> Duration { .nanoseconds(Int64(clamping: n)) }
    /// A duration from fractional seconds (rounded to the nanosecond), saturating at what a
    /// `Duration` of nanoseconds can hold (and zero for NaN) rather than trapping.
    public static func fromSeconds(_ s: Double) -> Duration {
        let n = (s * 1e9).rounded()
        guard n.isFinite else { return n > 0 ? .nanoseconds(Int64.max) : (n < 0 ? .nanoseconds(Int64.min) : .zero) }
        return .nanoseconds(Int64(exactly: n) ?? (n > 0 ? Int64.max : Int64.min))
    }
}
