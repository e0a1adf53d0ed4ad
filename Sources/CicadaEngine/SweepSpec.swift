/// A scenario's `sweep:` block: the grid `cicada sweep` walks, configurations by load levels.
public struct SweepSpec: Sendable, Equatable {
    /// One configuration a sweep measures at every load level.
    public struct Configuration: Sendable, Equatable {
        /// What is measured.
        public enum Kind: Sendable, Equatable {
            /// A fresh embedded engine with this batching (the engine block's device and model).
            case engine(BatcherConfig)
            /// A server named in the sweep's `targets:`.
            case target(String)
            /// A fresh embedded engine running the continuous scheduler with these settings (the
            /// engine block's device, model and other continuous keys; a grid point's
            /// `max_num_seqs` and `max_num_batched_tokens`).
            case continuous(ContinuousSettings)
        }
        /// The configuration's name in the table: a preset name, a grid point such as
        /// `seed/b16/d5ms/i2`, or a target's name.
        public var name: String
        public var kind: Kind
        public init(name: String, kind: Kind) { self.name = name; self.kind = kind }
    }

    /// What the load levels are.
    public enum Axis: String, Sendable, Equatable {
        /// Open-model arrival rates per second (the scenario's `arrival:` process).
        case rate
        /// Closed-model user counts, all started at once (the scenario's `wait_time`).
        case concurrency
    }

    /// When a point has measured enough: `windows` consecutive windows of `window` whose
    /// throughput and mean latency each vary by at most `tolerance` (max/min - 1), as
    /// perf_analyzer's `--stability-percentage` over its last three measurements.
    public struct Stability: Sendable, Equatable {
        /// Consecutive windows that must agree.
        public var windows: Int
        /// The length of one window.
        public var window: Duration
        /// e.g. 0.1 for 10%.
        public var tolerance: Double
        public init(windows: Int = 3, window: Duration = .seconds(2), tolerance: Double = 0.1) {
            self.windows = windows; self.window = window; self.tolerance = tolerance
        }
    }

    /// The configurations, in the order given (presets, then the grid, then targets).
    public var configurations: [Configuration]
    public var axis: Axis
    /// Arrival rates or user counts to try for each configuration, ascending.
    public var levels: [Double]
    /// Load before each measured point, not recorded.
    public var warmup: Duration
    /// Each point's time limit (the whole measurement when `stability` is nil).
    public var measure: Duration
    /// Stop measuring a point once it is stable; nil measures for `measure` exactly.
    public var stability: Stability?
    /// The latency objective a point must hold to count as sustainable.
    public var p99: Duration
    /// The error-rate objective (fraction).
    public var maxErrorRate: Double

    public init(configurations: [Configuration], axis: Axis = .rate, levels: [Double], warmup: Duration = .seconds(2),
                measure: Duration = .seconds(10), stability: Stability? = Stability(), p99: Duration = .milliseconds(100), maxErrorRate: Double = 0.01) {
        self.configurations = configurations; self.axis = axis; self.levels = levels; self.warmup = warmup; self.measure = measure
        self.stability = stability; self.p99 = p99; self.maxErrorRate = maxErrorRate
    }

    /// The configurations' names.
    public var names: [String] { configurations.map(\.name) }
    /// Whether any configuration runs on the embedded engine.
    public var usesEngine: Bool {
        configurations.contains { c in
            switch c.kind {
            case .engine, .continuous: return true
            case .target: return false
            }
        }
    }

    /// The grid a continuous engine's sweep walks when its `sweep:` block names no `grid`,
    /// `presets` or `targets`: vLLM's default `max_num_seqs` (256) and two below it, by its
    /// chunked-prefill default token budget (8192 here) and half of it.
    public static let defaultContinuousGrid = (maxNumSeqs: [64, 128, 256], maxNumBatchedTokens: [4096, 8192])

    /// A continuous grid point's configuration name: `cont/s64/t8192`.
    public static func continuousGridName(maxNumSeqs: Int, maxNumBatchedTokens: Int) -> String {
        "cont/s\(maxNumSeqs)/t\(maxNumBatchedTokens)"
    }

    /// One configuration per (`max_num_seqs`, `max_num_batched_tokens`) pair over `base`, in
    /// that order; pairs whose settings are invalid (a token budget below `max_num_seqs`) are
    /// left out and returned with the reason.
    public static func continuousGrid(base: ContinuousSettings, maxNumSeqs: [Int], maxNumBatchedTokens: [Int]) -> (configurations: [Configuration], skipped: [String]) {
        var out: [Configuration] = [], skipped: [String] = []
        for seqs in maxNumSeqs {
            for tokens in maxNumBatchedTokens {
                var c = base
                c.maxNumSeqs = seqs
                c.maxNumBatchedTokens = tokens
                let name = continuousGridName(maxNumSeqs: seqs, maxNumBatchedTokens: tokens)
                let problems = c.validate()
                if problems.isEmpty { out.append(Configuration(name: name, kind: .continuous(c))) } else { skipped.append("\(name): " + problems.joined(separator: "; ")) }
            }
        }
        return (out, skipped)
    }

    /// The grid's configuration name: `base/b16/d5ms/i2` with only the axes given.
    public static func gridName(base: String, maxBatchSize: Int?, delayMicros: UInt64?, instances: Int?) -> String {
        var parts = [base]
        if let b = maxBatchSize { parts.append("b\(b)") }
        if let d = delayMicros {
            parts.append(d % 1000 == 0 ? "d\(d / 1000)ms" : "d\(d)us")
        }
        if let i = instances { parts.append("i\(i)") }
        return parts.joined(separator: "/")
    }
}
