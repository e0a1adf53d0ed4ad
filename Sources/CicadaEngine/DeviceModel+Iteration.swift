/// Timing and memory of iteration-level (continuous) batching on the modelled device.
extension DeviceModel {
    /// The roofline bounds of one continuous-batching iteration: `prefillTokens` prompt tokens
    /// (chunks of any number of sequences) and one decode token for each of `decodeSequences`
    /// sequences that together hold `decodeContextTokens` tokens in their caches, fused in one
    /// forward pass as vLLM runs them.
    ///
    /// Compute: `2 x active params x (prefill + decode tokens)`. Memory: the weights read once
    /// for the whole pass (``ModelProfile/parametersRead(tokens:)`` of all its tokens), the
    /// prefill tokens' KV written and the decoding sequences' cached KV read. With no decodes
    /// this is ``prefill(tokens:)``; with no prefill it is
    /// ``decodeStep(batchSize:contextTokens:)``; mixed, it is less than the two apart because
    /// one weight read serves both (what makes chunked prefill pay). Per-iteration launch and
    /// scheduling costs are folded into the efficiencies, as for a decode step.
    public func iteration(prefillTokens: Int, decodeSequences: Int, decodeContextTokens: Int) -> RooflineTime {
        let prefill = max(prefillTokens, 0), decode = max(decodeSequences, 0)
        let tokens = prefill + decode
        guard tokens > 0 else { return RooflineTime(compute: .zero, memory: .zero) }
        let operations = 2 * Double(model.activeParameters) * Double(tokens)
        let bytes = model.parametersRead(tokens: tokens) * Double(precision.bytesPerValue)
            + Double(prefill + (decode > 0 ? max(decodeContextTokens, 0) : 0)) * Double(kvCacheBytesPerToken)
        return RooflineTime(compute: .fromSeconds(operations / effectiveOpsPerSecond), memory: .fromSeconds(bytes / effectiveBytesPerSecond))
    }

    /// How long one iteration takes: the slower of its compute and memory bounds (see
    /// ``iteration(prefillTokens:decodeSequences:decodeContextTokens:)``).
    public func iterationTime(prefillTokens: Int, decodeSequences: Int, decodeContextTokens: Int) -> Duration {
        iteration(prefillTokens: prefillTokens, decodeSequences: decodeSequences, decodeContextTokens: decodeContextTokens).time
    }

    /// The workspace a continuous engine reserves: the runtime reserve, one layer's activations
    /// for an iteration of `maxNumBatchedTokens` tokens, and fp32 logits for `maxNumSeqs`
    /// sequences (vLLM profiles a forward pass of that size at start for the same purpose).
    public func continuousWorkspaceBytes(maxNumBatchedTokens: Int, maxNumSeqs: Int) -> Int {
        calibration.runtimeReserveBytes + max(maxNumBatchedTokens, 0) * model.activationValuesPerToken * precision.bytesPerValue
            + max(maxNumSeqs, 0) * model.vocabSize * 4
    }

    /// The KV blocks a continuous engine allocates at start, as vLLM sizes its cache: the
    /// device memory times `gpuMemoryUtilization`, less the weights and the workspace
    /// (``continuousWorkspaceBytes(maxNumBatchedTokens:maxNumSeqs:)``), divided by the bytes of
    /// one block (`blockSize x KV bytes per token`). 0 when nothing is left.
    public func kvCacheBlocks(blockSize: Int, gpuMemoryUtilization: Double, maxNumBatchedTokens: Int, maxNumSeqs: Int) -> Int {
        let budget = Int(Double(gpu.memoryBytes) * min(max(gpuMemoryUtilization, 0), 1))
        let left = budget - model.totalParameters * precision.bytesPerValue - continuousWorkspaceBytes(maxNumBatchedTokens: maxNumBatchedTokens, maxNumSeqs: maxNumSeqs)
        let blockBytes = max(blockSize, 1) * kvCacheBytesPerToken
        return left > 0 ? left / blockBytes : 0
    }
}
