import CicadaEngine

/// A scenario's `engine:` block: which modelled device to run, and the batching presets to
/// start with and cycle through. Validated by the reader with the same located errors as the
/// rest of the file.
public struct EngineSpec: Sendable {
    public var gpu: String
    public var model: String
    public var precision: String
    /// The preset the engine starts with.
    public var startPreset: String
    /// Every preset available (built-ins first, then the scenario's own, which may replace a
    /// built-in of the same name), in cycling order.
    public var presets: [(name: String, config: BatcherConfig)]
    public var cacheEnabled: Bool
    public var cacheTTL: Duration
    public var cacheEntries: Int
    public var predictOutputTokens: Int

    public init(gpu: String = "A100-80GB", model: String = "deepseek-llm-7b", precision: String = "fp16",
                startPreset: String = "seed", presets: [(name: String, config: BatcherConfig)] = BatcherConfig.presets,
                cacheEnabled: Bool = true, cacheTTL: Duration = .seconds(3600), cacheEntries: Int = 10_000, predictOutputTokens: Int = 1) {
        self.gpu = gpu; self.model = model; self.precision = precision; self.startPreset = startPreset; self.presets = presets
        self.cacheEnabled = cacheEnabled; self.cacheTTL = cacheTTL; self.cacheEntries = cacheEntries; self.predictOutputTokens = predictOutputTokens
    }

    /// The batching configuration the engine starts with.
    public var startBatching: BatcherConfig { presets.first { $0.name == startPreset }?.config ?? .seed }
}

/// A scenario file's whole content: the load test, and the embedded engine when it names one.
public struct ScenarioDocument: Sendable {
    public var scenario: CicadaCore.Scenario
    /// Present when `target: embedded` or an `engine:` block is given.
    public var engine: EngineSpec?
    /// Whether the scenario's target is the embedded engine.
    public var targetsEngine: Bool
    /// The grid for `cicada sweep`, when the file has a `sweep:` block.
    public var sweep: SweepSpec?
    /// Variants to run side by side, when the file has a `compare:` block.
    public var compare: CompareSpec?

    public init(scenario: CicadaCore.Scenario, engine: EngineSpec? = nil, targetsEngine: Bool = false, sweep: SweepSpec? = nil, compare: CompareSpec? = nil) {
        self.scenario = scenario; self.engine = engine; self.targetsEngine = targetsEngine; self.sweep = sweep; self.compare = compare
    }
}

import CicadaCore
