import CicadaCore
import CicadaEngineServer

extension RunSession {
    /// The embedded engine's figures as a shard sends them in `/live` (`cicada dash --shards`'s
    /// engine panel): the batching settings, queue, batch counts and modelled memory, with the
    /// device model's label ("modelled: ...").
    static func liveFigures(_ s: EngineStats) -> ShardLiveState.EngineFigures {
        var f = ShardLiveState.EngineFigures(
            label: s.deviceLabel, preset: s.presetName ?? "custom", maxBatchSize: s.batching.maxBatchSize,
            maxQueueDelayUs: s.batching.maxQueueDelayMicros, queueSize: s.queueSize, executions: s.executions, inferences: s.inferences,
            batchSizes: s.batchSizes, memoryUsedBytes: s.memoryUsedBytes, memoryTotalBytes: s.memoryTotalBytes)
        if let c = s.continuous {
            // A continuous engine: its sequence limit and KV cache instead of a batcher's settings.
            f.preset = "continuous"; f.maxBatchSize = c.settings.maxNumSeqs; f.maxQueueDelayUs = 0; f.kvCacheUsage = c.kvCacheUsage
        }
        return f
    }
}
