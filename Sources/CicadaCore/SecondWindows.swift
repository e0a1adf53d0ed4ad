/// A run's measured requests, filed by the second of the run they were handed over in: the
/// per-second windows a ``WindowBootstrap`` resamples to put a confidence interval on the
/// run's figures.
///
/// Each window keeps its latency distributions (corrected and raw, and TTFT, ITL and TPOT for
/// streams) as sparse HdrHistogram buckets (only the non-empty ones, 8 bytes each, with the
/// window's exact count, sum, min and max per distribution), plus its request and failure
/// counts. Warm-up and cool-down requests are in no window (they are in no figure).
///
/// Memory is bounded whatever the run length: at most ``capacity`` windows (600 by default);
/// when a run outgrows them, neighbouring windows are merged pair by pair and each window then
/// covers twice as many seconds (``secondsPerWindow``), as ``Timeline`` halves its resolution.
/// A window holds at most one bucket per distinct HdrHistogram bucket that second (at most the
/// number of requests in it, and at most 23,552 per distribution at three significant digits).
///
/// A task's windows (``init(capacity:stat:)``) file only that stat name's requests, and only
/// their corrected and raw latencies (the figures a task carries in the report): one per task
/// beside the run's own, so the memory is bounded by the tasks times the run's.
public struct SecondWindows: Sendable, Equatable {
    /// The distributions a window keeps.
    public enum Kind: Int, Sendable, CaseIterable {
        case corrected, raw, ttft, itl, tpot
    }

    /// One distribution of one window: sparse buckets in increasing value order.
    public struct Buckets: Sendable, Equatable {
        /// Each non-empty bucket's value (µs, HdrHistogram's highest equivalent value).
        public var values: [UInt32] = []
        /// Its count, index for index.
        public var counts: [UInt32] = []
        /// Exact count, sum (µs), minimum and maximum (µs) of the values recorded.
        public var count: UInt64 = 0
        public var sumMicros: Double = 0
        public var minMicros: UInt64 = .max
        public var maxMicros: UInt64 = 0
        public init() {}

        /// Adds a histogram's buckets.
        mutating func add(_ h: LatencyHistogram) {
            guard !h.isEmpty else { return }
            add(h.buckets().map { (UInt32(clamping: $0.micros), UInt32(clamping: $0.count)) },
                count: h.count, sum: h.sumMicros, min: h.minMicros, max: h.maxMicros)
        }

        /// Adds another window's buckets.
        mutating func add(_ o: Buckets) {
            guard o.count > 0 else { return }
            add(Array(zip(o.values, o.counts)), count: o.count, sum: o.sumMicros, min: o.minMicros, max: o.maxMicros)
        }

        private mutating func add(_ pairs: [(UInt32, UInt32)], count c: UInt64, sum: Double, min lo: UInt64, max hi: UInt64) {
            var v: [UInt32] = [], n: [UInt32] = []
            v.reserveCapacity(values.count + pairs.count); n.reserveCapacity(values.count + pairs.count)
            var i = 0, j = 0
            while i < values.count || j < pairs.count {
                if j == pairs.count || (i < values.count && values[i] < pairs[j].0) {
                    v.append(values[i]); n.append(counts[i]); i += 1
                } else if i == values.count || pairs[j].0 < values[i] {
                    v.append(pairs[j].0); n.append(pairs[j].1); j += 1
                } else {
                    v.append(values[i]); n.append(counts[i] &+ pairs[j].1); i += 1; j += 1
                }
            }
            values = v; counts = n
            count = count.addingSaturating(c); sumMicros += sum
            minMicros = Swift.min(minMicros, lo); maxMicros = Swift.max(maxMicros, hi)
        }
    }

    /// What was measured in one window.
    public struct Window: Sendable, Equatable {
        public var requests: UInt64 = 0
        public var failures: UInt64 = 0
        /// One entry per ``Kind``, in its order.
        public var distributions: [Buckets] = Array(repeating: Buckets(), count: Kind.allCases.count)
        public init() {}

        /// This window's distribution of `kind`.
        public subscript(kind: Kind) -> Buckets { distributions[kind.rawValue] }

        mutating func add(_ o: Window) {
            requests = requests.addingSaturating(o.requests); failures = failures.addingSaturating(o.failures)
            for k in distributions.indices { distributions[k].add(o.distributions[k]) }
        }
    }

    /// The windows, in time order; an empty window is a window with no measured request.
    public private(set) var windows: [Window] = []
    /// Seconds each window covers (doubles each time the windows are merged pairwise).
    public private(set) var secondsPerWindow = 1
    /// The most windows kept.
    public let capacity: Int
    private var firstSecond: Int64?
    /// The second being filled, as whole histograms by ``Kind`` (nil: nothing of that kind yet).
    private var openSecond: Int64?
    private var open: [LatencyHistogram?] = []
    private var openRequests: UInt64 = 0, openFailures: UInt64 = 0
    /// Where the run's measured span ended (seconds since the start), once ``close(atSeconds:)``
    /// said it: the last window covers only up to there.
    public private(set) var endSeconds: Double?

