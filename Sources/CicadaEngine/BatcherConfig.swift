/// The settings of the embedded engine's dynamic batcher, named and defaulted as Triton's
/// `dynamic_batching` block and `instance_group.count` are.
///
/// The field meanings follow Triton's model configuration (REFERENCE §6) so that a setting tuned
/// here carries over to a real Triton model, and a Triton config can be copied here by hand.
/// Decoding is lenient: a missing key takes the memberwise initialiser's default, so the admin
/// API can accept a partial JSON object. Call ``validate()`` before use; the state
/// machine clamps an invalid config rather than trapping, but it will not be what was asked for.
public struct BatcherConfig: Sendable, Equatable, Codable {
    /// What happens to a request whose queue timeout expires before it is dispatched.
    public enum TimeoutAction: String, Sendable, Equatable, Codable, CaseIterable {
        /// Fail the request with "Request timeout expired" (Triton `REJECT`).
        case reject
        /// Keep the request but move it behind the unexpired requests of its priority level
        /// (Triton `DELAY`): it is still served, only later.
        case delay
    }

    /// The largest number of requests sent to an instance in one execution (`max_batch_size`).
    public var maxBatchSize: Int
    /// Batch sizes worth sending as soon as they are reached (`preferred_batch_size`);
    /// empty means `[maxBatchSize]`.
    public var preferredBatchSizes: [Int]
    /// How long the oldest request may wait for a fuller batch (`max_queue_delay_microseconds`);
    /// 0 means never wait.
    public var maxQueueDelayMicros: UInt64
    /// The most requests that may wait in the queue (`max_queue_size`); 0 means unbounded.
    public var maxQueueSize: Int
    /// How long a request may wait before ``timeoutAction`` applies
    /// (`default_timeout_microseconds`); 0 means no timeout.
    public var defaultTimeoutMicros: UInt64
    /// What an expired request suffers (`timeout_action`).
    public var timeoutAction: TimeoutAction
    /// Whether a request may carry its own, shorter, timeout (`allow_timeout_override`).
    public var allowTimeoutOverride: Bool
    /// The number of priority levels (`priority_levels`); 0 or 1 means a single level.
    /// Levels run 1...N with 1 the highest, as in Triton.
    public var priorityLevels: Int
    /// The level of a request that names none or names one out of range
    /// (`default_priority_level`).
    public var defaultPriorityLevel: Int
    /// Whether responses must leave in request order (`preserve_ordering`).
    ///
    /// The batcher's dispatch does not depend on it: it is honoured where responses are
    /// returned, because only that side knows when each batch completes.
    public var preserveOrdering: Bool
    /// The number of executor instances sharing the one queue (`instance_group.count`).
    public var instanceCount: Int

    /// Creates a config; the defaults give one instance and no batching, as Triton's defaults do.
    public init(
        maxBatchSize: Int = 1,
        preferredBatchSizes: [Int] = [],
        maxQueueDelayMicros: UInt64 = 0,
        maxQueueSize: Int = 0,
        defaultTimeoutMicros: UInt64 = 0,
        timeoutAction: TimeoutAction = .reject,
        allowTimeoutOverride: Bool = false,
        priorityLevels: Int = 0,
        defaultPriorityLevel: Int = 0,
        preserveOrdering: Bool = false,
        instanceCount: Int = 1
    ) {
        self.maxBatchSize = maxBatchSize
        self.preferredBatchSizes = preferredBatchSizes
        self.maxQueueDelayMicros = maxQueueDelayMicros
        self.maxQueueSize = maxQueueSize
        self.defaultTimeoutMicros = defaultTimeoutMicros
        self.timeoutAction = timeoutAction
        self.allowTimeoutOverride = allowTimeoutOverride
        self.priorityLevels = priorityLevels
        self.defaultPriorityLevel = defaultPriorityLevel
        self.preserveOrdering = preserveOrdering
        self.instanceCount = instanceCount
    }

