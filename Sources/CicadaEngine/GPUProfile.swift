/// The public datasheet figures of one GPU that the roofline device model needs.
///
/// Peaks are dense tensor-core figures without structured sparsity (REFERENCE section 8): the
/// "with sparsity" numbers on datasheets are twice these and no serving stack reaches them on
/// an unpruned model. Memory sizes are taken as binary GiB, because that is what the cards
/// carry (an A100 80GB has 81,920 MiB); bandwidths and peaks are decimal, as datasheets state.
public struct GPUProfile: Sendable, Hashable, CustomStringConvertible {
    /// The canonical name used in labels, e.g. `A100-80GB`.
    public let name: String
    /// Dense FP16 tensor-core peak, in TFLOP/s.
    public let fp16TFLOPS: Double
    /// Dense BF16 tensor-core peak, in TFLOP/s.
    public let bf16TFLOPS: Double
    /// Dense INT8 tensor-core peak, in TOP/s.
    public let int8TOPS: Double
    /// Device memory, in bytes.
    public let memoryBytes: Int
    /// Peak memory bandwidth, in bytes per second.
    public let bandwidthBytesPerSecond: Double
    /// Other names accepted by ``named(_:)``: spacing variants and what `nvidia-smi` reports.
    public let aliases: [String]

    /// Creates a profile; the built-in ones are ``all``.
    public init(
        name: String, fp16TFLOPS: Double, bf16TFLOPS: Double, int8TOPS: Double,
        memoryBytes: Int, bandwidthBytesPerSecond: Double, aliases: [String] = []
    ) {
        self.name = name
        self.fp16TFLOPS = fp16TFLOPS
        self.bf16TFLOPS = bf16TFLOPS
        self.int8TOPS = int8TOPS
        self.memoryBytes = memoryBytes
        self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
        self.aliases = aliases
    }

    /// The canonical name.
    public var description: String { name }

    /// Peak operations per second at `precision` (FLOP/s for fp16/bf16, OP/s for int8).
    public func peakOpsPerSecond(_ precision: Precision) -> Double {
        switch precision {
        case .fp16: fp16TFLOPS * 1e12
        case .bf16: bf16TFLOPS * 1e12
        case .int8: int8TOPS * 1e12
        }
    }

    private static let gib = 1 << 30

    /// NVIDIA A10 (24 GB GDDR6, 600 GB/s).
    public static let a10 = GPUProfile(
        name: "A10", fp16TFLOPS: 125, bf16TFLOPS: 125, int8TOPS: 250,
        memoryBytes: 24 * gib, bandwidthBytesPerSecond: 600e9, aliases: ["A10", "A10-24GB"])
    /// NVIDIA A30 (24 GB HBM2, 933 GB/s).
    public static let a30 = GPUProfile(
        name: "A30", fp16TFLOPS: 165, bf16TFLOPS: 165, int8TOPS: 330,
        memoryBytes: 24 * gib, bandwidthBytesPerSecond: 933e9, aliases: ["A30", "A30-24GB"])
    /// NVIDIA A100 40GB SXM (1,555 GB/s).
    public static let a100_40GB = GPUProfile(
        name: "A100-40GB", fp16TFLOPS: 312, bf16TFLOPS: 312, int8TOPS: 624,
        memoryBytes: 40 * gib, bandwidthBytesPerSecond: 1555e9,
        aliases: ["A100-40GB", "A100 40GB SXM", "A100-SXM4-40GB"])
    /// NVIDIA A100 80GB SXM (2,039 GB/s).
    public static let a100_80GB = GPUProfile(
        name: "A100-80GB", fp16TFLOPS: 312, bf16TFLOPS: 312, int8TOPS: 624,
        memoryBytes: 80 * gib, bandwidthBytesPerSecond: 2039e9,
        aliases: ["A100-80GB", "A100 80GB SXM", "A100-SXM4-80GB"])
    /// NVIDIA H100 SXM (80 GB HBM3, 3,350 GB/s).
    public static let h100SXM = GPUProfile(
        name: "H100-SXM", fp16TFLOPS: 989, bf16TFLOPS: 989, int8TOPS: 1979,
        memoryBytes: 80 * gib, bandwidthBytesPerSecond: 3350e9,
        aliases: ["H100-SXM", "H100", "H100 SXM", "H100-SXM5-80GB", "H100 80GB HBM3"])
    /// NVIDIA H200 SXM (141 GB HBM3e, 4,800 GB/s).
    public static let h200 = GPUProfile(
        name: "H200", fp16TFLOPS: 989, bf16TFLOPS: 989, int8TOPS: 1979,
        memoryBytes: 141 * gib, bandwidthBytesPerSecond: 4800e9,
        aliases: ["H200", "H200-SXM", "H200 SXM", "H200-SXM-141GB"])

    /// The built-in profiles, in the order of REFERENCE section 8.
    public static let all: [GPUProfile] = [a10, a30, a100_40GB, a100_80GB, h100SXM, h200]

    /// Looks a GPU up by name, case-insensitively and ignoring spaces, dashes and an `NVIDIA`
    /// prefix, so `a100-80gb`, `A100 80GB SXM` and `NVIDIA A100-SXM4-80GB` all find one profile;
    /// an unknown name throws with suggestions.
    public static func named(_ name: String) throws(ProfileLookupError) -> GPUProfile {
        var key = ProfileLookupError.normalise(name)
        if key.hasPrefix("nvidia") { key.removeFirst("nvidia".count) }
        if let found = all.first(where: { gpu in
            gpu.aliases.contains { ProfileLookupError.normalise($0) == key }
        }) {
            return found
        }
        throw ProfileLookupError(
            kind: "GPU", name: name,
            suggestions: ProfileLookupError.suggestions(
                for: key, among: all.map { ($0.name, $0.aliases) }),
            known: all.map(\.name))
    }
}
