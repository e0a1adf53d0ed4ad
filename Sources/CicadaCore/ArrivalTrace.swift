import Foundation

/// A recorded arrival trace replayed by the open model (`arrival: {trace: FILE, time_scale: 1}`):
/// when each request arrives and what it asks for.
///
/// Two JSON Lines forms are read, one object per line: Mooncake's
/// (`{"timestamp": ms, "input_length": N, "output_length": N, "hash_ids": [..]}`) and a plain one
/// (`{"timestamp": ms, "prompt": "..." | "input_length": N, "output_length": N}`). Arrival `k` is
/// line `k`'s request (blank lines skipped), intended to start at its timestamp minus the first
/// one's, times `timeScale`: so latency is corrected from each trace time, as from any schedule
/// slot. `output_length` becomes `max_tokens`. A request without a prompt gets synthetic text of
/// `input_length` approximate tokens built from its `hash_ids`, each id one block of
/// ``blockTokens`` tokens that is the same text wherever the id appears (``SyntheticText``), so the
/// trace's prefix sharing reaches the server as real shared prefixes.
public struct ArrivalTrace: Sendable, Equatable {
    /// One request of the trace.
    public struct Entry: Sendable, Equatable {
        /// Offset from the first entry, in nanoseconds, before scaling.
        public var offsetNanos: UInt64
        /// The prompt given in the trace, if any.
        public var prompt: String?
        /// Input length in approximate tokens (when no prompt is given).
        public var inputTokens: Int?
        /// Output length: the request's `max_tokens`.
        public var outputTokens: Int?
        /// Prefix block ids (Mooncake's `hash_ids`).
        public var hashIDs: [UInt64]
        public init(offsetNanos: UInt64, prompt: String? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil, hashIDs: [UInt64] = []) {
            self.offsetNanos = offsetNanos; self.prompt = prompt; self.inputTokens = inputTokens
            self.outputTokens = outputTokens; self.hashIDs = hashIDs
        }
    }

    /// Mooncake's block size: tokens per hash id.
    public static let defaultBlockTokens = 512
    /// The longest `input_length`, `output_length` or block accepted, in tokens: a prompt is
    /// built in memory per request (4 MB at this length), so a typo cannot ask for gigabytes.
    public static let maxTokens = 1_000_000

    public var entries: [Entry]
    /// Multiplies the trace's gaps: 0.5 replays it twice as fast, 2 at half speed.
    public var timeScale: Double
    /// Approximate tokens per hash id block.
    public var blockTokens: Int

    public init(entries: [Entry], timeScale: Double = 1, blockTokens: Int = ArrivalTrace.defaultBlockTokens) {
        self.entries = entries; self.timeScale = timeScale; self.blockTokens = blockTokens
    }

    /// A line of the trace that cannot be used: its 1-based line number, the key at fault and why.
    public struct LineError: Error, Sendable, Equatable {
        public var line: Int
        public var key: String?
        public var message: String
    }

    /// The longest a trace may span, first line to last: a year, in milliseconds.
    public static let maxSpanMillis: Double = 365 * 86_400_000

