import CicadaCore

/// A modelled GPU running a modelled language model: roofline timing and a memory budget.
///
/// The engine has no real accelerator behind it, so it needs a model of one that answers two
/// questions for each batch the batcher forms: how long does it take, and does it fit? The
/// answers follow the roofline: a pass is limited either by arithmetic
/// (`FLOPs / (peak x compute efficiency)`) or by the bytes it must read
/// (`bytes / (bandwidth x bandwidth efficiency)`), whichever is slower. Prefill of a prompt of a
/// useful length is compute-bound; each decode step must read every active weight once
/// whatever the batch size, so at small batches it is memory-bound and batching makes it
/// nearly free per extra request. That asymmetry is why dynamic batching pays, and this model
/// makes the engine show it. Formulas, defaults and a worked example are in docs/ENGINE.md.
///
/// Everything here is modelled, not measured: the figures are datasheet peaks scaled by
/// efficiencies, and the label says so wherever the numbers are shown.
public struct DeviceModel: Sendable {
    /// The tunable constants of the model, with defaults a serving stack typically reaches.
    public struct Calibration: Sendable, Hashable {
        /// Fraction of the tensor-core peak a forward pass achieves (model FLOPs utilisation).
        ///
        /// Default 0.5: large GEMMs alone reach 70-80% of peak, but a whole transformer layer
        /// also runs attention, norms, activations and kernel launches, so end-to-end prefill
        /// typically lands between 40% and 60% of peak; 0.5 is the middle.
        public var computeEfficiency: Double
        /// Fraction of the datasheet memory bandwidth a decode step achieves.
        ///
        /// Default 0.7: a streaming copy reaches 85-90% of HBM peak, but a decode step reads
        /// many tensors of different shapes through many kernels, and serving stacks report
        /// 60-80% of peak bandwidth on memory-bound decode; 0.7 is the middle.
        public var bandwidthEfficiency: Double
        /// A fixed cost per batch on top of the GPU time.
        ///
        /// Default 2 ms: request (de)serialisation, tokenisation, building the batch tensors,
        /// the framework's scheduling and the first kernel launches; Triton's own reports put
        /// server overhead plus input/output handling in the low milliseconds for a Python
        /// backend. Per-step launch overheads are folded into the efficiencies instead.
        public var batchOverhead: Duration
        /// Device memory held regardless of the batch: CUDA context, cuBLAS workspace and
        /// allocator slack.
        ///
        /// Default 512 MiB: a CUDA context alone takes roughly 300-500 MiB on these GPUs, and
        /// frameworks keep some cached blocks; it is counted in the workspace.
        public var runtimeReserveBytes: Int

        /// Creates a calibration; the defaults are ``standard``.
        public init(
            computeEfficiency: Double = 0.5, bandwidthEfficiency: Double = 0.7,
            batchOverhead: Duration = .milliseconds(2), runtimeReserveBytes: Int = 512 << 20
        ) {
            precondition(computeEfficiency > 0 && computeEfficiency <= 1, "computeEfficiency must be in (0, 1]")
            precondition(bandwidthEfficiency > 0 && bandwidthEfficiency <= 1, "bandwidthEfficiency must be in (0, 1]")
            precondition(runtimeReserveBytes >= 0, "runtimeReserveBytes must not be negative")
            self.computeEfficiency = computeEfficiency
            self.bandwidthEfficiency = bandwidthEfficiency
            self.batchOverhead = batchOverhead
            self.runtimeReserveBytes = runtimeReserveBytes
        }

        /// The documented defaults: 0.5, 0.7, 2 ms, 512 MiB.
        public static let standard = Calibration()
    }

    /// One request in a batch: prompt tokens in, tokens to generate.
    public typealias Request = (inputTokens: Int, outputTokens: Int)

