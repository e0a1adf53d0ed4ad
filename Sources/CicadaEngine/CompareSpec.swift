/// A scenario's `compare:` block: two or more variants run side by side, at the same time,
/// with the same load (the same arrival schedule and the same request sequence from the same
/// seed), so differences between them come from the configuration, not the dice.
public struct CompareSpec: Sendable {
    /// One side of a comparison.
    public struct Variant: Sendable {
        /// What a variant runs against.
        public enum Kind: Sendable {
            /// A separate embedded engine instance in the process (its own modelled GPU), started
            /// with this configuration; its `batching` is the variant's.
            case engine(EngineConfig)
            /// A server of the user's, e.g. a second deployment of the same model.
            case target(String)
        }
        /// The variant's name, unique in the block; it labels the dashboard and the reports.
        public var name: String
        public var kind: Kind
        /// The source line of the variant in the scenario file (for messages).
        public var line: Int?

        public init(name: String, kind: Kind, line: Int? = nil) {
            self.name = name; self.kind = kind; self.line = line
        }

        /// A short description: "engine: preset seed (max batch 8, delay 2 ms) on A100-80GB" or
        /// the target URL.
        public var summary: String {
            switch kind {
            case .target(let url): return url
            case .engine(let e) where e.scheduler == .continuous:
                let c = e.continuous
                return "engine \(e.gpu)/\(e.model)/\(e.precision), continuous: max_num_seqs \(c.maxNumSeqs), max_num_batched_tokens \(c.maxNumBatchedTokens), block_size \(c.blockSize) (modelled)"
            case .engine(let e):
                let b = e.batching
                let delay = Double(b.maxQueueDelayMicros) / 1000
                let delayText = delay == delay.rounded() ? String(Int(delay)) : String(delay)
                let instances = b.instanceCount > 1 ? ", \(b.instanceCount) instances" : ""
                return "engine \(e.gpu)/\(e.model)/\(e.precision), \(e.presetName ?? "custom"): max batch \(b.maxBatchSize), delay \(delayText) ms\(instances) (modelled)"
            }
        }
    }

    /// The variants, in the file's order.
    public var variants: [Variant]
    /// The variant the others are compared with (the first unless `baseline:` names another).
    public var baseline: String

    public init(variants: [Variant], baseline: String? = nil) {
        self.variants = variants
        self.baseline = baseline ?? variants.first?.name ?? ""
    }

    /// The index of the baseline variant.
    public var baselineIndex: Int { variants.firstIndex { $0.name == baseline } ?? 0 }
}
