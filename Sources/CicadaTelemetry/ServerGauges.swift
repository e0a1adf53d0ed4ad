/// Inference-server gauges from one scrape: KV-cache fill, requests running and waiting, queue and batch.
///
/// Each is optional, nil when the server does not export it. vLLM pre-allocates about 90% of GPU
/// memory for its KV cache at start, so GPU memory alone says little about headroom there:
/// ``kvCacheUsage`` is the figure that moves with load. When a scrape holds several series of a
/// family (several models, data-parallel ranks), counts are summed and the KV-cache fill is the
/// largest, the one that runs out first.
public struct ServerGauges: Sendable, Equatable {
    /// KV-cache fill, 0...1 (vLLM `kv_cache_usage_perc`, formerly `gpu_cache_usage_perc`; SGLang `token_usage`).
    public var kvCacheUsage: Double?
    /// Requests being executed (vLLM `num_requests_running`, SGLang `num_running_reqs`).
    public var requestsRunning: Double?
    /// Requests waiting to be scheduled (vLLM `num_requests_waiting`, SGLang `num_queue_reqs`).
    public var requestsWaiting: Double?
    /// Requests in the server's queue (TGI `tgi_queue_size`, Cicada engine `cicada_engine_queue_size`).
    public var queueSize: Double?
    /// Requests in the batch being run now (TGI `tgi_batch_current_size`).
    public var batchSize: Double?

    /// Creates gauges; every field defaults to absent.
    public init(kvCacheUsage: Double? = nil, requestsRunning: Double? = nil, requestsWaiting: Double? = nil, queueSize: Double? = nil, batchSize: Double? = nil) {
        self.kvCacheUsage = kvCacheUsage
        self.requestsRunning = requestsRunning
        self.requestsWaiting = requestsWaiting
        self.queueSize = queueSize
        self.batchSize = batchSize
    }

    /// True when no gauge is known.
    public var isEmpty: Bool {
        kvCacheUsage == nil && requestsRunning == nil && requestsWaiting == nil && queueSize == nil && batchSize == nil
    }
}
