import Foundation

/// A confidence interval on one figure, in the figure's unit.
public struct ConfidenceInterval: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }
    /// Whether `value` lies within the interval (bounds included).
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }
}

/// Confidence intervals on a run's whole-run figures, and how they were made.
///
/// Figures are named as `cicada diff` names them: `p(50)`, `p(90)`, `p(95)`, `p(99)`, `mean`
/// (corrected latency, ms), `raw.p(99)`, `raw.mean` ... (raw latency, ms), `qps` (per second),
/// `error_rate` (a fraction), and for streamed responses `ttft.p(99)`, `itl.p(99)`,
/// `tpot.p(99)` ... (ms). A figure the run did not measure has no interval.
public struct FigureIntervals: Sendable, Equatable {
    /// The confidence level (0.95).
    public var level: Double
    /// Bootstrap resamples drawn.
    public var resamples: Int
    /// The resampling's seed (the run's seed): the same report data and seed give the same intervals.
    public var seed: UInt64
    /// Repetitions resampled (runs with at least one measured window).
    public var repetitions: Int
    /// Windows over all repetitions, the seconds each covers (the longest, after merging), and
    /// the moving block length in windows (of the longest repetition).
    public var windows: Int
    public var secondsPerWindow: Int
    public var blockWindows: Int
    /// `block-bootstrap` (one run: moving blocks of per-second windows) or `two-stage-bootstrap`
    /// (repetitions resampled, then each chosen one's windows in moving blocks).
    public var method: String
    /// The intervals, by figure name.
    public var figures: [String: ConfidenceInterval]

    public init(level: Double, resamples: Int, seed: UInt64, repetitions: Int, windows: Int, secondsPerWindow: Int, blockWindows: Int,
                method: String, figures: [String: ConfidenceInterval]) {
        self.level = level; self.resamples = resamples; self.seed = seed; self.repetitions = repetitions; self.windows = windows
        self.secondsPerWindow = secondsPerWindow; self.blockWindows = blockWindows; self.method = method; self.figures = figures
    }

    /// The percentiles that carry an interval.
    public static let percentiles: [Double] = [50, 90, 95, 99]
    /// Every figure that may carry an interval, in report order.
    public static let figureOrder: [String] = {
        var out: [String] = []
        for prefix in ["", "raw."] { out += percentiles.map { "\(prefix)p(\(label($0)))" } + ["\(prefix)mean"] }
        out += ["qps", "error_rate"]
        for prefix in ["ttft.", "itl.", "tpot."] { out += percentiles.map { "\(prefix)p(\(label($0)))" } }
        return out
    }()

    static func label(_ p: Double) -> String { p == p.rounded() ? String(Int(p)) : String(p) }

    /// The point values of the figures in `snap` (the whole run), in the intervals' units; a
    /// figure not measured is left out.
    public static func points(of snap: Snapshot) -> [String: Double] { points(of: snap.total, qps: snap.qps) }

    /// The point values of one task's (or the run's) figures: `stats`' latencies and error rate,
    /// and `qps` as the report shows it; a figure not measured is left out.
    public static func points(of stats: RequestStats, qps: Double?) -> [String: Double] {
        var out: [String: Double] = [:]
        func put(_ prefix: String, _ h: LatencyHistogram?, mean: Bool) {
            guard let h, !h.isEmpty else { return }
            for p in percentiles { if let v = h.percentile(p) { out["\(prefix)p(\(label(p)))"] = Double(v) / 1000 } }
            if mean, let m = h.meanMicros { out["\(prefix)mean"] = m / 1000 }
        }
        put("", stats.corrected, mean: true)
        put("raw.", stats.raw, mean: true)
        put("ttft.", stats.llm?.ttft, mean: false)
        put("itl.", stats.llm?.itl, mean: false)
        put("tpot.", stats.llm?.tpot, mean: false)
        if let q = qps { out["qps"] = q }
        if let e = stats.errorRate { out["error_rate"] = e }
        return out
    }
}