    /// The two roofline bounds of one pass and the time they imply.
    public struct RooflineTime: Sendable, Hashable {
        /// Time if only arithmetic limited the pass.
        public let compute: Duration
        /// Time if only memory traffic limited the pass.
        public let memory: Duration
        /// The pass takes as long as the slower of the two.
        public var time: Duration { max(compute, memory) }
        /// Whether memory traffic, not arithmetic, sets the time.
        public var isMemoryBound: Bool { memory > compute }
    }

    /// The device memory a batch needs, by component, and the device's capacity.
    ///
    /// These figures feed the GPU memory panel when the engine runs on a modelled device.
    public struct MemoryUse: Sendable, Hashable {
        /// Model weights: total parameters x bytes per value.
        public let weights: Int
        /// KV cache for every token the batch holds at its largest.
        public let kvCache: Int
        /// Activations, logits and the runtime reserve.
        public let workspace: Int
        /// Device memory, in bytes.
        public let capacity: Int
        /// Bytes needed in all.
        public var total: Int { weights + kvCache + workspace }
        /// Whether the batch fits in device memory.
        public var fits: Bool { total <= capacity }
        /// Needed bytes as a fraction of capacity (above 1 when it does not fit).
        public var fraction: Double { Double(total) / Double(capacity) }
    }

    /// A batch that does not fit in device memory, reported as CUDA would report it.
    ///
    /// The engine answers such a batch with HTTP 507 and ``message``, so a load test against
    /// the modelled device sees the failure a real server would send, and can count it.
    public struct OutOfMemory: Error, Sendable, Hashable, CustomStringConvertible {
        /// The allocation that failed, in bytes.
        public let requestedBytes: Int
        /// Bytes already allocated when it failed.
        public let allocatedBytes: Int
        /// Device memory, in bytes.
        public let capacityBytes: Int
        /// The device model's label, for logs.
        public let label: String

        /// The HTTP status the engine answers with (507 Insufficient Storage).
        public static let httpStatus = 507

        /// PyTorch's wording: `CUDA out of memory. Tried to allocate X GiB (GPU 0; Y GiB total
        /// capacity; Z GiB already allocated)`, so tools that grep for it recognise it.
        public var message: String {
            "CUDA out of memory. Tried to allocate \(Self.gib(requestedBytes)) GiB (GPU 0; "
                + "\(Self.gib(capacityBytes)) GiB total capacity; "
                + "\(Self.gib(allocatedBytes)) GiB already allocated)"
        }

        /// Same as ``message``.
        public var description: String { message }

        /// Bytes as GiB with two decimals, without Foundation.
        static func gib(_ bytes: Int) -> String {
            let hundredths = Int((Double(bytes) / Double(1 << 30) * 100).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
        }
    }

    /// The GPU being modelled.
    public let gpu: GPUProfile
    /// The language model being modelled.
    public let model: ModelProfile
    /// The precision weights, activations and KV cache are held in.
    public let precision: Precision
    /// Efficiencies, overhead and reserve.
    public let calibration: Calibration

    /// Creates a device model.
    public init(
        gpu: GPUProfile, model: ModelProfile, precision: Precision = .fp16,
        calibration: Calibration = .standard
    ) {
        self.gpu = gpu
        self.model = model
        self.precision = precision
        self.calibration = calibration
    }

    /// Creates a device model from names, as given on the command line; an unknown name throws
    /// with suggestions.
    public init(
        gpu: String, model: String, precision: String = "fp16",
        calibration: Calibration = .standard
    ) throws(ProfileLookupError) {
        self.init(
            gpu: try GPUProfile.named(gpu), model: try ModelProfile.named(model),
            precision: try Precision.named(precision), calibration: calibration)
    }

    /// The label shown beside every modelled figure: `modelled: A100-80GB / deepseek-llm-7b / fp16`.
    public var label: String {
        "modelled: \(gpu.name) / \(model.name) / \(precision.rawValue)"
    }

    /// Operations per second actually achieved: peak x compute efficiency.
    public var effectiveOpsPerSecond: Double {
        gpu.peakOpsPerSecond(precision) * calibration.computeEfficiency
    }

