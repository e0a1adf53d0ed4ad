/// One summary series (a label set) of a Prometheus summary family.
///
/// Built by ``PrometheusFamily/summaries`` from the quantile samples, `_sum` and `_count` that
/// share labels other than `quantile`.
public struct PrometheusSummary: Sendable, Equatable {
    /// One precomputed quantile, e.g. quantile 0.99 with its value.
    public struct Quantile: Sendable, Equatable {
        /// The quantile in 0...1.
        public var quantile: Double
        /// The observed value at that quantile (NaN when the exporter had no observations).
        public var value: Double

        /// Creates a quantile.
        public init(quantile: Double, value: Double) {
            self.quantile = quantile
            self.value = value
        }
    }

    /// The series' labels without `quantile`, in their written order.
    public var labels: [PrometheusLabel]
    /// Quantiles sorted ascending.
    public var quantiles: [Quantile]
    /// The `_sum` sample, when present.
    public var sum: Double?
    /// The `_count` sample, when present.
    public var count: Double?

    /// Creates a summary series.
    public init(labels: [PrometheusLabel], quantiles: [Quantile] = [], sum: Double? = nil, count: Double? = nil) {
        self.labels = labels
        self.quantiles = quantiles
        self.sum = sum
        self.count = count
    }
}
