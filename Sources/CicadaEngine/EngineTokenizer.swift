import CicadaCore

/// How the embedded engine counts tokens and spells the tokens it generates.
///
/// By default the shipped `cicada-tiny` tokenizer (``BuiltinTokenizer``): prompts are counted
/// with it, the count is both the `usage.prompt_tokens` the engine reports and the prefill the
/// device model times, and the answer is made of vocabulary words that are one token each, one
/// per streamed chunk, so the answer counted with the same tokenizer gives exactly the
/// `usage.completion_tokens` reported. A client that counts with models/cicada-tiny agrees with
/// the engine exactly. `cicada serve --tokenizer FILE` takes another byte-level BPE
/// `tokenizer.json`; `--tokenizer approximate` keeps the old rule of thumb
/// (``DeviceModel/approximateTokens(_:)``, 4 characters per token), whose answers are filler
/// words that a real tokenizer counts differently.
public struct EngineTokenizer: Sendable {
    /// What the engine says it counts with (`cicada-tiny`, a file's path, or the approximation).
    public let name: String
    let bpe: BPETokenizer?
    /// Words that open an answer (no leading space), one token each.
    let firstWords: [String]
    /// Words that continue it (`" word"`), one token each.
    let nextWords: [String]

    /// The shipped `cicada-tiny` tokenizer (the approximation if the embedded copy could not be
    /// read, which a test rules out).
    public static let builtin: EngineTokenizer = {
        if let bpe = BuiltinTokenizer.tokenizer, let t = try? EngineTokenizer(name: BuiltinTokenizer.name, bpe: bpe) { return t }
        return .approximate
    }()

    /// One token per 4 characters (at least 1), answers of fixed filler words: the documented
    /// fallback when no tokenizer is wanted.
    public static let approximate = EngineTokenizer(
        name: "approximate (4 characters per token)", bpe: nil,
        firstWords: fillerWords, nextWords: fillerWords.map { " " + $0 })

    static let fillerWords = ["the", "model", "answers", "with", "tokens", "from", "a", "modelled", "device", "batch", "queue", "cache",
                              "latency", "throughput", "memory", "prefill", "decode", "step", "kernel", "stream"]

    init(name: String, bpe: BPETokenizer?, firstWords: [String], nextWords: [String]) {
        self.name = name; self.bpe = bpe; self.firstWords = firstWords; self.nextWords = nextWords
    }

    /// Counts with `bpe` and answers with its one-token lowercase words.
    public init(name: String, bpe: BPETokenizer) throws(BPETokenizer.LoadError) {
        let first = bpe.wordTokens(leadingSpace: false), next = bpe.wordTokens(leadingSpace: true)
        guard !first.isEmpty, !next.isEmpty else {
            throw BPETokenizer.LoadError(description: "its vocabulary has no lowercase ASCII words of one token to answer with")
        }
        self.init(name: name, bpe: bpe, firstWords: first, nextWords: next)
    }

    /// A `tokenizer.json` document; `name` is what the engine reports it counts with.
    public init(name: String, json: [UInt8]) throws(BPETokenizer.LoadError) {
        try self.init(name: name, bpe: try BPETokenizer(json: json))
    }

    /// Whether counts come from a real tokenizer (false: the 4-character approximation).
    public var isExact: Bool { bpe != nil }

    /// Tokens in `text`: the tokenizer's count, or the approximation's (at least 1).
    public func count(_ text: String) -> Int {
        guard let bpe else { return DeviceModel.approximateTokens(text) }
        return bpe.count(text)
    }

    /// The answer to `input`, `tokens` pieces long, one token per piece: deterministic, so
    /// identical requests get identical answers (and the result cache can hold them).
    public func answer(for input: String, tokens: Int) -> [String] {
        var h: UInt64 = 1469598103934665603
        for b in input.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        var out: [String] = []
        out.reserveCapacity(max(0, tokens))
        for k in 0..<max(0, tokens) {
            h = h &* 6364136223846793005 &+ 1442695040888963407
            let words = k == 0 ? firstWords : nextWords
            out.append(words[Int(h >> 33) % words.count])
        }
        return out
    }
}
