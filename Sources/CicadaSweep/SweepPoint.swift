import CicadaCore
import CicadaEngine

/// One measured point of a sweep: a configuration at a load level.
public struct SweepPoint: Sendable, Equatable {
    /// The configuration's name (a preset, a grid point or a target).
    public var preset: String
    /// The load level: offered arrivals per second, or users for a concurrency sweep.
    public var rate: Double
    /// What ``rate`` is.
    public var axis: SweepSpec.Axis = .rate
    /// Whether the point stopped because its windows agreed (nil: measured for a fixed time;
    /// false: still unstable at the time limit).
    public var stable: Bool?
    /// Seconds the reported figures cover (the stable windows, or the whole measurement).
    public var measuredSeconds: Double?
    /// Completed requests per second.
    public var achievedQPS: Double
    /// Corrected latency percentiles in ms; nil with no completed request.
    public var p50Millis: Double?
    public var p99Millis: Double?
    public var errorRate: Double?
    /// Requests that failed because the batch did not fit the modelled GPU memory.
    public var outOfMemory: UInt64
    public var averageBatchSize: Double?
    /// Peak modelled device memory used / total.
    public var memoryFraction: Double?
    /// Whether the measurement was cut short from the live sweep's dashboard (`n` skipped the
    /// point, or `q` stopped the sweep during it): the figures cover only ``measuredSeconds``
    /// and the point is never counted as holding its objectives (its verdict is `skipped`).
    public var skipped = false
    /// Output tokens per second over the measurement (LLM streams that reported or were counted
    /// tokens); nil when the workload produced none.
    public var outputTokensPerSecond: Double?
    /// The consistency probe's findings over the measurement (`consistency:`: the same request
    /// sent again and again, each answer compared with the point's first); nil when the scenario
    /// has no probe.
    public var consistency: ConsistencySummary?

    public init(preset: String, rate: Double, achievedQPS: Double, p50Millis: Double?, p99Millis: Double?, errorRate: Double?,
                outOfMemory: UInt64, averageBatchSize: Double?, memoryFraction: Double?) {
        self.preset = preset; self.rate = rate; self.achievedQPS = achievedQPS; self.p50Millis = p50Millis; self.p99Millis = p99Millis
        self.errorRate = errorRate; self.outOfMemory = outOfMemory; self.averageBatchSize = averageBatchSize; self.memoryFraction = memoryFraction
    }

    /// How the point fared against the objectives.
    public enum Verdict: String, Sendable, Equatable {
        /// Held the latency and error objectives and kept up with the offered rate.
        case holds
        /// Answered, but too slowly (p99 over the objective) or, for an arrival rate, not keeping up.
        case slow
        /// Too many errors.
        case errors
        /// Batches did not fit the modelled GPU memory: reported as such, never as slow.
        case outOfMemory = "out_of_memory"
        /// Cut short from the dashboard (``SweepPoint/skipped``): a partial measurement, shown
        /// and reported but no evidence that the level holds, so it is left out of the
        /// sustainable throughput, the Pareto front and the recommendation.
        case skipped
    }

    /// The verdict against a p99 objective (ms) and an error-rate objective.
    public func verdict(p99Millis slo: Double, maxErrorRate: Double) -> Verdict {
        if outOfMemory > 0 { return .outOfMemory }
        if skipped { return .skipped }
        if (errorRate ?? 1) > maxErrorRate { return .errors }
        guard let p99 = p99Millis, p99 < slo else { return .slow }
        // An open-model point must also keep up with what it was offered.
        if axis == .rate, achievedQPS < 0.95 * rate { return .slow }
        return .holds
    }
}
