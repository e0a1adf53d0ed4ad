import CicadaCore

/// Everything the dashboard shows at one moment: a snapshot plus what the run and the
/// terminal know around it.
///
/// Built by the composition root once per frame; the renderer is a pure function of it, so
/// every screen state can be reproduced in a test from a hand-built model.
public struct DashboardModel: Sendable {
    /// The run's current statistics.
    public var snapshot: Snapshot
    /// The scenario's name.
    public var scenarioName: String
    /// What is under load, e.g. "http://127.0.0.1:8000" or "embedded engine: A100-80GB / deepseek-llm-7b".
    public var targetDescription: String
    /// The planned run length; nil for a run that lasts until stopped.
    public var runTime: Duration?
    /// Live verdicts of the scenario's thresholds.
    public var thresholds: [ThresholdResult]
    /// Per-second points of the run so far (charts read the last ``windowSeconds``).
    public var history: [TimelinePoint]
    /// User actions and run events, drawn as markers on the charts.
    public var events: [RunEvent]
    /// The chart span and the sliding window the panels name: 10, 60 or 300 seconds.
    public var windowSeconds: Int
    /// The p99 latency threshold, drawn as a line on the latency chart; nil for none.
    public var p99ThresholdMillis: Double?
    /// Whether the load is paused.
    public var paused: Bool
    /// Whether the key help overlay is shown.
    public var showHelp: Bool
    /// CPU use of the load generator process, in percent of one core; nil when unknown.
    public var generatorCPUPercent: Double?
    /// The embedded engine's state, when the run drives it.
    public var engine: EngineLine?
    /// Draw with UTF-8 braille, blocks and box lines; false for plain ASCII.
    public var unicode: Bool
    /// Draw with foreground colours; false under `NO_COLOR` (then only bold and reverse).
    public var color: Bool
    /// A transient status line, e.g. "engine: switched to preset seed".
    public var message: String?
    /// The variants of a `compare:` run, side by side (empty outside a comparison). The rest of
    /// the model (snapshot, history, engine) describes the focused one.
    public var variants: [VariantLine] = []
    /// Which of ``variants`` the charts, tables and engine panel show.
    public var focusedVariant: Int = 0
    /// What the figures mean so far (``DiagnosisRules``), newest first; the diagnoses panel
    /// appears when there is one.
    public var diagnoses: [Diagnosis] = []
    /// The shards of a distributed run (`cicada dash --shards`), one line each; the rest of the
    /// model describes the shards merged. Empty otherwise.
    public var shards: [ShardLine] = []
    /// A `split:` run's per-target panel (weights, rates, the current step's figures and its
    /// verdict); nil for a run without a split.
    public var split: SplitPanel?

    /// A model; everything but the snapshot and names has a quiet default.
    public init(snapshot: Snapshot, scenarioName: String, targetDescription: String, runTime: Duration? = nil,
                thresholds: [ThresholdResult] = [], history: [TimelinePoint] = [], events: [RunEvent] = [],
                windowSeconds: Int = 60, p99ThresholdMillis: Double? = nil, paused: Bool = false, showHelp: Bool = false,
                generatorCPUPercent: Double? = nil, engine: EngineLine? = nil, unicode: Bool = true, color: Bool = true,
                message: String? = nil) {
        self.snapshot = snapshot; self.scenarioName = scenarioName; self.targetDescription = targetDescription
        self.runTime = runTime; self.thresholds = thresholds; self.history = history; self.events = events
        self.windowSeconds = windowSeconds; self.p99ThresholdMillis = p99ThresholdMillis; self.paused = paused
        self.showHelp = showHelp; self.generatorCPUPercent = generatorCPUPercent; self.engine = engine
        self.unicode = unicode; self.color = color; self.message = message
    }
}

