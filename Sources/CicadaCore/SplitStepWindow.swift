/// A live change of a `split:` run's weights (the dashboard's `c`/`C`): when, on the run's
/// clock, and the weights from then on. Each one closes a step window and opens the next.
public struct SplitShift: Sendable, Equatable {
    /// When the weights changed, nanoseconds on the run's ``TimeSource``.
    public var atNanos: UInt64
    /// The weights in force from then on, in the split's member order.
    public var weights: [Int]

    public init(atNanos: UInt64, weights: [Int]) { self.atNanos = atNanos; self.weights = weights }
}

extension SplitSpec {
    /// The default of ``minRequests``: 50 requests on each side before a step window is judged,
    /// so a step that has just begun (or was cut short by the end of the run) cannot fail the
    /// run on a handful of requests, while a 10 % canary at 20 requests/s is judged within 30 s.
    public static let defaultMinRequests = 50
    /// How many step windows a run keeps apart: later shifts fold into the last window (marked
    /// ``SplitStepWindow/merged``), so memory stays bounded however often the keys are pressed.
    public static let maxStepWindows = 64
}

/// One step of a canary roll-out: the requests chosen from one live weight shift to the next
/// (the first window from the run's start), per member, and the verdict over that window alone.
///
/// A roll-out judges each step, not the whole run: a canary that is fine at 10 % and breaks at
/// 50 % must fail at 50 %, which a whole-run p99 dominated by the 10 % step would hide. The
/// windows are exact, not estimated from snapshots: each worker records a request into the
/// window whose weights chose its target (``RequestOutcome/splitStepSlot``), so a request in
/// flight across a shift counts in the step that sent it, and each window has its own
/// histograms (HdrHistogram, µs), not percentiles of a difference of snapshots.
public struct SplitStepWindow: Sendable {
    /// The window's number from 0 (0: the weights as written, before any shift).
    public var index: Int
    /// The weights in force during the window, in the split's member order.
    public var weights: [Int]
    /// When the window began and ended, seconds since the run's start (the first begins at 0;
    /// the last has no end: it ran to the end of the run).
    public var startSeconds: Double
    public var endSeconds: Double?
    /// Each member's figures over the window (nil: no request in it).
    public var stats: [RequestStats?]
    /// The verdict over the window alone: a check is judged only when both sides have at
    /// least ``SplitSpec/minRequests`` requests in it.
    public var verdict: SplitVerdict
    /// True when more shifts happened than ``SplitSpec/maxStepWindows`` keeps: the later
    /// steps' requests are in this last window too.
    public var merged: Bool

    public init(index: Int, weights: [Int], startSeconds: Double, endSeconds: Double?, stats: [RequestStats?], verdict: SplitVerdict, merged: Bool = false) {
        self.index = index; self.weights = weights; self.startSeconds = startSeconds; self.endSeconds = endSeconds
        self.stats = stats; self.verdict = verdict; self.merged = merged
    }

    /// Whether any of the window's checks was judged (false: "not enough data", or no bounds).
    public var judged: Bool { verdict.checks.contains { $0.passed != nil } }

    /// The windows of a run: `cumulative` holds each window's stats per member (index window ·
    /// members + member, as ``Snapshot/splitSteps``), `shifts` the live changes that opened
    /// windows 1, 2, ... Empty when neither holds anything (a snapshot without per-step figures).
    public static func windows(spec: SplitSpec, cumulative: [RequestStats], shifts: [SplitShift], runStartNanos: UInt64) -> [SplitStepWindow] {
        let n = spec.members.count
        guard n > 0, !cumulative.isEmpty || !shifts.isEmpty else { return [] }
        let recorded = (cumulative.count + n - 1) / n
        let count = min(SplitSpec.maxStepWindows, max(shifts.count + 1, recorded))
        func seconds(_ nanos: UInt64) -> Double { Double(nanos &- min(runStartNanos, nanos)) / 1e9 }
        return (0..<count).map { k in
            let stats: [RequestStats?] = (0..<n).map { m in
                let i = k * n + m
                return i < cumulative.count && cumulative[i].requests > 0 ? cumulative[i] : nil
            }
            let opened = k == 0 ? nil : (k - 1 < shifts.count ? shifts[k - 1] : nil)
            let closed = k < shifts.count ? shifts[k] : nil
            let last = k == count - 1
            return SplitStepWindow(index: k, weights: opened?.weights ?? (k == 0 ? spec.weights : shifts.last?.weights ?? spec.weights),
                                   startSeconds: opened.map { seconds($0.atNanos) } ?? 0,
                                   endSeconds: last ? nil : closed.map { seconds($0.atNanos) },
                                   stats: stats, verdict: SplitVerdict(spec: spec, stats: stats, minRequests: spec.minRequests),
                                   merged: last && shifts.count > k)
        }
    }
}

extension SplitVerdict {
    /// How a verdict stands, for a one-word label (a step window's, the live panel's).
    public enum State: String, Sendable {
        /// Every judged check held, and at least one was judged.
        case passed
        /// A judged check did not hold.
        case failed
        /// Bounds are set but no check had enough data to be judged.
        case notEnoughData = "not_enough_data"
        /// No bounds (`split.verdict`) are set.
        case noBounds = "no_bounds"
    }

    /// Where the verdict stands: failed beats passed beats not enough data.
    public var state: State {
        if checks.isEmpty { return .noBounds }
        if checks.contains(where: { $0.passed == false }) { return .failed }
        return checks.contains(where: { $0.passed == true }) ? .passed : .notEnoughData
    }
}
