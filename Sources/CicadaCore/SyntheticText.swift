/// Deterministic filler text for prompts of a chosen length, in blocks that are the same bytes
/// wherever the same block id appears.
///
/// Prefix caches (vLLM's automatic prefix caching, SGLang's radix cache, Mooncake's KV store)
/// hit only when requests share their leading tokens exactly; a replayed trace's `hash_ids` and
/// the shared-prefix generator both name blocks by id, so each id must always render to the same
/// text. Lengths are approximate tokens at ``charactersPerToken`` characters each (the random
/// dataset convention of vLLM and the embedded engine); words come from a small vocabulary, so a
/// real tokenizer sees roughly one token per word.
public enum SyntheticText {
    /// Characters per approximate token.
    public static let charactersPerToken = 4

    static let words = ["the", "model", "serves", "tokens", "under", "load", "with", "batching", "and", "cache",
                        "latency", "matters", "prefix", "shared", "block", "reply", "user", "query", "context", "window"]

    /// The text of block `id` in namespace `space` under `seed`: exactly `tokens` x 4 characters.
    ///
    /// Two calls with the same arguments give the same bytes; different ids give different text.
    public static func block(id: UInt64, tokens: Int, seed: UInt64, space: UInt64) -> String {
        var rng = SeededRandom(seed: seed ^ (space &* 0x9E37_79B9_7F4A_7C15), stream: id)
        return text(characters: max(0, tokens) * charactersPerToken, rng: &rng)
    }

    /// Filler of exactly `characters` characters drawn from `rng`: words separated by spaces.
    public static func text(characters: Int, rng: inout SeededRandom) -> String {
        guard characters > 0 else { return "" }
        // Built as bytes (the words are ASCII): a block is rebuilt per request, so this is on
        // the send path of trace replays.
        return String(unsafeUninitializedCapacity: characters) { buf in
            var n = 0
            var bits: UInt64 = 0, left = 0
            while n < characters {
                if n > 0 { buf[n] = 0x20; n += 1; if n == characters { break } }
                // Four words per random draw, 16 bits each.
                if left == 0 { bits = rng.next(); left = 4 }
                let w = wordBytes[Int((bits & 0xFFFF) % UInt64(wordBytes.count))]
                bits >>= 16; left -= 1
                let take = min(w.count, characters - n)
                for i in 0..<take { buf[n + i] = w[i] }
                n += take
            }
            return characters
        }
    }

    static let wordBytes: [[UInt8]] = words.map { Array($0.utf8) }
}

/// Shared prompt prefixes for synthetic prompts (`prompts.synthetic.prefix`): every request's
/// prompt is one of `count` prefixes of `tokens` approximate tokens, chosen by the request's
/// seeded random generator, followed by a suffix unique to the request.
///
/// Equal prefix indexes give byte-identical leading text, so a server's prefix cache can hit;
/// the unique suffix keeps a result cache (which keys on the whole prompt) from answering.
public struct SharedPrefix: Sendable, Equatable {
    /// Approximate tokens per prefix.
    public var tokens: Int
    /// The prefixes, by index (`count` of them).
    public let prefixes: [String]

    /// Builds `count` prefixes of `tokens` approximate tokens each, fixed by `seed`.
    public init(tokens: Int, count: Int, seed: UInt64) {
        self.tokens = tokens
        prefixes = (0..<max(1, count)).map { SyntheticText.block(id: UInt64($0), tokens: tokens, seed: seed, space: 0x50_5245) }
    }

    /// How many prefixes there are.
    public var count: Int { prefixes.count }

    /// Picks a prefix index with `rng`.
    public func pick(_ rng: inout SeededRandom) -> Int { Int(rng.next() % UInt64(prefixes.count)) }

    /// The prompt for one request: prefix `index`, a space, a marker naming the request
    /// (`[user.seq]`, unique within a run) and `suffix`.
    public func prompt(index: Int, user: Int, seq: UInt64, suffix: String) -> String {
        prefixes[index] + " [" + String(user) + "." + String(seq) + "] " + suffix
    }
}
