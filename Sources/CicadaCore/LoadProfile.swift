import Foundation

/// The load a scenario applies: closed (users) or open (arrivals).
///
/// One enum rather than one loop per feature: the workers ask the profile what to do at a
/// time, and each case answers with a pure function of elapsed time, tested in virtual time.
public enum LoadProfile: Sendable, Equatable {
    case closed(ClosedLoad)
    case open(OpenLoad)

    /// The time from test start after which no new work starts (nil: until stopped).
    public var duration: Duration? {
        switch self {
        case .closed(let c): return c.duration
        case .open(let o): return o.duration
        }
    }
}

/// One stage of a closed-model ramp: move toward `users` at `spawnRate` users/s, for `duration`.
public struct UserStage: Sendable, Equatable {
    public var duration: Duration
    public var users: Int
    public var spawnRate: Double
    public init(duration: Duration, users: Int, spawnRate: Double) {
        self.duration = duration; self.users = users; self.spawnRate = spawnRate
    }
}

/// Closed model with Locust semantics: a number of users, each looping task, wait, task...
public struct ClosedLoad: Sendable, Equatable {
    /// Stages run in order; a plain `users`/`spawn_rate`/`run_time` scenario is one stage.
    public var stages: [UserStage]
    /// What each user waits after a task.
    public var waitTime: WaitTime
    /// Whether a user whose response carried `Retry-After` (a 429 or 503 shedding load) waits
    /// at least that long before its next task (scenario key `honor_retry_after`). Off by
    /// default: a load test measures what the server does under the load it was given, and
    /// a client that backs off hides the shedding from the request rate. The failure is
    /// counted either way. The open model never honours it (arrivals are the load).
    public var honorRetryAfter: Bool

    public init(stages: [UserStage], waitTime: WaitTime, honorRetryAfter: Bool = false) {
        self.stages = stages; self.waitTime = waitTime; self.honorRetryAfter = honorRetryAfter
    }

    /// Total duration of all stages.
    public var duration: Duration? {
        stages.reduce(Duration.zero) { $0 + $1.duration }
    }

    /// The largest user count any stage asks for.
    public var peakUsers: Int { stages.map(\.users).max() ?? 0 }

    /// The number of users that should be running `elapsed` after test start.
    ///
    /// Each stage starts from the count the previous one reached and moves toward its own
    /// target at its spawn rate (users per second, up or down), then holds: exactly how
    /// Locust's load shapes step.
    public func users(at elapsed: Duration) -> Int {
        var current = 0.0
        var stageStart = Duration.zero
        for stage in stages {
            let stageEnd = stageStart + stage.duration
            let into = (min(elapsed, stageEnd) - stageStart).seconds
            let target = Double(stage.users)
            let rate = stage.spawnRate > 0 ? stage.spawnRate : .infinity
            // As Locust's spawner: the first user of a move starts (or stops) at once, the next
            // one 1/spawn_rate later, and so on.
            let moved = rate.isInfinite ? abs(target - current) : (rate * max(0, into)).rounded(.down) + 1
            if target >= current { current = min(target, current + moved) } else { current = max(target, current - moved) }
            if elapsed < stageEnd { break }
            stageStart = stageEnd
        }
        return Int(current.rounded(.down))
    }
}

/// How open-model arrival gaps are drawn.
public enum ArrivalProcess: Sendable, Equatable {
    /// Evenly spaced arrivals at exactly 1/rate.
    case constant
    /// Gamma-distributed gaps with the given burstiness (1 = Poisson), as vLLM's `bench serve`.
    case gamma(burstiness: Double)
}

/// One stage of an open-model ramp: the rate moves to `rate` over `duration`, linearly (k6's
/// ramping-arrival-rate) or exponentially (vLLM's `--ramp-up-strategy exponential`).
public struct RateStage: Sendable, Equatable {
    /// How the rate moves from the previous stage's rate to this one's.
    public enum Ramp: String, Sendable, Equatable { case linear, exponential }
    public var duration: Duration
    /// Target arrivals per second at the end of the stage.
    public var rate: Double
    public var ramp: Ramp
    public init(duration: Duration, rate: Double, ramp: Ramp = .linear) { self.duration = duration; self.rate = rate; self.ramp = ramp }

    /// Whether this stage ramps exponentially from `from` (both ends must be positive and differ;
    /// otherwise it is linear, which covers a ramp from zero).
    func isExponential(from: Double) -> Bool { ramp == .exponential && from > 0 && rate > 0 && from != rate }
}

/// Open model: requests arrive on a schedule whatever the server does.
///
/// Arrivals that cannot start on time (all `maxInFlight` slots busy) wait in a queue and are
/// timed from their intended start; only arrivals beyond `maxQueue` are dropped, and counted.
public struct OpenLoad: Sendable, Equatable {
    /// The rate at time zero; each stage ramps linearly from the previous stage's end rate.
    public var startRate: Double
    public var stages: [RateStage]
    public var process: ArrivalProcess
    /// Most requests in flight at once across the run (all workers together).
    public var maxInFlight: Int
    /// Most arrivals waiting for a free slot (all workers together); nil means
    /// ``defaultMaxQueue``. Never unbounded: against a server that stops answering, a queue
    /// without a bound would grow by the arrival rate for the whole run.
    public var maxQueue: Int?
    /// A recorded trace replayed instead of drawn arrivals (`arrival.trace`); nil for a rate.
    /// Its arrivals keep their trace times (scaled); the stages then hold one stage at the
    /// trace's mean rate for its length, for the rate shown and the run's end.
    public var trace: ArrivalTrace?

