/// One sample line of the Prometheus text format: name, labels, value and optional timestamp.
///
/// The name is the full sample name (`x_bucket`, `x_sum`), not the family name, so histogram
/// and summary parts stay distinguishable after they are grouped under their family.
public struct PrometheusSample: Sendable, Equatable {
    /// The sample's metric name as written, e.g. `vllm:time_to_first_token_seconds_bucket`.
    public var name: String
    /// The labels in the order they were written.
    public var labels: [PrometheusLabel]
    /// The value; may be NaN or an infinity.
    public var value: Double
    /// Milliseconds since the Unix epoch, when the exporter wrote one.
    public var timestampMillis: Int64?

    /// Creates a sample.
    public init(name: String, labels: [PrometheusLabel] = [], value: Double, timestampMillis: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestampMillis = timestampMillis
    }

    /// The value of the label called `name`, or nil when the sample has no such label.
    public func label(_ name: String) -> String? {
        for label in labels where label.name == name { return label.value }
        return nil
    }
}
