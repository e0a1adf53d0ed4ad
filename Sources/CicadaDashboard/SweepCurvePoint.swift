import CicadaCore

/// One measured point of a live sweep, as the curve shows it: where it lies (achieved
/// throughput, p99) and how it fared.
///
/// Plain values rather than `CicadaSweep` types, so the dashboard depends only on the core.
public struct SweepCurvePoint: Sendable, Equatable {
    /// How a point fared against the sweep's objectives (the sweep's own verdicts).
    public enum Status: String, Sendable, Equatable {
        /// Held the latency and error objectives and kept up with the offered load.
        case holds
        /// Answered, but too slowly or not keeping up.
        case slow
        /// Too many errors.
        case errors
        /// Batches did not fit the modelled GPU memory.
        case outOfMemory = "out_of_memory"
        /// Cut short from the dashboard (`n` or `q`): a partial measurement.
        case skipped
    }

    /// The configuration's name (a preset, a grid point or a target).
    public var configuration: String
    /// The load level: offered arrivals per second, or users for a concurrency sweep.
    public var level: Double
    /// Completed requests per second: the curve's x.
    public var throughput: Double
    /// Corrected p99 latency in milliseconds: the curve's y; nil with no completed request.
    public var p99Millis: Double?
    /// The point's verdict.
    public var status: Status
    /// Output tokens per second (the other x the curve can take); nil when none were measured.
    public var outputTokensPerSecond: Double?

    /// A point.
    public init(configuration: String, level: Double, throughput: Double, p99Millis: Double?, status: Status, outputTokensPerSecond: Double? = nil) {
        self.configuration = configuration; self.level = level; self.throughput = throughput
        self.p99Millis = p99Millis; self.status = status; self.outputTokensPerSecond = outputTokensPerSecond
    }

    /// The point's x on `axis`; nil when it has none there.
    public func x(_ axis: SweepCurveAxis) -> Double? {
        axis == .requests ? throughput : outputTokensPerSecond
    }

    /// Whether the point can be on the Pareto front: it answered (held or was slow) with a p99.
    /// Error, out-of-memory and skipped points never are, as in the sweep's analysis.
    public var answered: Bool { (status == .holds || status == .slow) && p99Millis != nil }

    /// The indices of the points no other answered point beats on both throughput on `axis`
    /// (higher) and p99 (lower), by ascending throughput. On req/s this is the front the sweep's
    /// analysis reports; points with no x on `axis` are left out.
    public static func paretoFront(_ points: [SweepCurvePoint], axis: SweepCurveAxis = .requests) -> [Int] {
        let answered = points.indices.filter { points[$0].answered && points[$0].x(axis) != nil }
        func x(_ i: Int) -> Double { points[i].x(axis)! }
        let front = answered.filter { i in
            let p = points[i]
            return !answered.contains { j in
                let q = points[j]
                return x(j) >= x(i) && q.p99Millis! <= p.p99Millis! && (x(j) > x(i) || q.p99Millis! < p.p99Millis!)
            }
        }
        return front.sorted { x($0) < x($1) }
    }
}

/// What the sweep curve's x axis shows (the `x` key switches).
public enum SweepCurveAxis: Sendable, Equatable {
    /// Completed requests per second.
    case requests
    /// Output tokens per second (LLM streams).
    case outputTokens

    /// The axis's unit, as labelled.
    public var unit: String { self == .requests ? "req/s" : "output tok/s" }
}

/// Where a live sweep is: which point of how many, which part of it, and since when.
public struct SweepProgress: Sendable, Equatable {
    /// What the point's current load run is for.
    public enum Phase: Sendable, Equatable {
        /// The unmeasured warm-up.
        case warmup
        /// The measurement.
        case measure
    }

    /// The point's number, from 1.
    public var index: Int
    /// Points in the grid (an upper bound: a configuration's scan may stop early).
    public var total: Int
    /// The configuration's name.
    public var configuration: String
    /// The load level as shown, e.g. "40/s" or "8 users".
    public var levelText: String
    /// The current part of the point.
    public var phase: Phase
    /// When the current part started.
    public var phaseStarted: ContinuousClock.Instant
    /// How long the current part runs at most.
    public var phaseDuration: Duration
    /// The longest a whole point takes (warm-up and measurement).
    public var pointDuration: Duration
    /// The measurement's share of ``pointDuration`` (what follows a warm-up).
    public var measureDuration: Duration

    /// A progress.
    public init(index: Int, total: Int, configuration: String, levelText: String, phase: Phase, phaseStarted: ContinuousClock.Instant,
                phaseDuration: Duration, pointDuration: Duration, measureDuration: Duration) {
        self.index = index; self.total = total; self.configuration = configuration; self.levelText = levelText
        self.phase = phase; self.phaseStarted = phaseStarted; self.phaseDuration = phaseDuration
        self.pointDuration = pointDuration; self.measureDuration = measureDuration
    }

    /// How long the current part has run at `now` (never negative, never past its duration).
    public func phaseElapsed(at now: ContinuousClock.Instant) -> Duration {
        min(max(.zero, now - phaseStarted), phaseDuration)
    }

    /// The most the sweep can still take at `now`: the rest of this part, the measurement
    /// after a warm-up, and every later point of the grid in full. An upper bound, because a
    /// stability rule or a configuration's early stop can end points sooner.
    public func timeLeft(at now: ContinuousClock.Instant) -> Duration {
        var left = phaseDuration - phaseElapsed(at: now)
        if phase == .warmup { left += measureDuration }
        return left + pointDuration * max(0, total - index)
    }
}
