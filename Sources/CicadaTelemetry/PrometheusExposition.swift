/// A parsed Prometheus scrape: every metric family, in order of first appearance, findable by name.
///
/// The mapper in ``KnownFamilies`` reads the families it knows from here; every other family
/// stays reachable by name, so a scenario or a report can use a metric Cicada has no mapping for.
public struct PrometheusExposition: Sendable, Equatable {
    /// The families in order of first appearance.
    public let families: [PrometheusFamily]
    private let indexByName: [String: Int]

    /// Creates an exposition; if two families share a name, the first is found by name.
    public init(families: [PrometheusFamily]) {
        self.families = families
        var index: [String: Int] = [:]
        for (i, family) in families.enumerated() where index[family.name] == nil { index[family.name] = i }
        indexByName = index
    }

    /// The family called `name` (for histograms and summaries: the name without suffix).
    public func family(named name: String) -> PrometheusFamily? {
        indexByName[name].map { families[$0] }
    }

    /// The family called `name`; the same as ``family(named:)``.
    public subscript(name: String) -> PrometheusFamily? { family(named: name) }

    /// The family names in order of first appearance.
    public var familyNames: [String] { families.map(\.name) }

    /// The number of samples over all families.
    public var sampleCount: Int { families.reduce(0) { $0 + $1.samples.count } }
}