/// Bootstrap confidence intervals over per-second windows (``SecondWindows``).
///
/// Requests in neighbouring seconds are not independent (a stall or a batch spans several), so
/// windows are resampled in moving blocks (Künsch's moving block bootstrap) of
/// `round(n^(1/3))` windows, the usual rate for a block length. With several repetitions the
/// resampling has two stages (a hierarchical bootstrap): the repetitions are drawn with
/// replacement, then each drawn repetition's windows in moving blocks. The first stage carries
/// the difference between runs (a server in another state, another neighbour on the host) into
/// the interval, which resampling pooled windows would hide; it errs wide, which is the safe
/// side for a CI gate. With one run it is the block bootstrap alone.
///
/// Each resample's histograms are added exactly (bucket counts), its percentiles read as
/// HdrHistogram reads them and clamped to the resample's exact min and max, its mean from exact
/// sums; the interval is the percentile interval of the resamples (2.5 % and 97.5 % at 95 %),
/// widened if needed to hold the run's own figure. Pure and seeded: the same windows and seed
/// give the same intervals.
public enum WindowBootstrap {
    /// Resamples drawn by default.
    public static let defaultResamples = 1000
    /// The default confidence level.
    public static let defaultLevel = 0.95

    /// The moving block length for `n` windows: `round(n^(1/3))`, at least 1.
    public static func blockLength(windows n: Int) -> Int { Swift.max(1, Int(Foundation.cbrt(Double(Swift.max(1, n))).rounded())) }

