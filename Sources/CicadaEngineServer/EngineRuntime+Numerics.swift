import CicadaEngine

/// How the modelled engine's greedy answers depend on precision (docs/ENGINE.md, "Answers and
/// precision").
///
/// At fp16 and bf16 the engine is batch-invariant: the same input always gets the same text,
/// whatever batch it ran in. At int8 it models what non-batch-invariant low-precision kernels
/// do to a real server's temperature-0 answers: the first half of the answer is the input's,
/// the second half depends on the batch that computed it (its size and its place in the
/// engine's sequence of batches), so the same request asked twice parts midway. This is what
/// the consistency probe (`consistency:`) and its `inconsistent_outputs` diagnosis detect.
extension EngineRuntime {
    /// Whether answers at `precision` depend on the batch (int8 only).
    static func isBatchVariant(_ precision: Precision) -> Bool { precision == .int8 }

    /// The answer text for `input` computed in batch number `batch` of `batchSize` requests.
    static func text(for input: String, tokens: Int, precision: Precision, batch: UInt64, batchSize: Int) -> String {
        guard isBatchVariant(precision), tokens > 1 else { return text(for: input, tokens: tokens) }
        let same = tokens / 2
        var words = text(for: input, tokens: same).split(separator: " ").map(String.init)
        var h: UInt64 = 1469598103934665603
        for b in input.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        h ^= (batch &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(batchSize) &* 0xBF58_476D_1CE4_E5B9
        for _ in same..<tokens {
            h = h &* 6364136223846793005 &+ 1442695040888963407
            words.append(Self.words[Int(h >> 59) % Self.words.count])
        }
        return words.joined(separator: " ")
    }
}
