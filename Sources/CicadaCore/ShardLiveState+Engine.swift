/// The embedded engines of a distributed run, as `cicada dash --shards` shows them: each shard
/// whose load goes to its own embedded engine (`cicada run --engine --shard I/N`) sends that
/// engine's figures in `/live` (`engine`, added to `cicada.live/v1`), and the dashboard adds them
/// into one engine panel. Every figure is the engine's model of a device, never a measurement
/// of one, and is labelled so.
extension ShardLiveState {
    /// One shard's embedded engine now: its batching settings and modelled figures.
    public struct EngineFigures: Sendable, Equatable, Codable {
        /// What the figures come from, e.g. "modelled: A100-80GB / deepseek-llm-7b / fp16".
        public var label: String
        /// The batching preset in use ("continuous" for the continuous scheduler, "custom" when none).
        public var preset: String
        /// The largest batch (the continuous scheduler's `max_num_seqs`) and the max queue delay.
        public var maxBatchSize: Int
        public var maxQueueDelayUs: UInt64
        /// Requests waiting in its queue now.
        public var queueSize: Int
        /// Batches run so far and the requests they held (their ratio is the mean batch size).
        public var executions: UInt64
        public var inferences: UInt64
        /// How many batches of each size have run, by size.
        public var batchSizes: [String: UInt64]
        /// Modelled device memory in use and in all.
        public var memoryUsedBytes: UInt64
        public var memoryTotalBytes: UInt64
        /// The continuous scheduler's KV blocks in use (0...1); nil for the dynamic batcher.
        public var kvCacheUsage: Double?

        /// Figures.
        public init(label: String, preset: String, maxBatchSize: Int, maxQueueDelayUs: UInt64, queueSize: Int, executions: UInt64,
                    inferences: UInt64, batchSizes: [Int: UInt64], memoryUsedBytes: UInt64, memoryTotalBytes: UInt64, kvCacheUsage: Double? = nil) {
            self.label = label; self.preset = preset; self.maxBatchSize = maxBatchSize; self.maxQueueDelayUs = maxQueueDelayUs
            self.queueSize = queueSize; self.executions = executions; self.inferences = inferences
            self.batchSizes = Dictionary(uniqueKeysWithValues: batchSizes.map { (String($0.key), $0.value) })
            self.memoryUsedBytes = memoryUsedBytes; self.memoryTotalBytes = memoryTotalBytes; self.kvCacheUsage = kvCacheUsage
        }

        /// Used / total modelled memory; nil when the total is unknown.
        public var memoryFraction: Double? { memoryTotalBytes > 0 ? Double(memoryUsedBytes) / Double(memoryTotalBytes) : nil }
    }

    /// The shards' engines as one panel.
    public struct MergedEngines: Sendable, Equatable {
        /// How many shards sent an engine.
        public var engines: Int
        /// The shards' label when they all agree, else "modelled: mixed devices".
        public var label: String
        /// The shards' preset when they all agree, else "mixed"; the largest max batch size and queue delay.
        public var preset: String
        public var maxBatchSize: Int
        public var maxQueueDelayUs: UInt64
        /// Requests waiting in all the engines' queues.
        public var queueSize: Int
        /// Requests per batch over every engine's batches; nil before the first batch.
        public var averageBatchSize: Double?
        /// Batches of each size, added.
        public var batchSizes: [Int: UInt64]
        /// The fullest engine's modelled memory fraction and KV-cache use (each engine models its
        /// own device: the fullest is the one that runs out first).
        public var memoryFraction: Double?
        public var kvCacheUsage: Double?
    }

    /// The engines of `states` added: queues and batch counts summed, the mean batch size over
    /// all batches, memory and KV cache of the fullest; nil when no shard sent an engine.
    public static func mergedEngines(_ states: [ShardLiveState]) -> MergedEngines? {
        let all = states.compactMap(\.engine)
        guard let first = all.first else { return nil }
        var sizes: [Int: UInt64] = [:]
        // Saturating sums: a shard's figures are range-checked when read, but the merge never traps either way.
        for e in all { for (k, v) in e.batchSizes { if let size = Int(k) { sizes[size] = added(sizes[size] ?? 0, v) } } }
        let executions = all.reduce(UInt64(0)) { added($0, $1.executions) }, inferences = all.reduce(UInt64(0)) { added($0, $1.inferences) }
        return MergedEngines(
            engines: all.count, label: all.allSatisfy { $0.label == first.label } ? first.label : "modelled: mixed devices",
            preset: all.allSatisfy { $0.preset == first.preset } ? first.preset : "mixed",
            maxBatchSize: all.map(\.maxBatchSize).max() ?? 0, maxQueueDelayUs: all.map(\.maxQueueDelayUs).max() ?? 0,
            queueSize: all.reduce(0) { added($0, $1.queueSize) },
            averageBatchSize: executions == 0 ? nil : Double(inferences) / Double(executions), batchSizes: sizes,
            memoryFraction: all.compactMap(\.memoryFraction).max(), kvCacheUsage: all.compactMap(\.kvCacheUsage).max())
    }
}
