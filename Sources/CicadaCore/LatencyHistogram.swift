import Histogram

/// A latency distribution in **microseconds**, 1 µs .. 1 h at 3 significant digits.
///
/// Backed by HdrHistogram so memory is fixed whatever the run length, and merging per-worker
/// histograms is an element-wise add (percentiles cannot be averaged; histograms can be
/// merged). The exact minimum and maximum are kept beside the buckets and every percentile is
/// clamped into [min, max], so a percentile never exceeds the observed maximum nor falls below
/// the minimum (Locust's rounding does both). Values above one hour are recorded as one hour.
public struct LatencyHistogram: Sendable, Equatable {
    /// The largest value tracked, in microseconds (one hour).
    public static let highestMicros: UInt64 = 3_600_000_000

    /// Internal (not private) for ``HdrHistogramCodec``, which reads and restores its buckets.
    var histogram: Histogram<UInt64>
    /// Exact smallest recorded value (µs); `UInt64.max` when empty.
    public private(set) var minMicros: UInt64 = .max
    /// Exact largest recorded value (µs); 0 when empty.
    public private(set) var maxMicros: UInt64 = 0
    /// Exact sum of recorded values (µs), for an exact mean.
    public private(set) var sumMicros: Double = 0

    public init() {
        histogram = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: Self.highestMicros, numberOfSignificantValueDigits: .three)
    }

    /// A histogram restored from its buckets and its exact min, max and sum (``HdrHistogramCodec``).
    init(restoring histogram: Histogram<UInt64>, minMicros: UInt64, maxMicros: UInt64, sumMicros: Double) {
        self.histogram = histogram; self.minMicros = minMicros; self.maxMicros = maxMicros; self.sumMicros = sumMicros
    }

    /// Number of recorded values.
    public var count: UInt64 { histogram.totalCount }
    public var isEmpty: Bool { histogram.totalCount == 0 }

    /// Records one value in microseconds (0 is recorded as 1 µs).
    @inlinable
    public mutating func record(micros: UInt64) {
        record(micros: micros, count: 1)
    }

    /// Records `count` occurrences of a value in microseconds.
    public mutating func record(micros: UInt64, count: UInt64) {
        guard count > 0 else { return }
        let v = Swift.min(Swift.max(micros, 1), Self.highestMicros)
        _ = histogram.record(v, count: count)
        if v < minMicros { minMicros = v }
        if v > maxMicros { maxMicros = v }
        sumMicros += Double(v) * Double(count)
    }

    /// Records a value given in nanoseconds (rounded to the nearest microsecond).
    public mutating func record(nanos: UInt64) { record(micros: (nanos + 500) / 1000) }

    /// Adds every value of `other` into this histogram.
    public mutating func merge(_ other: LatencyHistogram) {
        guard !other.isEmpty else { return }
        histogram.add(other.histogram)
        minMicros = Swift.min(minMicros, other.minMicros)
        maxMicros = Swift.max(maxMicros, other.maxMicros)
        sumMicros += other.sumMicros
    }

    /// Removes every value.
    public mutating func reset() {
        histogram.reset()
        minMicros = .max; maxMicros = 0; sumMicros = 0
    }

    /// The value (µs) at percentile `p` (0...100), clamped to [min, max]; nil when empty.
    public func percentile(_ p: Double) -> UInt64? {
        guard !isEmpty else { return nil }
        if p <= 0 { return minMicros }
        if p >= 100 { return maxMicros }
        return Swift.min(Swift.max(histogram.valueAtPercentile(p), minMicros), maxMicros)
    }

    /// Exact mean in microseconds; nil when empty.
    public var meanMicros: Double? { isEmpty ? nil : sumMicros / Double(count) }
    /// Smallest value (µs); nil when empty.
    public var min: UInt64? { isEmpty ? nil : minMicros }
    /// Largest value (µs); nil when empty.
    public var max: UInt64? { isEmpty ? nil : maxMicros }

    /// The fraction of recorded values at or below `micros` (0...1); nil when empty.
    public func fraction(atOrBelow micros: UInt64) -> Double? {
        guard !isEmpty else { return nil }
        if micros >= maxMicros { return 1 }
        if micros < minMicros { return 0 }
        return histogram.count(within: 0...micros) > 0 ? Double(histogram.count(within: 0...micros)) / Double(count) : 0
    }

    /// How many recorded values are at or below `micros` (to HdrHistogram's precision; exact
    /// at and beyond the recorded min and max); 0 when empty.
    public func count(atOrBelow micros: UInt64) -> UInt64 {
        guard !isEmpty, micros >= minMicros else { return 0 }
        if micros >= maxMicros { return count }
        return histogram.count(within: 0...micros)
    }

    /// (value µs, count) for each distinct recorded bucket, in increasing order.
    /// (The bucket's highest equivalent value, as HdrHistogram's `recordedValues()` gives it; read
    /// bucket by bucket, since that iterator also sums count × value in `UInt64` and can trap.)
    public func buckets() -> [(micros: UInt64, count: UInt64)] {
        HdrHistogramCodec.nonEmpty(self).map { (histogram.highestEquivalentForValue(HdrHistogramCodec.value(atIndex: $0.index)), $0.count) }
    }

    public static func == (a: LatencyHistogram, b: LatencyHistogram) -> Bool {
        a.histogram == b.histogram && a.minMicros == b.minMicros && a.maxMicros == b.maxMicros
    }
}
