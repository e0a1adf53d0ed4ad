import CicadaCore

/// Everything the embedded engine needs to start: the modelled device, batching, cache and
/// HTTP limits.
///
/// The one engine configuration type: the scenario reader fills it from an `engine:` block
/// (validating the names against ``GPUProfile``, ``ModelProfile`` and ``Precision``), `cicada
/// serve` from its flags, a `compare:` variant and a sweep point from a scenario's block, and
/// the engine server runs it. The GPU and model stay profile names so the server's own lookup
/// gives its error text for a name that was never validated.
public struct EngineConfig: Sendable {
    /// GPU profile name (e.g. `A100-80GB`), as ``GPUProfile/named(_:)`` accepts it.
    public var gpu: String
    /// Model profile name (e.g. `deepseek-llm-7b`), as ``ModelProfile/named(_:)`` accepts it.
    public var model: String
    /// The numeric precision the device runs the model in.
    public var precision: Precision
    /// The batching configuration in force at start.
    public var batching: BatcherConfig
    /// The name of the preset `batching` was taken from; nil for batching of no named preset.
    public var presetName: String?
    /// Named batching presets the dashboard and sweeps can switch between (built-ins first,
    /// then a scenario's own, which may replace a built-in of the same name), in cycling order.
    public var presets: [(name: String, config: BatcherConfig)]
    /// Result cache capacity in entries: off when 0.
    public var cacheEntries: Int
    /// Result cache capacity in bytes.
    public var cacheBytes: Int
    /// How long a cached result stays valid.
    public var cacheTTL: Duration
    /// The seed's embedding cache (`cache.embeddings`): how many inputs' modelled prefill work is
    /// kept, by input hash, so a batch skips the prefill of an input it has seen; 0: off.
    public var embeddingCacheEntries = 0
    /// The level-2 cache on Redis (`cache.l2`): read on a level-1 miss, written on every
    /// computed answer; nil: no level 2.
    public var l2: RedisL2Config? = nil
    /// How prompts and answers are counted in tokens (and answers spelled): the shipped
    /// `cicada-tiny` tokenizer unless `cicada serve --tokenizer` names another or the approximation.
    public var tokenizer: EngineTokenizer = .builtin
    /// Output tokens a `/predict` request generates (the seed's API has no max_tokens). The
    /// default 1 makes `/predict` one forward pass, like a classifier or a scoring call.
    public var predictOutputTokens: Int
    /// Largest accepted request body (413 above it).
    public var maxBodyBytes: Int
    /// Requests held at once (queued + executing); above it requests get 503 + Retry-After.
    public var maxInFlight: Int
    /// The scheduler: Triton's dynamic batcher (default) or vLLM-style continuous batching.
    public var scheduler: EngineScheduler = .dynamic
    /// Settings of the continuous scheduler (used when `scheduler` is `.continuous`).
    public var continuous = ContinuousSettings()
    /// Bearer token required by `/admin/*` when set.
    public var adminToken: String?
    /// Address to bind.
    public var host: String
    /// Port to bind; 0 picks a free port.
    public var port: Int

    /// A configuration; `presetName` defaults to the name of the preset equal to `batching`.
    public init(gpu: String = "A100-80GB", model: String = "deepseek-llm-7b", precision: Precision = .fp16,
                batching: BatcherConfig = .seed, presetName: String? = nil, presets: [(name: String, config: BatcherConfig)] = BatcherConfig.presets,
                cacheEntries: Int = 10_000, cacheBytes: Int = 64 << 20, cacheTTL: Duration = .seconds(3600),
                predictOutputTokens: Int = 1, maxBodyBytes: Int = 1 << 20, maxInFlight: Int = 4096,
                adminToken: String? = nil, host: String = "127.0.0.1", port: Int = 0) {
        self.gpu = gpu; self.model = model; self.precision = precision; self.batching = batching; self.presets = presets
        self.presetName = presetName ?? presets.first { $0.config == batching }?.name
        self.cacheEntries = cacheEntries; self.cacheBytes = cacheBytes; self.cacheTTL = cacheTTL
        self.predictOutputTokens = predictOutputTokens; self.maxBodyBytes = maxBodyBytes; self.maxInFlight = maxInFlight
        self.adminToken = adminToken; self.host = host; self.port = port
    }

    /// The preset called `name` in ``presets``, if any.
    public func preset(named name: String) -> BatcherConfig? { presets.first { $0.name == name }?.config }

    /// Starts with the preset called `name`; false (and no change) when there is none.
    @discardableResult
    public mutating func selectPreset(_ name: String) -> Bool {
        guard let c = preset(named: name) else { return false }
        batching = c
        presetName = name
        return true
    }

    /// Adds a preset, or replaces the one of the same name keeping its place in the cycle.
    public mutating func setPreset(_ name: String, _ config: BatcherConfig) {
        if let k = presets.firstIndex(where: { $0.name == name }) { presets[k].config = config } else { presets.append((name, config)) }
    }
}
