/// Counts tokens with a model's byte-level BPE tokenizer, read from a Hugging Face
/// `tokenizer.json` (the `tokenizer:` scenario key, and the embedded engine's counts).
///
/// Supported: `model.type` `BPE` with a `ByteLevel` pre-tokenizer (alone or inside a `Sequence`),
/// the family of GPT-2, Llama 3, Qwen, DeepSeek and most current models; `merges` as `"a b"`
/// strings or `["a", "b"]` pairs; `byte_fallback`. The text is split exactly as GPT-2's regex
/// (`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`) splits it,
/// each piece's UTF-8 bytes mapped to GPT-2's byte alphabet and merged by rank. For a tokenizer
/// of exactly that shape (models/cicada-tiny, GPT-2) the counts equal Hugging Face's
/// `tokenizers` (TokenizerParityTests checks 50 texts); a model whose `Split` regex differs from
/// GPT-2's (Llama 3 splits digits in threes) can count a few tokens differently. Added (special)
/// tokens are not matched, since generated text rarely holds them. No normalizer is applied.
public final class BPETokenizer: Sendable {
    /// A merge of a pair of symbols: its rank (lower merges first) and the merged symbol.
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// Merges by pair of symbol ids (`a << 32 | b`); symbols are numbered at load, so counting
    /// compares integers, never strings.
    let merges: [UInt64: Merge]
    /// The symbol id of each byte (GPT-2's byte alphabet).
    let byteIDs: [Int32]
    /// Each symbol's text in the byte alphabet, by id.
    let symbols: [String]
    /// Whether each symbol is in the model's vocabulary, by id (for `byte_fallback`).
    let inVocab: [Bool]
    /// The vocabulary's entries in the file's id order.
    let vocabInOrder: [String]
    let byteFallback: Bool

    /// Why a `tokenizer.json` cannot be used.
    public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        /// A reason in words.
        public init(description: String) { self.description = description }
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
        guard case .array(let mergeList)? = model["merges"] else { throw LoadError(description: "no model.merges list") }