/// The embedded engine's batching settings and live figures, as the dashboard shows them.
///
/// Plain values rather than `CicadaEngine` types, so the dashboard depends only on the core.
public struct EngineLine: Sendable, Equatable {
    /// The batching preset in use.
    public var presetName: String
    /// The largest batch the batcher forms.
    public var maxBatchSize: Int
    /// Batch sizes the batcher prefers to release (Triton's `preferred_batch_size`).
    public var preferredBatchSizes: [Int]
    /// How long a request may wait for a batch to fill, in microseconds.
    public var maxQueueDelayMicros: UInt64
    /// Requests waiting in the batcher's queue now.
    public var queueSize: Int
    /// Mean size of the batches run so far; nil before the first.
    public var averageBatchSize: Double?
    /// How many batches of each size have run.
    public var batchSizes: [Int: UInt64]
    /// The result cache's hit rate (0...1); nil when the cache is off or unused.
    public var cacheHitRate: Double?
    /// What the figures come from, e.g. "modelled: A100-80GB / deepseek-llm-7b / fp16".
    public var label: String
    /// A continuous-batching engine's `max_num_seqs` (then `{` / `}` change it); nil for the
    /// dynamic batcher.
    public var maxNumSeqs: Int?
    /// A continuous-batching engine's KV blocks in use, 0...1 (modelled); nil otherwise.
    public var kvCacheUsage: Double?
    /// A continuous-batching engine's `max_num_batched_tokens` (then `[` / `]` change it); nil otherwise.
    public var maxNumBatchedTokens: Int?
    /// The level-2 (Redis) cache's hit rate, 0...1; nil without a level 2 or before a lookup.
    public var l2HitRate: Double?
    /// A continuous engine's prefix-cache hit rate (cached prompt tokens / looked-up ones); nil otherwise.
    public var prefixHitRate: Double?

    /// An engine line.
    public init(presetName: String, maxBatchSize: Int, preferredBatchSizes: [Int], maxQueueDelayMicros: UInt64, queueSize: Int,
                averageBatchSize: Double?, batchSizes: [Int: UInt64], cacheHitRate: Double?, label: String) {
        self.presetName = presetName; self.maxBatchSize = maxBatchSize; self.preferredBatchSizes = preferredBatchSizes
        self.maxQueueDelayMicros = maxQueueDelayMicros; self.queueSize = queueSize; self.averageBatchSize = averageBatchSize
        self.batchSizes = batchSizes; self.cacheHitRate = cacheHitRate; self.label = label
    }
}

/// One variant of a live comparison, as the dashboard's compare table and overlaid latency
/// chart show it. Windowed figures are over the model's window.
public struct VariantLine: Sendable {
    /// The variant's name from the scenario.
    public var name: String
    /// A short configuration label, e.g. "seed: max 8, 2ms" or the target URL.
    public var config: String
    /// Whether the other variants' changes are relative to this one.
    public var isBaseline: Bool
    /// Completed requests per second over the window; nil before any.
    public var qps: Double?
    /// Corrected latency percentiles over the window, microseconds; nil with no sample.
    public var p50: UInt64?
    public var p99: UInt64?
    /// Failed / all requests over the window; nil with none.
    public var errorRate: Double?
    /// Mean batch size (modelled), for an engine variant.
    public var averageBatchSize: Double?
    /// Modelled device memory in use / total, for an engine variant.
    public var memoryFraction: Double?
    /// Per-second points of this variant (for the overlaid p99 chart).
    public var history: [TimelinePoint]

    public init(name: String, config: String, isBaseline: Bool, qps: Double?, p50: UInt64?, p99: UInt64?, errorRate: Double?,
                averageBatchSize: Double? = nil, memoryFraction: Double? = nil, history: [TimelinePoint] = []) {
        self.name = name; self.config = config; self.isBaseline = isBaseline; self.qps = qps; self.p50 = p50; self.p99 = p99
        self.errorRate = errorRate; self.averageBatchSize = averageBatchSize; self.memoryFraction = memoryFraction; self.history = history
    }
}