    /// Intervals on the figures in `points` (``FigureIntervals/points(of:)``: the pooled run's
    /// figures) from the windows of each repetition; nil when no repetition has a window.
    public static func intervals(runs: [SecondWindows], points: [String: Double], seed: UInt64,
                                 resamples: Int = defaultResamples, level: Double = defaultLevel) -> FigureIntervals? {
        let runs = runs.map { r in var r = r; r.flush(); return r }.filter { !$0.windows.isEmpty }
        guard !runs.isEmpty, resamples > 0 else { return nil }
        let windows = runs.flatMap(\.windows)
        var offsets: [Int] = []
        var o = 0
        for r in runs { offsets.append(o); o += r.windows.count }
        let seconds = runs.flatMap { r in r.windows.indices.map { r.seconds(of: $0) } }

        // Each wanted distribution's buckets over every window, flattened: indices into its
        // sorted union of bucket values, window by window, with each window's exact figures.
        struct Flat {
            var union: [UInt32] = [], index: [Int32] = [], counts: [UInt64] = [], start: [Int] = [0]
            var count: [UInt64] = [], sum: [Double] = [], lo: [UInt64] = [], hi: [UInt64] = []
            var names: [String] = [], mean: String?
        }
        let prefixes = ["", "raw.", "ttft.", "itl.", "tpot."]
        var flats: [(kind: SecondWindows.Kind, flat: Flat)] = []
        for k in SecondWindows.Kind.allCases {
            let prefix = prefixes[k.rawValue]
            let names = FigureIntervals.percentiles.map { "\(prefix)p(\(FigureIntervals.label($0)))" }
            guard names.contains(where: { points[$0] != nil }) else { continue }
            var f = Flat()
            var set = Set<UInt32>()
            for w in windows { set.formUnion(w[k].values) }
            f.union = set.sorted()
            var at: [UInt32: Int32] = [:]
            for (i, v) in f.union.enumerated() { at[v] = Int32(i) }
            for w in windows {
                let b = w[k]
                f.index += b.values.map { at[$0]! }
                f.counts += b.counts.map { UInt64($0) }
                f.start.append(f.index.count)
                f.count.append(b.count); f.sum.append(b.sumMicros); f.lo.append(b.minMicros); f.hi.append(b.maxMicros)
            }
            f.names = names
            f.mean = k == .corrected || k == .raw ? "\(prefix)mean" : nil
            flats.append((k, f))
        }
        let requestsOf = windows.map { Double($0.requests) }, failuresOf = windows.map { Double($0.failures) }
        let totalRequests = requestsOf.reduce(0, +)
        let totalSeconds = seconds.reduce(0, +)

        var rng = SeededRandom(seed: seed, stream: 0xB007)
        var replicates: [String: [Double]] = [:]
        var weight = [Int](repeating: 0, count: windows.count)
        var dense: [UInt64] = []
        var values = [Double](repeating: 0, count: FigureIntervals.percentiles.count)
        for _ in 0..<resamples {
            for i in weight.indices { weight[i] = 0 }
            let chosen = runs.count == 1 ? [0] : (0..<runs.count).map { _ in Int(rng.next() % UInt64(runs.count)) }
            for r in chosen {
                let n = runs[r].windows.count, l = Swift.min(blockLength(windows: n), n)
                var taken = 0
                while taken < n {
                    let start = Int(rng.next() % UInt64(n - l + 1))
                    for j in 0..<Swift.min(l, n - taken) { weight[offsets[r] + start + j] += 1 }
                    taken += l
                }
            }
            var requests = 0.0, failures = 0.0, secs = 0.0
            for i in windows.indices where weight[i] > 0 {
                let w = Double(weight[i])
                requests += w * requestsOf[i]; failures += w * failuresOf[i]; secs += w * seconds[i]
            }
            if let q = points["qps"], totalRequests > 0, secs > 0 {
                replicates["qps", default: []].append(q * (requests / secs) / (totalRequests / totalSeconds))
            }
            if points["error_rate"] != nil, requests > 0 { replicates["error_rate", default: []].append(failures / requests) }
            for (_, f) in flats {
                if dense.count < f.union.count { dense = Array(repeating: 0, count: f.union.count) }
                var count: UInt64 = 0, sum = 0.0, lo = UInt64.max, hi: UInt64 = 0
                dense.withUnsafeMutableBufferPointer { d in
                    for i in 0..<f.union.count { d[i] = 0 }
                    f.index.withUnsafeBufferPointer { idx in
                        f.counts.withUnsafeBufferPointer { cnt in
                            for i in windows.indices where weight[i] > 0 && f.count[i] > 0 {
                                let w = UInt64(weight[i])
                                for j in f.start[i]..<f.start[i + 1] { d[Int(idx[j])] &+= w &* cnt[j] }
                                count &+= w &* f.count[i]; sum += Double(w) * f.sum[i]
                                lo = Swift.min(lo, f.lo[i]); hi = Swift.max(hi, f.hi[i])
                            }
                        }
                    }
                }
                guard count > 0 else { continue }
                // HdrHistogram's valueAtPercentile: the first bucket whose running count reaches
                // ceil(p% of the count), clamped to the exact [min, max].
                var next = 0
                let ps = FigureIntervals.percentiles
                var target = Swift.max(1, UInt64((ps[0].nextDown * Double(count) / 100).rounded(.up)))
                var running: UInt64 = 0
                for i in 0..<f.union.count where next < ps.count {
                    running &+= dense[i]
                    while next < ps.count, running >= target {
                        values[next] = Double(Swift.min(Swift.max(UInt64(f.union[i]), lo), hi)) / 1000
                        next += 1
                        if next < ps.count { target = Swift.max(1, UInt64((ps[next].nextDown * Double(count) / 100).rounded(.up))) }
                    }
                }
                for (name, v) in zip(f.names, values) { replicates[name, default: []].append(v) }
                if let m = f.mean { replicates[m, default: []].append(sum / Double(count) / 1000) }
            }
        }

        var figures: [String: ConfidenceInterval] = [:]
        for (name, point) in points {
            guard var r = replicates[name], r.count * 2 >= resamples else { continue }
            r.sort()
            let alpha = (1 - level) / 2
            let lo = Swift.min(r.count - 1, Swift.max(0, Int((alpha * Double(r.count)).rounded(.down))))
            let hi = Swift.min(r.count - 1, Swift.max(0, Int(((1 - alpha) * Double(r.count)).rounded(.up)) - 1))
            figures[name] = ConfidenceInterval(lower: Swift.min(r[lo], point), upper: Swift.max(r[hi], point))
        }
        let longest = runs.max { $0.windows.count < $1.windows.count }!
        return FigureIntervals(level: level, resamples: resamples, seed: seed, repetitions: runs.count, windows: windows.count,
                               secondsPerWindow: runs.map(\.secondsPerWindow).max() ?? 1,
                               blockWindows: blockLength(windows: longest.windows.count),
                               method: runs.count == 1 ? "block-bootstrap" : "two-stage-bootstrap", figures: figures)
    }
}
