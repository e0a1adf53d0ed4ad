/// Which scheduler the embedded engine runs (`engine: {scheduler: ...}`).
public enum EngineScheduler: String, Sendable, CaseIterable {
    /// Triton's dynamic batcher: static batches that run to their longest request's end.
    case dynamic
    /// vLLM's iteration-level scheduling with a paged KV cache (``ContinuousScheduler``).
    case continuous
}

/// What a continuous engine does with a sequence it must evict for KV blocks.
public enum PreemptionMode: String, Sendable, CaseIterable {
    /// Free its blocks and compute its KV again when it is readmitted (vLLM's default and,
    /// since vLLM V1, its only mode).
    case recompute
}

/// The continuous scheduler's settings, with vLLM's engine-argument names and meanings.
///
/// The KV cache is not given in blocks: like vLLM, the engine sizes it from the device memory
/// left after the weights and the workspace at `gpuMemoryUtilization`
/// (``DeviceModel/kvCacheBlocks(blockSize:gpuMemoryUtilization:maxNumBatchedTokens:maxNumSeqs:)``).
public struct ContinuousSettings: Sendable, Equatable {
    /// Most sequences running at once (`max_num_seqs`, vLLM's default 256).
    public var maxNumSeqs: Int
    /// Most tokens one iteration computes: prefill chunks plus one per decoding sequence
    /// (`max_num_batched_tokens`; 8192 is vLLM's default for online serving with chunked prefill).
    public var maxNumBatchedTokens: Int
    /// Tokens per KV block (`block_size`, vLLM's default 16).
    public var blockSize: Int
    /// Fraction of the device memory the engine may use for weights, workspace and KV cache
    /// (`gpu_memory_utilization`, vLLM's default 0.9).
    public var gpuMemoryUtilization: Double
    /// Split a long prompt's prefill across iterations (`enable_chunked_prefill`).
    public var chunkedPrefill: Bool
    /// What happens to a sequence evicted for blocks (`preemption_mode`).
    public var preemption: PreemptionMode
    /// Reuse the KV blocks of prompts that start alike (`enable_prefix_caching`; on by default,
    /// as in vLLM V1).
    public var prefixCaching = true

    /// vLLM's defaults unless given.
    public init(maxNumSeqs: Int = 256, maxNumBatchedTokens: Int = 8192, blockSize: Int = 16, gpuMemoryUtilization: Double = 0.9,
                chunkedPrefill: Bool = true, preemption: PreemptionMode = .recompute) {
        self.maxNumSeqs = maxNumSeqs; self.maxNumBatchedTokens = maxNumBatchedTokens; self.blockSize = blockSize
        self.gpuMemoryUtilization = gpuMemoryUtilization; self.chunkedPrefill = chunkedPrefill; self.preemption = preemption
    }

    /// Block sizes vLLM accepts on CUDA.
    public static let blockSizes = [1, 8, 16, 32, 64, 128]

    /// The most sequences in a step: the scheduler sizes its tables by it.
    public static let maxNumSeqsLimit = 65_536
    /// The most tokens in a step: the device model's workspace grows with it (and overflowed
    /// near `Int.max`).
    public static let maxNumBatchedTokensLimit = 10_000_000

    /// Problems with the settings alone (the device is not needed for these), each naming its key.
    public func validate() -> [String] {
        var p: [String] = []
        if maxNumSeqs < 1 { p.append("max_num_seqs must be at least 1") }
        if maxNumSeqs > Self.maxNumSeqsLimit { p.append("max_num_seqs must be at most \(Self.maxNumSeqsLimit), found \(maxNumSeqs)") }
        if maxNumBatchedTokens > Self.maxNumBatchedTokensLimit {
            p.append("max_num_batched_tokens must be at most \(Self.maxNumBatchedTokensLimit), found \(maxNumBatchedTokens)")
        }
        if !Self.blockSizes.contains(blockSize) { p.append("block_size must be one of \(Self.blockSizes.map(String.init).joined(separator: ", ")) (vLLM's choices), found \(blockSize)") }
        if !(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1) { p.append("gpu_memory_utilization must be in (0, 1], found \(gpuMemoryUtilization)") }
        if maxNumBatchedTokens < maxNumSeqs { p.append("max_num_batched_tokens (\(maxNumBatchedTokens)) must be at least max_num_seqs (\(maxNumSeqs))") }
        return p
    }

    /// The scheduler configuration on `device`: the KV blocks that fit, and these limits.
    public func schedulerConfig(on device: DeviceModel) -> ContinuousScheduler.Config {
        ContinuousScheduler.Config(
            maxNumSeqs: maxNumSeqs, maxNumBatchedTokens: maxNumBatchedTokens, blockSize: blockSize,
            totalBlocks: device.kvCacheBlocks(blockSize: blockSize, gpuMemoryUtilization: gpuMemoryUtilization,
                                              maxNumBatchedTokens: maxNumBatchedTokens, maxNumSeqs: maxNumSeqs),
            chunkedPrefill: chunkedPrefill, prefixCaching: prefixCaching)
    }
}
