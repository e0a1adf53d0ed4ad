import CicadaCore

/// One run the dashboard follows, as ``DashboardController`` holds it: a single run, or one
/// variant of a comparison.
///
/// Plain values only: the driver feeds in the latest snapshot with its threshold verdicts, the
/// per-second points and the engine's figures; the dashboard never reads a run or an engine.
public struct DashboardLane: Sendable {
    /// The scenario's name for a run, the variant's for a comparison.
    public var name: String
    /// What the load goes to (a run's target, a variant's configuration).
    public var config: String
    /// Whether the other variants are compared against this one.
    public var isBaseline: Bool
    /// The run's p99 latency threshold in milliseconds, drawn on the latency chart; nil for none.
    public var p99ThresholdMillis: Double?
    /// The engine's batching preset the `b` key moved to last (the one in use at the start).
    public var presetIndex: Int
    /// The latest snapshot; nil before the first.
    public internal(set) var snapshot: Snapshot?
    /// The run's threshold verdicts on ``snapshot``.
    public internal(set) var thresholds: [ThresholdResult] = []
    /// The lane's engine figures now; nil when it drives no engine.
    public internal(set) var engine: EngineReading?
    /// Per-second points, the last ``DashboardLane/historyLimit`` of them.
    public internal(set) var history: [TimelinePoint] = []
    /// The diagnoses on ``snapshot``, newest first, each with the time its rule first fired.
    public internal(set) var diagnoses: [Diagnosis] = []
    /// When each rule first fired.
    var diagnosisLog = DiagnosisLog()

    /// How many per-second points a lane keeps (the longest chart span is 300 s).
    public static let historyLimit = 600

    /// A lane with no data yet.
    public init(name: String, config: String, isBaseline: Bool = true, p99ThresholdMillis: Double? = nil, presetIndex: Int = 0) {
        self.name = name; self.config = config; self.isBaseline = isBaseline
        self.p99ThresholdMillis = p99ThresholdMillis; self.presetIndex = presetIndex
    }
}

/// The embedded engine's figures one lane shows, read by the driver from the engine.
///
/// Plain values rather than engine types, so the dashboard depends only on the core.
public struct EngineReading: Sendable, Equatable {
    /// The batching settings and live figures of the engine panel.
    public var line: EngineLine
    /// Modelled device memory in use / total; nil when the total is unknown.
    public var memoryFraction: Double?
    /// The names of the batching presets the `b` key cycles through, in order.
    public var presetNames: [String]
    /// The engine's `http://host:port`.
    public var baseURL: String

    /// A reading.
    public init(line: EngineLine, memoryFraction: Double?, presetNames: [String], baseURL: String) {
        self.line = line; self.memoryFraction = memoryFraction; self.presetNames = presetNames; self.baseURL = baseURL
    }
}
