import CicadaCore

/// A live weight shift the controller asked for (`c`/`C`): the weights and when, on the run's
/// clock (the focused lane's elapsed seconds when the key was pressed).
public struct SplitShiftMark: Sendable, Equatable {
    public var weights: [Int]
    public var atSeconds: Double
    public init(weights: [Int], atSeconds: Double) { self.weights = weights; self.atSeconds = atSeconds }
}

/// Each member's whole-run request count at one snapshot's elapsed time: what the panel's
/// recent rate is the difference of.
struct SplitSample: Sendable {
    var t: Double
    var counts: [UInt64]
}

extension DashboardController {
    /// Each member's whole-run requests in `snapshot` (its `.target` breakdown group).
    static func splitCounts(_ split: SplitSpec, _ snapshot: Snapshot) -> [UInt64] {
        split.members.map { m in
            guard let g = snapshot.groupKeys.firstIndex(of: .target(m.name)), g < snapshot.groups.count else { return 0 }
            return snapshot.groups[g].requests
        }
    }

    /// Member stats of step window `k` in `snapshot` (nil: no request in it).
    static func stepStats(_ split: SplitSpec, _ snapshot: Snapshot, window k: Int) -> [RequestStats?] {
        let n = split.members.count
        return (0..<n).map { m in
            let i = k * n + m
            return i < snapshot.splitSteps.count && snapshot.splitSteps[i].requests > 0 ? snapshot.splitSteps[i] : nil
        }
    }

    /// Keeps the samples the recent rate needs: this snapshot's counts, and the older ones back
    /// to ``SplitPanel/recentSeconds`` before it. A reset (`r`: counts went down) starts afresh.
    mutating func noteSplitSample(_ snapshot: Snapshot) {
        guard let split = configuration.split, !comparing else { return }
        let counts = Self.splitCounts(split, snapshot)
        let t = snapshot.elapsed.seconds
        if let last = splitSamples.last, last.t > t || zip(last.counts, counts).contains(where: { $0 > $1 }) { splitSamples = [] }
        splitSamples.append(SplitSample(t: t, counts: counts))
        while splitSamples.count > 2, splitSamples[1].t <= t - SplitPanel.recentSeconds { splitSamples.removeFirst() }
    }

    /// The split panel for the focused (only) lane's latest snapshot; nil without a split.
    public func splitPanel() -> SplitPanel? {
        guard let split = configuration.split, !comparing, let snapshot = lanes[0].snapshot else { return nil }
        let k = min(splitShifts.count, SplitSpec.maxStepWindows - 1)
        let weights = splitShifts.last?.weights ?? split.weights
        let whole = Self.splitCounts(split, snapshot)
        let step = Self.stepStats(split, snapshot, window: k)
        // The rate over the samples' span: from the oldest kept sample to the newest, when a
        // second or more apart.
        var rates: [Double?] = Array(repeating: nil, count: split.members.count)
        if let first = splitSamples.first, let last = splitSamples.last, last.t - first.t >= 1 {
            rates = zip(first.counts, last.counts).map { a, b in b >= a ? Double(b - a) / (last.t - first.t) : nil }
        }
        let rows = split.members.indices.map { i in
            let s = step[i]
            return SplitPanel.Row(name: split.members[i].name, baseline: i == split.baselineIndex, weight: i < weights.count ? weights[i] : 0,
                                  requests: whole[i], qps: rates[i], stepRequests: s?.requests ?? 0,
                                  p50Micros: s?.corrected.percentile(50), p99Micros: s?.corrected.percentile(99),
                                  errorRate: s.map { Double($0.failures) / Double($0.requests) })
        }
        let failed = (0..<k).filter { j in
            !SplitVerdict(spec: split, stats: Self.stepStats(split, snapshot, window: j), minRequests: split.minRequests).passed
        }.map { $0 + 1 }
        return SplitPanel(rows: rows, step: k + 1, stepStartSeconds: k == 0 ? 0 : splitShifts[k - 1].atSeconds,
                          verdict: SplitVerdict(spec: split, stats: step, minRequests: split.minRequests),
                          minRequests: split.minRequests, failedSteps: failed)
    }
}