    /// The stat (task) index whose requests are filed; nil for every request of the run.
    public let stat: Int?

    /// - Parameter capacity: the most windows kept (at least 2).
    public init(capacity: Int = 600) { self.capacity = Swift.max(2, capacity); stat = nil }

    /// Windows of one task's requests only (stat index `stat`): requests, failures, corrected
    /// and raw latency (no per-token distributions).
    public init(capacity: Int = 600, stat: Int) { self.capacity = Swift.max(2, capacity); self.stat = stat }

    /// One set of windows per task (stat indexes `0..<count`).
    public static func perTask(count: Int, capacity: Int = 600) -> [SecondWindows] {
        (0..<Swift.max(0, count)).map { SecondWindows(capacity: capacity, stat: $0) }
    }

    /// Files the measured requests of a worker's interval under `second` (seconds since the
    /// run's start, as the ``Aggregator`` files them). Windows run from the first second with
    /// a measured request; seconds between with none are empty windows (a stalled server).
    ///
    /// The second being filled is kept as whole histograms (added as the aggregator adds them,
    /// about 1 MB at most) and made sparse once, when a later second starts or at ``flush()``:
    /// turning every interval's histograms into buckets would cost a scan of each per interval.
    public mutating func add(_ delta: IntervalStats, second: Int64) {
        if let s = openSecond, s != second { flush() }
        for (i, s) in delta.perStat.enumerated() where s.requests > 0 && (stat == nil || stat == i) {
            if open.isEmpty { open = Array(repeating: nil, count: Kind.allCases.count) }
            openSecond = second
            openRequests += s.requests; openFailures += s.failures
            merge(s.corrected, into: .corrected)
            merge(s.raw, into: .raw)
            if stat == nil, let l = s.llm { merge(l.ttft, into: .ttft); merge(l.itl, into: .itl); merge(l.tpot, into: .tpot) }
        }
    }

    private mutating func merge(_ h: LatencyHistogram, into kind: Kind) {
        guard !h.isEmpty else { return }
        if open[kind.rawValue] == nil { open[kind.rawValue] = LatencyHistogram() }
        open[kind.rawValue]!.merge(h)
    }

    /// Files the second being filled as a window (sparse buckets). ``close(atSeconds:)`` and
    /// the bootstrap do it; call it before reading ``windows`` directly.
    public mutating func flush() {
        guard let second = openSecond else { return }
        var w = Window()
        w.requests = openRequests; w.failures = openFailures
        for (k, h) in open.enumerated() { if let h { w.distributions[k].add(h) } }
        open = Array(repeating: nil, count: Kind.allCases.count)
        openSecond = nil; openRequests = 0; openFailures = 0
        add(w, second: second)
    }

    /// Files a window's worth of figures under `second` (seconds since the run's start).
    public mutating func add(_ w: Window, second: Int64) {
        guard w.requests > 0 else { return }
        let first = firstSecond ?? second
        firstSecond = first
        var index = Int(Swift.max(0, second - first)) / secondsPerWindow
        while index >= capacity {
            compact()
            index = Int(Swift.max(0, second - first)) / secondsPerWindow
        }
        while windows.count <= index { windows.append(Window()) }
        windows[index].add(w)
    }

    /// Forgets everything (a statistics reset).
    public mutating func reset() {
        windows = []; secondsPerWindow = 1; firstSecond = nil; endSeconds = nil
        open = []; openSecond = nil; openRequests = 0; openFailures = 0
    }

    /// Says where the run ended (seconds since its start), so the last, partial window's time
    /// is known (a throughput resample divides by the windows' time).
    public mutating func close(atSeconds t: Double) { flush(); endSeconds = t }

    /// The seconds window `i` covers: ``secondsPerWindow``, except the last one, which ends
    /// where the run did (at least a millisecond).
    public func seconds(of i: Int) -> Double {
        let full = Double(secondsPerWindow)
        guard i == windows.count - 1, let end = endSeconds, let first = firstSecond else { return full }
        return Swift.max(0.001, Swift.min(full, end - Double(first) - Double(i * secondsPerWindow)))
    }

    /// Merges neighbouring windows pairwise: half the windows, each twice as long.
    private mutating func compact() {
        var out: [Window] = []
        out.reserveCapacity(windows.count / 2 + 1)
        var i = 0
        while i < windows.count {
            var w = windows[i]
            if i + 1 < windows.count { w.add(windows[i + 1]) }
            out.append(w)
            i += 2
        }
        windows = out
        secondsPerWindow *= 2
    }
}
