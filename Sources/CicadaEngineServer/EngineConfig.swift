import CicadaCore
import CicadaEngine

/// Everything the embedded engine needs to start: the modelled device, batching, cache and
/// HTTP limits. Built from a scenario's `engine:` block or `cicada serve` flags.
public struct EngineConfig: Sendable {
    /// GPU profile name (e.g. `A100-80GB`).
    public var gpu: String
    /// Model profile name (e.g. `deepseek-llm-7b`).
    public var model: String
    public var precision: Precision
    /// The batching configuration in force at start.
    public var batching: BatcherConfig
    /// Named batching presets the dashboard and sweeps can switch between.
    public var presets: [(name: String, config: BatcherConfig)]
    /// Result cache: off when `cacheEntries` is 0.
    public var cacheEntries: Int
    public var cacheBytes: Int
    public var cacheTTL: Duration
    /// Output tokens a `/predict` request generates (the seed's API has no max_tokens). The
    /// default 1 makes `/predict` one forward pass, like a classifier or a scoring call.
    public var predictOutputTokens: Int
    /// Largest accepted request body (413 above it).
    public var maxBodyBytes: Int
    /// Requests held at once (queued + executing); above it requests get 503 + Retry-After.
    public var maxInFlight: Int
    /// Bearer token required by `/admin/*` when set.
    public var adminToken: String?
    public var host: String
    /// 0 picks a free port.
    public var port: Int

    public init(gpu: String = "A100-80GB", model: String = "deepseek-llm-7b", precision: Precision = .fp16,
                batching: BatcherConfig = .seed, presets: [(name: String, config: BatcherConfig)] = BatcherConfig.presets,
                cacheEntries: Int = 10_000, cacheBytes: Int = 64 << 20, cacheTTL: Duration = .seconds(3600),
                predictOutputTokens: Int = 1, maxBodyBytes: Int = 1 << 20, maxInFlight: Int = 4096,
                adminToken: String? = nil, host: String = "127.0.0.1", port: Int = 0) {
        self.gpu = gpu; self.model = model; self.precision = precision; self.batching = batching; self.presets = presets
        self.cacheEntries = cacheEntries; self.cacheBytes = cacheBytes; self.cacheTTL = cacheTTL
        self.predictOutputTokens = predictOutputTokens; self.maxBodyBytes = maxBodyBytes; self.maxInFlight = maxInFlight
        self.adminToken = adminToken; self.host = host; self.port = port
    }
}