    /// Bytes per second actually achieved: bandwidth x bandwidth efficiency.
    public var effectiveBytesPerSecond: Double {
        gpu.bandwidthBytesPerSecond * calibration.bandwidthEfficiency
    }

    /// KV-cache bytes per token at this precision.
    public var kvCacheBytesPerToken: Int { model.kvCacheBytesPerToken(precision) }

    // MARK: - Timing

    /// The roofline bounds of prefilling `tokens` prompt tokens in one pass.
    ///
    /// Compute: `2 x active params x tokens` operations (a multiply and an add per weight per
    /// token). Memory: the weights read once plus the KV cache written. For any prompt longer
    /// than about `peak x eff_c / (bandwidth x eff_b) x bytes / 2` tokens (~110 for a 7B model
    /// on an A100 at fp16) compute wins, as the issue specifies; the memory floor only keeps a
    /// few-token prefill from being modelled as nearly free. Attention's own FLOPs
    /// (`4 x layers x hidden x context` per token) are left out: under 1% at these prompt lengths.
    public func prefill(tokens: Int) -> RooflineTime {
        let tokens = max(tokens, 0)
        let operations = 2 * Double(model.activeParameters) * Double(tokens)
        let bytes = model.parametersRead(tokens: tokens) * Double(precision.bytesPerValue)
            + Double(tokens) * Double(kvCacheBytesPerToken)
        return RooflineTime(
            compute: .fromSeconds(operations / effectiveOpsPerSecond),
            memory: .fromSeconds(tokens == 0 ? 0 : bytes / effectiveBytesPerSecond))
    }

    /// How long prefilling `tokens` prompt tokens in one pass takes (see ``prefill(tokens:)``).
    public func prefillTime(tokens: Int) -> Duration { prefill(tokens: tokens).time }

    /// The roofline bounds of one decode step for `batchSize` sequences that together hold
    /// `contextTokens` tokens in their KV caches.
    ///
    /// Compute: `2 x active params x batchSize`. Memory: the weights read once per step
    /// (``ModelProfile/parametersRead(tokens:)``, all active weights for a dense model) plus
    /// every cached token's keys and values, `contextTokens x KV bytes per token`. The weight
    /// term does not grow with the batch, which is why a memory-bound step serves 32 sequences
    /// in little more time than one.
    public func decodeStep(batchSize: Int, contextTokens: Int) -> RooflineTime {
        let batchSize = max(batchSize, 0)
        guard batchSize > 0 else { return RooflineTime(compute: .zero, memory: .zero) }
        let operations = 2 * Double(model.activeParameters) * Double(batchSize)
        let bytes = model.parametersRead(tokens: batchSize) * Double(precision.bytesPerValue)
            + Double(max(contextTokens, 0)) * Double(kvCacheBytesPerToken)
        return RooflineTime(
            compute: .fromSeconds(operations / effectiveOpsPerSecond),
            memory: .fromSeconds(bytes / effectiveBytesPerSecond))
    }

    /// How long one decode step takes: the slower of its compute and memory bounds.
    public func decodeStepTime(batchSize: Int, contextTokens: Int) -> Duration {
        decodeStep(batchSize: batchSize, contextTokens: contextTokens).time
    }

    /// How long a static batch takes from dispatch to its last token.
    ///
    /// Static batching, as Triton's dynamic batcher does for a model without iteration-level
    /// scheduling: all prompts prefill together in one pass (`sum of input tokens`, ragged, no
    /// padding), and the prefill yields each request's first output token. Then
    /// `max(outputTokens) - 1` decode steps run with the whole batch, because a static batch
    /// cannot release a finished request's slot until the longest one ends (the finished ones
    /// keep decoding padding, as a padded `generate` does). At decode step `k` (1-based) each
    /// request's cache holds `inputTokens + k` tokens, so the batch's context is
    /// `sum(inputTokens) + batchSize x k`. Total:
    /// `overhead + prefill(sum in) + sum over k of decodeStep(B, sum in + B x k)`.
    public func batchTime(requests: [Request]) -> Duration {
        guard !requests.isEmpty else { return .zero }
        return .fromSeconds(batchSeconds(requests: requests))
    }

