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

    /// The answer text for `input` computed in batch number `batch` of `batchSize` requests:
    /// `tokens` one-token words of `tokenizer`, so it counts back to `tokens` at every precision.
    static func text(for input: String, tokens: Int, precision: Precision, batch: UInt64, batchSize: Int,
                     tokenizer: EngineTokenizer = .builtin) -> String {
        guard isBatchVariant(precision), tokens > 1 else { return text(for: input, tokens: tokens, tokenizer: tokenizer) }
        let same = tokens / 2
        var words = tokenizer.answer(for: input, tokens: tokens)
        // The second half comes from the same word list, drawn from a stream that the batch seeds
        // (its first word is dropped: only a first token goes without a leading space).
        let varied = tokenizer.answer(for: input + "\u{0}batch \(batch) of \(batchSize)", tokens: tokens - same + 1)
        words.replaceSubrange(same..<tokens, with: varied.dropFirst())
        return words.joined()
    }

    /// The batch-invariant answer: `tokens` one-token words of `tokenizer`, chosen by `input`.
    static func text(for input: String, tokens: Int, tokenizer: EngineTokenizer = .builtin) -> String {
        tokenizer.answer(for: input, tokens: tokens).joined()
    }

    /// This engine's answer to `input` in batch number `batch` of `batchSize` requests.
    func text(for input: String, tokens: Int, batch: UInt64, batchSize: Int) -> String {
        Self.text(for: input, tokens: tokens, precision: config.precision, batch: batch, batchSize: batchSize, tokenizer: config.tokenizer)
    }
}
