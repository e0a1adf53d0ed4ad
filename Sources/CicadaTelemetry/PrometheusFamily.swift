/// A Prometheus metric family: its name, type, help text and every sample that belongs to it.
///
/// Histogram and summary samples (`_bucket`, `_sum`, `_count`, quantiles) are grouped under the
/// family named by their TYPE line, so a reader asks for `vllm:time_to_first_token_seconds` and
/// gets the whole histogram; ``histograms`` and ``summaries`` regroup them per label set.
public struct PrometheusFamily: Sendable, Equatable {
    /// The family name (for histograms and summaries, without the `_bucket`/`_sum`/`_count` suffix).
    public var name: String
    /// The declared type, or ``PrometheusMetricType/untyped`` without a TYPE line.
    public var type: PrometheusMetricType
    /// The HELP text with `\\` and `\n` resolved; nil without a HELP line, "" for an empty one.
    public var help: String?
    /// The samples in the order they appeared.
    public var samples: [PrometheusSample]

    /// Creates a family.
    public init(name: String, type: PrometheusMetricType = .untyped, help: String? = nil, samples: [PrometheusSample] = []) {
        self.name = name
        self.type = type
        self.help = help
        self.samples = samples
    }

    /// Samples whose name is exactly the family name (for a histogram: none; for a summary: its quantiles).
    public var plainSamples: [PrometheusSample] { samples.filter { $0.name == name } }

    /// The histogram series of this family, one per label set other than `le`, in order of appearance.
    ///
    /// Empty unless the family is a histogram. Buckets are sorted by upper bound; a series with
    /// missing `_sum`, `_count` or `+Inf` bucket (as in elided documentation captures) is kept
    /// with those parts absent rather than rejected.
    public var histograms: [PrometheusHistogram] {
        guard type == .histogram else { return [] }
        return series(apartFrom: "le").map { group in
            var h = PrometheusHistogram(labels: group.labels)
            for sample in group.samples {
                if sample.name == name + "_bucket", let le = sample.label("le"), let bound = PrometheusText.parseFloat(le) {
                    h.buckets.append(.init(upperBound: bound, cumulativeCount: sample.value))
                } else if sample.name == name + "_sum" {
                    h.sum = sample.value
                } else if sample.name == name + "_count" {
                    h.count = sample.value
                }
            }
            h.buckets.sort { $0.upperBound < $1.upperBound }
            return h
        }
    }

    /// The summary series of this family, one per label set other than `quantile`, in order of appearance.
    ///
    /// Empty unless the family is a summary. Quantiles are sorted ascending.
    public var summaries: [PrometheusSummary] {
        guard type == .summary else { return [] }
        return series(apartFrom: "quantile").map { group in
            var s = PrometheusSummary(labels: group.labels)
            for sample in group.samples {
                if sample.name == name, let q = sample.label("quantile"), let quantile = PrometheusText.parseFloat(q) {
                    s.quantiles.append(.init(quantile: quantile, value: sample.value))
                } else if sample.name == name + "_sum" {
                    s.sum = sample.value
                } else if sample.name == name + "_count" {
                    s.count = sample.value
                }
            }
            s.quantiles.sort { $0.quantile < $1.quantile }
            return s
        }
    }

    /// The samples grouped into series by their labels other than `label` (in any order), in
    /// order of first appearance; each series keeps its first sample's labels (without `label`).
    private func series(apartFrom label: String) -> [(labels: [PrometheusLabel], samples: [PrometheusSample])] {
        var groups: [(labels: [PrometheusLabel], samples: [PrometheusSample])] = []
        var index: [[PrometheusLabel]: Int] = [:]
        for sample in samples {
            let labels = sample.labels.filter { $0.name != label }
            let key = labels.sorted { $0.name < $1.name }
            if let i = index[key] {
                groups[i].samples.append(sample)
            } else {
                index[key] = groups.count
                groups.append((labels, [sample]))
            }
        }
        return groups
    }
}