        var ids: [String: Int32] = [:]
        var symbols: [String] = []
        func id(_ s: String) -> Int32 {
            if let i = ids[s] { return i }
            let i = Int32(symbols.count)
            ids[s] = i
            symbols.append(s)
            return i
        }
        let ordered = vocabObject.map { key, value -> (String, Double) in
            if case .number(let n) = value { return (key, n) }
            return (key, .infinity)
        }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
        for s in ordered { _ = id(s) }
        let vocabCount = symbols.count
        byteIDs = Self.byteSymbols.map { id($0) }

        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, m) in mergeList.enumerated() {
            let a: String, b: String
            switch m {
            case .string(let s):
                let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw LoadError(description: "model.merges[\(rank)] is not 'a b'") }
                (a, b) = (String(parts[0]), String(parts[1]))
            case .array(let two):
                guard two.count == 2, case .string(let x) = two[0], case .string(let y) = two[1] else {
                    throw LoadError(description: "model.merges[\(rank)] is not a pair of strings")
                }
                (a, b) = (x, y)
            default:
                throw LoadError(description: "model.merges[\(rank)] is neither 'a b' nor [a, b]")
            }
            let key = Self.key(id(a), id(b))
            if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: id(a + b)) }
        }
        self.merges = merges
        self.symbols = symbols
        self.inVocab = symbols.indices.map { $0 < vocabCount }
        self.vocabInOrder = ordered
        if case .bool(true)? = model["byte_fallback"] { byteFallback = true } else { byteFallback = false }
    }

    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

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

    /// The byte each character of the byte alphabet stands for.
    static let symbolBytes: [Character: UInt8] = {
        var d: [Character: UInt8] = [:]
        for (b, s) in byteSymbols.enumerated() { d[Character(s)] = UInt8(b) }
        return d
    }()

    /// Tokens in `text`.
    public func count(_ text: String) -> Int {
        var total = 0
        var scratch: [Int32] = []
        for piece in Self.pretokenize(text) { total += count(piece: piece, scratch: &scratch) }
        return total
    }

    func count(piece: Substring) -> Int {
        var scratch: [Int32] = []
        return count(piece: piece, scratch: &scratch)
    }

    /// Tokens of one pre-tokenized piece: its bytes as symbols, merged pair by pair, lowest rank
    /// first (every occurrence of that pair, left to right, as Hugging Face's BPE does), until no
    /// pair has a rank.
    func count(piece: Substring, scratch s: inout [Int32]) -> Int {
        s.removeAll(keepingCapacity: true)
        for b in piece.utf8 { s.append(byteIDs[Int(b)]) }
        while s.count > 1 {
            var best = Int32.max, at = -1
            for i in 0..<(s.count - 1) {
                if let m = merges[Self.key(s[i], s[i + 1])], m.rank < best { best = m.rank; at = i }
            }
            guard at >= 0 else { break }
            let (pa, pb) = (s[at], s[at + 1])
            let merged = merges[Self.key(pa, pb)]!.result
            // Compacted in place: the output is never longer than what is left to read.
            var w = at, r = at
            while r < s.count {
                if r < s.count - 1, s[r] == pa, s[r + 1] == pb { s[w] = merged; r += 2 } else { s[w] = s[r]; r += 1 }
                w += 1
            }
            s.removeLast(s.count - w)
        }
        guard byteFallback else { return s.count }
        // A symbol not in the vocabulary falls back to one token per byte.
        return s.reduce(0) { $0 + (inVocab[Int($1)] ? 1 : symbols[Int($1)].unicodeScalars.count) }
    }

    /// Vocabulary entries that are a lowercase ASCII word (with a leading space when
    /// `leadingSpace`, as `Ġword`), as text, each one token when counted alone: in the file's id
    /// order. Text made of a word from the plain list followed by words from the spaced list
    /// counts exactly one token per word, since GPT-2's split makes each spaced word its own piece.
    public func wordTokens(leadingSpace: Bool) -> [String] {
        let prefix = leadingSpace ? "Ġ" : ""
        return vocabInOrder.compactMap { entry -> String? in
            guard entry.hasPrefix(prefix) else { return nil }
            let word = entry.dropFirst(prefix.count)
            guard word.count >= 2, word.unicodeScalars.allSatisfy({ $0.value >= 0x61 && $0.value <= 0x7A }) else { return nil }
            let text = (leadingSpace ? " " : "") + word
            let pieces = Self.pretokenize(text)
            return pieces.count == 1 && count(piece: pieces[0]) == 1 ? text : nil
        }
    }

    /// The class of a character in GPT-2's regex: white space, letter (`\p{L}`), number (`\p{N}`)
    /// or anything else.
    enum Kind { case space, letter, number, other }

    static func kind(_ c: Unicode.Scalar) -> Kind {
        if c.properties.isWhitespace { return .space }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// GPT-2's split: `'s 't 're 've 'm 'll 'd` (case-sensitive), ` ?letters`, ` ?numbers`,
    /// ` ?others`, and white space: a run followed by a non-space leaves its last character to
    /// the next piece (`\s+(?!\S)`), which takes it if it is a space, or stands alone (`\s+`).
    static func pretokenize(_ text: String) -> [Substring] {
        let s = text.unicodeScalars
        var pieces: [Substring] = []
        var i = s.startIndex
        let end = s.endIndex
        while i < end {
            let start = i
            let c = s[i]
            let next = s.index(after: i)
            if c == "'", next < end {
                let n1 = s[next]
                let after = s.index(after: next)
                if n1 == "s" || n1 == "t" || n1 == "m" || n1 == "d" {
                    i = after
                } else if after < end, (n1 == "r" && s[after] == "e") || (n1 == "v" && s[after] == "e") || (n1 == "l" && s[after] == "l") {
                    i = s.index(after: after)
                }
                if i != start { pieces.append(Substring(s[start..<i])); continue }
            }
            var j = i
            if c == " ", next < end, kind(s[next]) != .space { j = next }
            let k = kind(s[j])
            var e = s.index(after: j)
            while e < end, kind(s[e]) == k { e = s.index(after: e) }
            if k == .space, e < end, s.index(after: i) < e {
                // `\s+(?!\S)`: the run without its last character, which goes with what follows.
                e = s.index(before: e)
            }
            i = e
            pieces.append(Substring(s[start..<i]))
        }
        return pieces
    }
}
