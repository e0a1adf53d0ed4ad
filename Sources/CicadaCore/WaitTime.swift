/// How long a closed-model user waits after each task, with Locust's semantics.
///
/// - `constant(t)`: always `t`.
/// - `between(a, b)`: uniform in [a, b].
/// - `constantPacing(t)`: `max(0, t - taskTime)`: one task start every `t`, no catch-up.
/// - `constantThroughput(r)`: `constantPacing(1/r)`, a per-user cap of `r` tasks/s.
/// - `poisson(rate)`: exponential waits with mean `1/rate`.
public enum WaitTime: Sendable, Equatable, CustomStringConvertible {
    case constant(Duration)
    case between(Duration, Duration)
    case constantPacing(Duration)
    case constantThroughput(Double)
    case poisson(Double)

    /// No waiting at all: users loop as fast as the server answers.
    public static let none = WaitTime.constant(.zero)

    /// The wait after a task that took `taskTook`.
    public func wait(taskTook: Duration, rng: inout SeededRandom) -> Duration {
        switch self {
        case .constant(let t):
            return t
        case .between(let a, let b):
            let lo = a.seconds, hi = b.seconds
            return .fromSeconds(lo + (hi - lo) * rng.unit())
        case .constantPacing(let t):
            return t > taskTook ? t - taskTook : .zero
        case .constantThroughput(let r):
            let t = Duration.fromSeconds(1 / r)
            return t > taskTook ? t - taskTook : .zero
        case .poisson(let rate):
            return .fromSeconds(rng.exponential(mean: 1 / rate))
        }
    }

    /// The pacing period when the user is meant to keep a fixed schedule, else nil.
    ///
    /// With pacing, each task has an intended start on the grid `start + k·period`. When a task
    /// overruns, Locust starts the next one at once (no catch-up) and so the user falls behind
    /// the grid; Cicada still times each request from its grid slot, as wrk2 does, because that
    /// is when the user wanted it. Without pacing, the intended start is the end of the wait.
    public var pacingPeriod: Duration? {
        switch self {
        case .constantPacing(let t): return t
        case .constantThroughput(let r): return .fromSeconds(1 / r)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .constant(let t): return "constant(\(t.seconds))"
        case .between(let a, let b): return "between(\(a.seconds), \(b.seconds))"
        case .constantPacing(let t): return "constant_pacing(\(t.seconds))"
        case .constantThroughput(let r): return "constant_throughput(\(r))"
        case .poisson(let r): return "poisson(\(r))"
        }
    }
}
