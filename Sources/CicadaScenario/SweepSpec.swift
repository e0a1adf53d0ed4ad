/// A scenario's `sweep:` block: the grid `cicada sweep` walks against the embedded engine.
public struct SweepSpec: Sendable, Equatable {
    /// Batching presets to compare (names from the engine block's presets).
    public var presets: [String]
    /// Open-model arrival rates to try for each preset, ascending.
    public var rates: [Double]
    /// Load before each measured point, not recorded.
    public var warmup: Duration
    /// Each point's measured duration.
    public var measure: Duration
    /// The latency objective a point must hold to count as sustainable.
    public var p99: Duration
    /// The error-rate objective (fraction).
    public var maxErrorRate: Double
    public init(presets: [String], rates: [Double], warmup: Duration = .seconds(2), measure: Duration = .seconds(10),
                p99: Duration = .milliseconds(100), maxErrorRate: Double = 0.01) {
        self.presets = presets; self.rates = rates; self.warmup = warmup; self.measure = measure; self.p99 = p99; self.maxErrorRate = maxErrorRate
    }
}
