/// Counts tokens with a model's byte-level BPE tokenizer, read from a Hugging Face
/// `tokenizer.json` (the `tokenizer:` scenario key), for streams whose server reports no `usage`.
///
/// Supported: `model.type` `BPE` with a `ByteLevel` pre-tokenizer (alone or inside a `Sequence`),
/// the family of GPT-2, Llama 3, Qwen, DeepSeek and most current models; `merges` as `"a b"`
/// strings or `["a", "b"]` pairs; `byte_fallback`. The text is split GPT-2's way (contractions,
/// letter runs, digit runs, other runs, whitespace), each piece's UTF-8 bytes mapped to GPT-2's
/// byte alphabet and merged by rank. A model whose `Split` regex differs from GPT-2's (Llama 3
/// splits digits in threes) can count a few tokens differently; added (special) tokens are not
/// matched, since generated text rarely holds them. Counting only: token ids are not kept.
public final class BPETokenizer: Sendable {
    /// Merge rank of each symbol pair (lower merges first).
    let ranks: [Pair: Int]
    let vocab: Set<String>
    let byteFallback: Bool

    struct Pair: Hashable, Sendable {
        var a: String
        var b: String
    }

    /// Why a `tokenizer.json` cannot be used.
    public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Reads a `tokenizer.json` document.
    public init(json bytes: [UInt8]) throws(LoadError) {
        guard case .object(let root)? = JSONValue.parse(bytes) else { throw LoadError(description: "not a JSON object") }
        guard case .object(let model)? = root["model"] else { throw LoadError(description: "no 'model' object") }
        guard case .string(let type)? = model["type"] ?? .string("BPE"), type == "BPE" else {
            throw LoadError(description: "model.type is not BPE (only byte-level BPE tokenizers are supported)")
        }
        guard Self.isByteLevel(root["pre_tokenizer"]) else {
            throw LoadError(description: "the pre_tokenizer is not ByteLevel (only byte-level BPE tokenizers are supported)")
        }
        guard case .object(let vocabObject)? = model["vocab"] else { throw LoadError(description: "no model.vocab object") }
        guard case .array(let merges)? = model["merges"] else { throw LoadError(description: "no model.merges list") }
        var ranks: [Pair: Int] = [:]
        ranks.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            let pair: Pair
            switch m {
            case .string(let s):
                let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw LoadError(description: "model.merges[\(rank)] is not 'a b'") }
                pair = Pair(a: String(parts[0]), b: String(parts[1]))
            case .array(let two):
                guard two.count == 2, case .string(let a) = two[0], case .string(let b) = two[1] else {
                    throw LoadError(description: "model.merges[\(rank)] is not a pair of strings")
                }
                pair = Pair(a: a, b: b)
            default:
                throw LoadError(description: "model.merges[\(rank)] is neither 'a b' nor [a, b]")
            }
            if ranks[pair] == nil { ranks[pair] = rank }
        }
        self.ranks = ranks
        self.vocab = Set(vocabObject.keys)
        if case .bool(true)? = model["byte_fallback"] { byteFallback = true } else { byteFallback = false }
    }

    static func isByteLevel(_ p: JSONValue?) -> Bool {
        guard case .object(let o)? = p, case .string(let type)? = o["type"] else { return false }
        if type == "ByteLevel" { return true }
        if type == "Sequence", case .array(let items)? = o["pretokenizers"] { return items.contains { isByteLevel($0) } }
        return false
    }

    /// GPT-2's byte alphabet: printable bytes stand for themselves, the others for code points
    /// from U+0100 on, so every byte is one visible character (a space is `Ġ`).
    static let byteSymbols: [String] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var map = [Int: Int]()
        for b in printable { map[b] = b }
        var n = 0
        for b in 0..<256 where map[b] == nil {
            map[b] = 256 + n
            n += 1
        }
        return (0..<256).map { String(Character(Unicode.Scalar(UInt32(map[$0]!))!)) }
    }()

    /// Tokens in `text`.
    public func count(_ text: String) -> Int {
        var total = 0
        for piece in Self.pretokenize(text) { total += count(piece: piece) }
        return total
    }

    /// Tokens of one pre-tokenized piece: its bytes as symbols, merged pair by pair, lowest rank
    /// first, until no pair has a rank.
    func count(piece: Substring) -> Int {
        var symbols = piece.utf8.map { Self.byteSymbols[Int($0)] }
        if symbols.count > 1 {
            while symbols.count > 1 {
                var best = Int.max, at = -1
                for i in 0..<(symbols.count - 1) {
                    if let r = ranks[Pair(a: symbols[i], b: symbols[i + 1])], r < best { best = r; at = i }
                }
                guard at >= 0 else { break }
                let merged = symbols[at] + symbols[at + 1]
                // Merge every occurrence of this pair, left to right, as Hugging Face's BPE does.
                let pa = symbols[at], pb = symbols[at + 1]
                var out: [String] = []
                out.reserveCapacity(symbols.count)
                var i = 0
                while i < symbols.count {
                    if i < symbols.count - 1, symbols[i] == pa, symbols[i + 1] == pb { out.append(merged); i += 2 } else { out.append(symbols[i]); i += 1 }
                }
                symbols = out
            }
        }
        guard byteFallback else { return symbols.count }
        // A symbol not in the vocabulary falls back to one token per byte.
        return symbols.reduce(0) { $0 + (vocab.contains($1) ? 1 : Self.bytes(of: $1)) }
    }

    /// How many bytes a symbol of the byte alphabet stands for (one per character).
    static func bytes(of symbol: String) -> Int { symbol.unicodeScalars.count }

    /// GPT-2's split: `'s 't 're 've 'm 'll 'd`, ` ?letters`, ` ?digits`, ` ?other`, and
    /// whitespace (a run before a non-space keeps its last space for the next piece).
    static func pretokenize(_ text: String) -> [Substring] {
        let s = text.unicodeScalars
        var pieces: [Substring] = []
        var i = s.startIndex
        func kind(_ c: Unicode.Scalar) -> Int {
            if c.properties.isWhitespace { return 0 }
            if c.properties.isAlphabetic { return 1 }
            if c.properties.numericType != nil { return 2 }
            return 3
        }
        while i < s.endIndex {
            let start = i
            let c = s[i]
            // Contractions.
            if c == "'" {
                let rest = String(s[s.index(after: i)...].prefix(2)).lowercased()
                for suffix in ["ll", "re", "ve", "s", "t", "m", "d"] where rest.hasPrefix(suffix) {
                    i = s.index(i, offsetBy: 1 + suffix.count)
                    break
                }
                if i != start { pieces.append(Substring(s[start..<i])); continue }
            }
            var j = i
            if c == " ", s.index(after: i) < s.endIndex, kind(s[s.index(after: i)]) != 0 { j = s.index(after: i) }
            let k = kind(s[j])
            if k == 0 {
                // A whitespace run; if a non-space follows, leave its last space to that piece.
                var e = j
                while e < s.endIndex, kind(s[e]) == 0 { e = s.index(after: e) }
                if e < s.endIndex, s.index(before: e) > j, s[s.index(before: e)] == " " { e = s.index(before: e) }
                i = e
            } else {
                var e = s.index(after: j)
                while e < s.endIndex, kind(s[e]) == k { e = s.index(after: e) }
                i = e
            }
            pieces.append(Substring(s[start..<i]))
        }
        return pieces
    }
}