    /// Parses JSON Lines text; every bad line is reported (with the key at fault), not only the first.
    public static func parse(_ text: String) -> (entries: [Entry], errors: [LineError]) {
        var entries: [Entry] = []
        var errors: [LineError] = []
        var firstMillis: Double?
        var lastMillis = -Double.infinity
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard case .object(let o)? = JSONValue.parse(Array(line.utf8)) else {
                errors.append(LineError(line: lineNumber, key: nil, message: "line is not a JSON object")); continue
            }
            func count(_ key: String) -> Int?? {
                guard let v = o[key] else { return .some(nil) }
                if case .number(let d) = v, d >= 0, d == d.rounded(), d <= Double(maxTokens) { return .some(Int(d)) }
                errors.append(LineError(line: lineNumber, key: key, message: "expected a whole number from 0 to \(maxTokens)"))
                return nil
            }
            guard case .number(let ms)? = o["timestamp"], ms.isFinite, ms >= 0 else {
                errors.append(LineError(line: lineNumber, key: "timestamp", message: o["timestamp"] == nil ? "missing 'timestamp' (milliseconds)" : "expected milliseconds >= 0"))
                continue
            }
            if let first = firstMillis, ms - first > Self.maxSpanMillis {
                errors.append(LineError(line: lineNumber, key: "timestamp", message: "\(ms) ms is more than a year after the trace's first line"))
                continue
            }
            if ms < lastMillis {
                errors.append(LineError(line: lineNumber, key: "timestamp", message: "timestamps must not go back (\(ms) ms after \(lastMillis) ms); sort the trace by timestamp"))
                continue
            }
            lastMillis = ms
            guard let input = count("input_length"), let output = count("output_length") else { continue }
            var prompt: String?
            if let p = o["prompt"] {
                guard case .string(let s) = p else { errors.append(LineError(line: lineNumber, key: "prompt", message: "expected text")); continue }
                prompt = s
            }
            var ids: [UInt64] = []
            if let h = o["hash_ids"] {
                guard case .array(let items) = h else { errors.append(LineError(line: lineNumber, key: "hash_ids", message: "expected a list of whole numbers")); continue }
                var ok = true
                for item in items {
                    if case .number(let d) = item, d >= 0, d == d.rounded(), d < 1.8e19 { ids.append(UInt64(d)) } else { ok = false }
                }
                if !ok { errors.append(LineError(line: lineNumber, key: "hash_ids", message: "expected a list of whole numbers >= 0")); continue }
            }
            if prompt == nil, input == nil {
                errors.append(LineError(line: lineNumber, key: "input_length", message: "give 'prompt' or 'input_length'")); continue
            }
            let first = firstMillis ?? ms
            firstMillis = first
            entries.append(Entry(offsetNanos: UInt64(((ms - first) * 1e6).rounded()), prompt: prompt, inputTokens: input,
                                 outputTokens: output, hashIDs: ids))
        }
        return (entries, errors)
    }

    /// Arrival `k`'s intended offset from the run's start (ns), or nil past the trace's end.
    public func offsetNanos(_ k: UInt64) -> UInt64? {
        guard k < UInt64(entries.count) else { return nil }
        // A large time_scale on a long trace saturates (far past any run's end) instead of trapping.
        return UInt64(min((Double(entries[Int(k)].offsetNanos) * timeScale).rounded(), Double(UInt64.max / 2)))
    }

    /// The replay's length: the last arrival's offset plus one millisecond (so it is inside the run).
    public var duration: Duration {
        .nanoseconds(Int64(min(offsetNanos(UInt64(max(0, entries.count - 1))) ?? 0, UInt64(Int64.max / 2))) + 1_000_000)
    }

    /// Arrival `k`'s prompt: the trace's own, or `input_length` approximate tokens made of its
    /// hash id blocks (then filler unique to the arrival), cut to length.
    public func prompt(_ k: UInt64, seed: UInt64) -> String {
        var cache = BlockCache(maxBytes: 0)
        return prompt(k, seed: seed, cache: &cache)
    }

    /// ``prompt(_:seed:)`` with hash id blocks kept in `cache` (a worker's), since a trace's
    /// blocks repeat: that is the prefix sharing it records.
    public func prompt(_ k: UInt64, seed: UInt64, cache: inout BlockCache) -> String {
        let e = entries[Int(k)]
        if let p = e.prompt { return p }
        let want = (e.inputTokens ?? 0) * SyntheticText.charactersPerToken
        var s = ""
        s.reserveCapacity(want)
        for id in e.hashIDs {
            if s.utf8.count >= want { break }
            s += cache.block(id) { SyntheticText.block(id: id, tokens: blockTokens, seed: seed, space: 0x4841_5348) }
        }
        if s.utf8.count < want {
            var rng = SeededRandom(seed: seed, stream: (1 << 44) &+ k)
            s += SyntheticText.text(characters: want - s.utf8.count, rng: &rng)
        }
        return s.utf8.count > want ? String(s.utf8.prefix(want))! : s
    }

    /// Arrival `k`'s `max_tokens`, when the trace gives one.
    public func maxTokens(_ k: UInt64) -> Int? { k < UInt64(entries.count) ? entries[Int(k)].outputTokens : nil }
}

/// Generated text blocks by id, kept up to a byte bound (then dropped all at once and rebuilt
/// as needed): memory stays bounded whatever the trace's number of distinct hash ids.
public struct BlockCache: Sendable {
    private var blocks: [UInt64: String] = [:]
    private var bytes = 0
    /// The most text bytes kept; 0 keeps nothing.
    public let maxBytes: Int
    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Block `id`, made by `make` when it is not kept.
    public mutating func block(_ id: UInt64, _ make: () -> String) -> String {
        if let b = blocks[id] { return b }
        let b = make()
        guard maxBytes > 0 else { return b }
        if bytes + b.utf8.count > maxBytes { blocks.removeAll(keepingCapacity: true); bytes = 0 }
        blocks[id] = b
        bytes += b.utf8.count
        return b
    }
}
