/// The type a `# TYPE` line gives a Prometheus metric family.
///
/// Families without a TYPE line are ``untyped``, as Prometheus treats them. The type decides
/// which sample names belong to the family: a histogram owns `_bucket`, `_sum` and `_count`, a
/// summary owns `_sum`, `_count` and its quantile samples.
public enum PrometheusMetricType: String, Sendable, Equatable, CaseIterable {
    /// A value that only goes up (and resets to zero on restart).
    case counter
    /// A value that goes up and down.
    case gauge
    /// Cumulative buckets (`_bucket{le=...}`) with `_sum` and `_count`.
    case histogram
    /// Quantiles (`{quantile=...}`) with `_sum` and `_count`.
    case summary
    /// No TYPE line, or `# TYPE name untyped`.
    case untyped
}