    /// ``batchTime(requests:)`` in seconds, summed in floating point and rounded once.
    func batchSeconds(requests: [Request]) -> Double {
        let batchSize = requests.count
        let inputTokens = requests.reduce(0) { $0 + max($1.inputTokens, 0) }
        let longestOutput = requests.reduce(0) { max($0, $1.outputTokens) }
        var seconds = calibration.batchOverhead.seconds + prefill(tokens: inputTokens).time.seconds
        let steps = max(longestOutput - 1, 0)
        if steps > 0 {
            for k in 1...steps {
                seconds += decodeStep(batchSize: batchSize, contextTokens: inputTokens + batchSize * k)
                    .time.seconds
            }
        }
        return seconds
    }

    // MARK: - Memory

    /// The device memory a static batch needs at its largest.
    ///
    /// - weights: `total params x bytes per value` (every expert is resident);
    /// - KV cache: `(sum(inputTokens) + batchSize x max(outputTokens)) x KV bytes per token`, the
    ///   tokens in flight when the longest request finishes (a static batch keeps every slot);
    /// - workspace: the runtime reserve, plus one layer's activations for the prefill pass
    ///   (`sum(inputTokens) x activation values per token x bytes per value`), plus fp32 logits
    ///   for each sequence's last position (`batchSize x vocab x 4`).
    public func memory(for requests: [Request]) -> MemoryUse {
        let batchSize = requests.count
        let inputTokens = requests.reduce(0) { $0 + max($1.inputTokens, 0) }
        let longestOutput = requests.reduce(0) { max($0, max($1.outputTokens, 0)) }
        let weights = model.totalParameters * precision.bytesPerValue
        let kvTokens = inputTokens + batchSize * longestOutput
        let activations = inputTokens * model.activationValuesPerToken * precision.bytesPerValue
        let logits = batchSize * model.vocabSize * 4
        return MemoryUse(
            weights: weights, kvCache: kvTokens * kvCacheBytesPerToken,
            workspace: calibration.runtimeReserveBytes + activations + logits,
            capacity: gpu.memoryBytes)
    }

    /// The batch's time if it fits in device memory, or the CUDA-style out-of-memory error.
    ///
    /// Allocation is modelled in the order a server makes it: weights at load, then the KV
    /// cache, then the workspace; the first allocation that would exceed capacity is the one
    /// reported as "Tried to allocate", with everything before it "already allocated". So a
    /// model whose weights alone exceed the card (33B at fp16 on a 24 GB A10) fails even at
    /// batch size 1.
    public func check(requests: [Request]) -> Result<Duration, OutOfMemory> {
        let use = memory(for: requests)
        let capacity = use.capacity
        var allocated = 0
        for allocation in [use.weights, use.kvCache, use.workspace] {
            if allocated + allocation > capacity {
                return .failure(OutOfMemory(
                    requestedBytes: allocation, allocatedBytes: allocated,
                    capacityBytes: capacity, label: label))
            }
            allocated += allocation
        }
        return .success(batchTime(requests: requests))
    }

    // MARK: - Tokens

    /// An approximate token count for `text`: one token per 4 characters, rounded up, at least 1.
    ///
    /// The engine has no tokenizer (a real one is model-specific and large); ~4 characters per
    /// token is the usual rule of thumb for English text with BPE vocabularies of 32k-100k
    /// entries. It undercounts code with many symbols and CJK text (nearer 1-2 characters per
    /// token). At least 1 because every request carries a beginning-of-sequence token.
    public static func approximateTokens(_ text: String) -> Int {
        max(1, (text.count + 3) / 4)
    }
}
