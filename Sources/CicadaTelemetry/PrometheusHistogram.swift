/// One histogram series (a label set) of a Prometheus histogram family.
///
/// Built by ``PrometheusFamily/histograms`` from the `_bucket`, `_sum` and `_count` samples that
/// share labels other than `le`. Bucket counts are cumulative, as the text format writes them.
public struct PrometheusHistogram: Sendable, Equatable {
    /// One cumulative bucket: the count of observations less than or equal to `upperBound`.
    public struct Bucket: Sendable, Equatable {
        /// The bucket's `le` bound; `+Inf` for the last bucket.
        public var upperBound: Double
        /// Observations at or below `upperBound`.
        public var cumulativeCount: Double

        /// Creates a bucket.
        public init(upperBound: Double, cumulativeCount: Double) {
            self.upperBound = upperBound
            self.cumulativeCount = cumulativeCount
        }
    }

    /// The series' labels without `le`, in their written order.
    public var labels: [PrometheusLabel]
    /// Buckets sorted by upper bound.
    public var buckets: [Bucket]
    /// The `_sum` sample, when present.
    public var sum: Double?
    /// The `_count` sample, when present.
    public var count: Double?

    /// Creates a histogram series.
    public init(labels: [PrometheusLabel], buckets: [Bucket] = [], sum: Double? = nil, count: Double? = nil) {
        self.labels = labels
        self.buckets = buckets
        self.sum = sum
        self.count = count
    }
}
