import CicadaCore

/// A `split:` run's live per-target panel: each member's weight now, its requests, its recent
/// request rate, its latency and error rate since the last step, and the canary verdict of the
/// step so far.
///
/// Built by ``DashboardController`` from the snapshots (whose ``Snapshot/splitSteps`` hold each
/// step window's exact per-member stats) and the shifts it asked for; the renderer only draws
/// it. The latency and error figures cover the current step (since the last `c`/`C`, or the
/// start), because that is what the step's verdict judges; the rate covers the last
/// ``recentSeconds`` of the run's clock, so a shift shows within seconds.
public struct SplitPanel: Sendable, Equatable {
    /// One member's line.
    public struct Row: Sendable, Equatable {
        /// The member's name.
        public var name: String
        /// Whether it is the baseline the others are judged against.
        public var baseline: Bool
        /// Its weight now (after the live steps).
        public var weight: Int
        /// Its requests over the whole run so far.
        public var requests: UInt64
        /// Its completed requests per second over the last ``SplitPanel/recentSeconds``; nil
        /// before two snapshots a second apart.
        public var qps: Double?
        /// Its requests in the current step.
        public var stepRequests: UInt64
        /// Corrected latency percentiles over the current step, microseconds; nil with no request.
        public var p50Micros: UInt64?
        public var p99Micros: UInt64?
        /// Failed / all of its requests in the current step; nil with none.
        public var errorRate: Double?

        public init(name: String, baseline: Bool, weight: Int, requests: UInt64, qps: Double?, stepRequests: UInt64,
                    p50Micros: UInt64?, p99Micros: UInt64?, errorRate: Double?) {
            self.name = name; self.baseline = baseline; self.weight = weight; self.requests = requests; self.qps = qps
            self.stepRequests = stepRequests; self.p50Micros = p50Micros; self.p99Micros = p99Micros; self.errorRate = errorRate
        }
    }

    /// The span of the rate column, seconds of the run's clock.
    public static let recentSeconds = 5.0

    /// One line per member, in the split's order.
    public var rows: [Row]
    /// The current step, numbered from 1 (1: the weights as written, before any shift).
    public var step: Int
    /// When the current step began, seconds since the run's start.
    public var stepStartSeconds: Double
    /// The canary verdict over the current step so far (a check needs ``minRequests`` a side).
    public var verdict: SplitVerdict
    /// The requests each side needs before a step's check is judged.
    public var minRequests: Int
    /// Earlier steps whose verdict failed, numbered from 1 (they fail the run whatever follows).
    public var failedSteps: [Int]

    public init(rows: [Row], step: Int, stepStartSeconds: Double, verdict: SplitVerdict, minRequests: Int, failedSteps: [Int] = []) {
        self.rows = rows; self.step = step; self.stepStartSeconds = stepStartSeconds; self.verdict = verdict
        self.minRequests = minRequests; self.failedSteps = failedSteps
    }
}
