import CicadaCore
import CicadaEngine

/// A scenario file's whole content: the load test, and the embedded engine when it names one.
public struct ScenarioDocument: Sendable {
    /// The load test: target, requests, load model, thresholds.
    public var scenario: CicadaCore.Scenario
    /// Present when `target: embedded` or an `engine:` block is given.
    public var engine: EngineConfig?
    /// Whether the scenario's target is the embedded engine.
    public var targetsEngine: Bool
    /// The grid for `cicada sweep`, when the file has a `sweep:` block.
    public var sweep: SweepSpec?
    /// Variants to run side by side, when the file has a `compare:` block.
    public var compare: CompareSpec?
    /// The embedded engines of a `split:` block's members, by member name (each gets its own).
    public var splitEngines: [String: EngineConfig] = [:]
    /// Every file the scenario names (prompts, a baseline report...), as written and resolved.
    public var dataFiles: [ScenarioDataFile]

    /// A document; the reader builds it, tests may too.
    public init(scenario: CicadaCore.Scenario, engine: EngineConfig? = nil, targetsEngine: Bool = false, sweep: SweepSpec? = nil, compare: CompareSpec? = nil,
                dataFiles: [ScenarioDataFile] = []) {
        self.scenario = scenario; self.engine = engine; self.targetsEngine = targetsEngine; self.sweep = sweep; self.compare = compare
        self.dataFiles = dataFiles
    }
}

/// A file a scenario names: its path as written in the YAML (relative to the scenario's folder
/// unless absolute), the path it resolves to, and the key that names it.
public struct ScenarioDataFile: Sendable, Equatable {
    /// As written in the scenario, e.g. `data/prompts.jsonl`.
    public var path: String
    /// Resolved against the scenario file's folder.
    public var resolved: String
    /// The key path that names it, e.g. `prompts` or `baseline.file`.
    public var key: String
    public init(path: String, resolved: String, key: String) { self.path = path; self.resolved = resolved; self.key = key }
}
