/// Counts of durations in fixed buckets, for a Prometheus histogram that a scraper can take
/// differences of (two scrapes bracket a phase; the difference of their bucket counts is that
/// phase's distribution). A percentile read from it is only as fine as its bucket bounds.
///
/// Pure: the caller measures the duration with its own clock and records it.
public struct DurationBuckets: Sendable, Equatable {
    /// Upper bounds of the buckets in nanoseconds, ascending: about five per decade from 1 ms to
    /// 60 s, finer (about 10 per decade) between 10 ms and 1 s where admitted requests of the
    /// modelled devices land. The last, implicit, bucket is `+Inf`.
    public static let standardBoundsNanos: [UInt64] = [
        1, 2, 3, 5, 7.5,
        10, 12.5, 15, 20, 25, 30, 40, 50, 60, 75,
        100, 125, 150, 200, 250, 300, 400, 500, 600, 750,
        1_000, 1_250, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 7_500,
        10_000, 15_000, 20_000, 30_000, 60_000,
    ].map { (ms: Double) in UInt64(ms * 1_000_000) }

    /// Upper bounds (inclusive, as Prometheus' `le`), nanoseconds.
    public let boundsNanos: [UInt64]
    /// `counts[i]`: durations in `(bounds[i-1], bounds[i]]`; the last entry is above every bound.
    public private(set) var counts: [UInt64]
    /// Total recorded durations.
    public private(set) var count: UInt64 = 0
    /// Sum of the recorded durations, nanoseconds (saturating).
    public private(set) var sumNanos: UInt64 = 0

    /// Empty buckets with these ascending upper bounds.
    public init(boundsNanos: [UInt64] = DurationBuckets.standardBoundsNanos) {
        self.boundsNanos = boundsNanos
        self.counts = Array(repeating: 0, count: boundsNanos.count + 1)
    }

    /// Adds one duration.
    public mutating func record(nanos: UInt64) {
        // First bound >= nanos (binary search): `le` is inclusive.
        var lo = 0, hi = boundsNanos.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if boundsNanos[mid] >= nanos { hi = mid } else { lo = mid + 1 }
        }
        counts[lo] += 1
        count += 1
        sumNanos = sumNanos.addingReportingOverflow(nanos).overflow ? .max : sumNanos + nanos
    }

    /// Cumulative counts per bound, then the `+Inf` total: what a Prometheus histogram prints.
    public var cumulative: [UInt64] {
        var running: UInt64 = 0
        return counts.map { running += $0; return running }
    }
}