    /// The bound on waiting arrivals when a scenario sets none: a million (16 bytes each, so
    /// 16 MB at most), over eight minutes of backlog at 2,000 arrivals a second.
    public static let defaultMaxQueue = 1_000_000

    public init(startRate: Double, stages: [RateStage], process: ArrivalProcess, maxInFlight: Int, maxQueue: Int?) {
        self.startRate = startRate; self.stages = stages; self.process = process
        self.maxInFlight = maxInFlight; self.maxQueue = maxQueue
    }

    /// Replays `trace` (its length, or `runTime` when shorter, is the run's length).
    public static func replay(_ trace: ArrivalTrace, runTime: Duration? = nil, maxInFlight: Int = 1000, maxQueue: Int? = nil) -> OpenLoad {
        let d = min(trace.duration, runTime ?? trace.duration)
        let rate = Double(trace.entries.count) / max(trace.duration.seconds, 1e-3)
        var load = OpenLoad(startRate: rate, stages: [RateStage(duration: d, rate: rate)], process: .constant, maxInFlight: maxInFlight, maxQueue: maxQueue)
        load.trace = trace
        return load
    }

    /// A constant rate for `duration`.
    public static func constant(rate: Double, duration: Duration, process: ArrivalProcess = .constant, maxInFlight: Int = 1000, maxQueue: Int? = nil) -> OpenLoad {
        OpenLoad(startRate: rate, stages: [RateStage(duration: duration, rate: rate)], process: process, maxInFlight: maxInFlight, maxQueue: maxQueue)
    }

    public var duration: Duration? { stages.reduce(Duration.zero) { $0 + $1.duration } }

    /// Expected arrivals from test start until `seconds` (the integral of the rate).
    public func cumulativeArrivals(atSeconds seconds: Double) -> Double {
        var from = startRate, t0 = 0.0, acc = 0.0
        for stage in stages {
            let d = stage.duration.seconds
            if seconds < t0 + d {
                let tau = seconds - t0
                if stage.isExponential(from: from) {
                    let lnk = log(stage.rate / from)
                    return acc + from * d / lnk * (exp(lnk * tau / d) - 1)
                }
                return acc + from * tau + (stage.rate - from) * tau * tau / (2 * d)
            }
            acc += stageArea(stage, from: from)
            from = stage.rate; t0 += d
        }
        return acc + from * (seconds - t0)
    }

    /// The time (seconds from start) at which `target` arrivals are expected, or nil when the
    /// stages end first: the inverse of ``cumulativeArrivals(atSeconds:)``.
    ///
    /// Arrival times are drawn on this "operational time" axis, where the rate is always 1, and
    /// mapped back (the time-rescaling theorem): so a rate that ramps from 0 starts slowly and
    /// smoothly rather than waiting one huge gap at the first tiny rate.
    public func secondsForCumulativeArrivals(_ target: Double) -> Double? {
        var from = startRate, t0 = 0.0, acc = 0.0
        for stage in stages {
            let d = stage.duration.seconds
            let area = stageArea(stage, from: from)
            if target <= acc + area, area > 0 {
                let rem = target - acc
                if stage.isExponential(from: from) {
                    let lnk = log(stage.rate / from)
                    return t0 + min(max(d * log(1 + rem * lnk / (from * d)) / lnk, 0), d)
                }
                let a = (stage.rate - from) / (2 * d)
                let tau: Double
                if abs(a) < 1e-12 {
                    tau = rem / from
                } else {
                    let disc = max(0, from * from + 4 * a * rem)
                    tau = (-from + disc.squareRoot()) / (2 * a)
                }
                return t0 + min(max(tau, 0), d)
            }
            acc += area
            from = stage.rate; t0 += d
        }
        return nil
    }

    /// Expected arrivals over a whole stage that starts at rate `from`.
    func stageArea(_ stage: RateStage, from: Double) -> Double {
        let d = stage.duration.seconds
        if stage.isExponential(from: from) { return (stage.rate - from) * d / log(stage.rate / from) }
        return (from + stage.rate) / 2 * d
    }

    /// The target arrival rate (per second) `elapsed` after test start.
    public func rate(at elapsed: Duration) -> Double {
        var from = startRate
        var stageStart = Duration.zero
        for stage in stages {
            let stageEnd = stageStart + stage.duration
            if elapsed < stageEnd {
                let f = stage.duration == .zero ? 1 : (elapsed - stageStart).seconds / stage.duration.seconds
                if stage.isExponential(from: from) { return from * pow(stage.rate / from, f) }
                return from + (stage.rate - from) * f
            }
            from = stage.rate
            stageStart = stageEnd
        }
        return from
    }
}