    private enum CodingKeys: String, CodingKey {
        case maxBatchSize, preferredBatchSizes, maxQueueDelayMicros, maxQueueSize
        case defaultTimeoutMicros, timeoutAction, allowTimeoutOverride, priorityLevels
        case defaultPriorityLevel, preserveOrdering, instanceCount
    }

    /// Decodes a config, taking the default for every missing key so partial objects are accepted.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BatcherConfig()
        maxBatchSize = try c.decodeIfPresent(Int.self, forKey: .maxBatchSize) ?? d.maxBatchSize
        preferredBatchSizes =
            try c.decodeIfPresent([Int].self, forKey: .preferredBatchSizes) ?? d.preferredBatchSizes
        maxQueueDelayMicros =
            try c.decodeIfPresent(UInt64.self, forKey: .maxQueueDelayMicros) ?? d.maxQueueDelayMicros
        maxQueueSize = try c.decodeIfPresent(Int.self, forKey: .maxQueueSize) ?? d.maxQueueSize
        defaultTimeoutMicros =
            try c.decodeIfPresent(UInt64.self, forKey: .defaultTimeoutMicros) ?? d.defaultTimeoutMicros
        timeoutAction =
            try c.decodeIfPresent(TimeoutAction.self, forKey: .timeoutAction) ?? d.timeoutAction
        allowTimeoutOverride =
            try c.decodeIfPresent(Bool.self, forKey: .allowTimeoutOverride) ?? d.allowTimeoutOverride
        priorityLevels = try c.decodeIfPresent(Int.self, forKey: .priorityLevels) ?? d.priorityLevels
        defaultPriorityLevel =
            try c.decodeIfPresent(Int.self, forKey: .defaultPriorityLevel) ?? d.defaultPriorityLevel
        preserveOrdering = try c.decodeIfPresent(Bool.self, forKey: .preserveOrdering) ?? d.preserveOrdering
        instanceCount = try c.decodeIfPresent(Int.self, forKey: .instanceCount) ?? d.instanceCount
    }

    /// The preferred sizes in effect: the configured ones, or `[maxBatchSize]` when none are set.
    public var effectivePreferredBatchSizes: [Int] {
        preferredBatchSizes.isEmpty ? [maxBatchSize] : preferredBatchSizes
    }

    /// The largest `maxBatchSize` accepted: the engine sizes per-batch tables by it, and the
    /// report's memory facts try each size up to it (quadratic in it).
    public static let maxBatchSizeLimit = 4_096
    /// The most model instances: each has its own state, allocated up front.
    public static let maxInstanceCount = 1_024
    /// The most priority levels: each has its own queue.
    public static let maxPriorityLevels = 1_000

    /// Every problem with this config, one sentence each; empty when it is usable.
    ///
    /// All problems are returned at once (as k6 does) so a user fixes a config in one pass.
    public func validate() -> [String] {
        var problems: [String] = []
        if maxBatchSize < 1 {
            problems.append("maxBatchSize must be at least 1 (got \(maxBatchSize)).")
        }
        if maxBatchSize > Self.maxBatchSizeLimit {
            problems.append("maxBatchSize must be at most \(Self.maxBatchSizeLimit) (got \(maxBatchSize)).")
        }
        if instanceCount > Self.maxInstanceCount {
            problems.append("instanceCount must be at most \(Self.maxInstanceCount) (got \(instanceCount)).")
        }
        if priorityLevels > Self.maxPriorityLevels {
            problems.append("priorityLevels must be at most \(Self.maxPriorityLevels) (got \(priorityLevels)).")
        }
        for size in preferredBatchSizes where size < 1 || size > max(maxBatchSize, 1) {
            problems.append(
                "preferredBatchSizes entry \(size) must lie within 1...maxBatchSize (\(maxBatchSize)).")
        }
        if Set(preferredBatchSizes).count != preferredBatchSizes.count {
            problems.append("preferredBatchSizes must not repeat a size (got \(preferredBatchSizes)).")
        }
        if maxQueueSize < 0 {
            problems.append("maxQueueSize must be 0 (unbounded) or positive (got \(maxQueueSize)).")
        }
        if priorityLevels < 0 {
            problems.append("priorityLevels must be 0 or positive (got \(priorityLevels)).")
        }
        if priorityLevels > 1 {
            if defaultPriorityLevel < 1 || defaultPriorityLevel > priorityLevels {
                problems.append(
                    "defaultPriorityLevel must lie within 1...priorityLevels (\(priorityLevels)) "
                        + "(got \(defaultPriorityLevel)).")
            }
        } else if defaultPriorityLevel < 0 || defaultPriorityLevel > 1 {
            problems.append(
                "defaultPriorityLevel must be 0 or 1 with a single priority level (got \(defaultPriorityLevel)).")
        }
        if instanceCount < 1 {
            problems.append("instanceCount must be at least 1 (got \(instanceCount)).")
        }
        return problems
    }
}

