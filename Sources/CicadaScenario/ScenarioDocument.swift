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

    /// A document; the reader builds it, tests may too.
    public init(scenario: CicadaCore.Scenario, engine: EngineConfig? = nil, targetsEngine: Bool = false, sweep: SweepSpec? = nil, compare: CompareSpec? = nil) {
        self.scenario = scenario; self.engine = engine; self.targetsEngine = targetsEngine; self.sweep = sweep; self.compare = compare
    }
}