extension BatcherConfig {
    /// One request per execution, sent at once: the baseline every batching setting is judged by.
    public static let noBatching = BatcherConfig(maxBatchSize: 1, maxQueueDelayMicros: 0)

    /// The seed service's setting: preferred [16, 32, 64], 10 ms delay.
    ///
    /// REFERENCE §6 records it taking the seed service from 120 to 380 QPS with 95% of
    /// requests under 50 ms, so it is the reference point for "batching on".
    public static let seed = BatcherConfig(
        maxBatchSize: 64, preferredBatchSizes: [16, 32, 64], maxQueueDelayMicros: 10_000)

    /// Small batches and a 1 ms delay: trades throughput for tail latency.
    public static let lowLatency = BatcherConfig(
        maxBatchSize: 8, preferredBatchSizes: [4, 8], maxQueueDelayMicros: 1_000)

    /// Large batches and a 50 ms delay: trades latency for the most inferences per second.
    public static let throughput = BatcherConfig(
        maxBatchSize: 128, preferredBatchSizes: [64, 128], maxQueueDelayMicros: 50_000)

    /// The named settings in a fixed order (least to most batching, seed second), so a
    /// dashboard key can cycle through them and a sweep reports them in a stable order.
    public static let presets: [(name: String, config: BatcherConfig)] = [
        ("no-batching", .noBatching),
        ("seed", .seed),
        ("low-latency", .lowLatency),
        ("throughput", .throughput),
    ]

    /// The preset with this name, if any.
    public static func preset(named name: String) -> BatcherConfig? {
        presets.first { $0.name == name }?.config
    }

    /// A copy whose queue delay is multiplied by `factor` (rounded to the microsecond).
    ///
    /// A delay of 0 stays 0: "never wait" is a mode, not a small delay, so scaling it up would
    /// silently switch batching behaviour. A negative or non-finite factor leaves the delay
    /// unchanged; the result is capped at one hour to stay clear of nanosecond overflow.
    public func withQueueDelay(scaledBy factor: Double) -> BatcherConfig {
        guard factor.isFinite, factor >= 0 else { return self }
        let capMicros = 3_600_000_000.0
        let scaled = min((Double(maxQueueDelayMicros) * factor).rounded(), capMicros)
        var copy = self
        copy.maxQueueDelayMicros = UInt64(scaled)
        return copy
    }

    /// A copy with `maxBatchSize` set to `size` (at least 1), preferred sizes kept valid.
    ///
    /// Preferred sizes above the new maximum are dropped; if that leaves none of a non-empty
    /// list, the new maximum becomes the only preferred size, so a list the user set never turns
    /// into "empty" by accident (which would mean the same thing but read as "not configured").
    public func withMaxBatchSize(_ size: Int) -> BatcherConfig {
        var copy = self
        copy.maxBatchSize = max(1, size)
        if !preferredBatchSizes.isEmpty {
            let kept = preferredBatchSizes.filter { $0 >= 1 && $0 <= copy.maxBatchSize }
            copy.preferredBatchSizes = kept.isEmpty ? [copy.maxBatchSize] : kept
        }
        return copy
    }
}
