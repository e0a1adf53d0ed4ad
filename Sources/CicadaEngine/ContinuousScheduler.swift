/// Iteration-level scheduling with a paged KV cache, as vLLM does it (issue 16): the second
/// scheduler beside the Triton-style ``DynamicBatcherStateMachine``. Pure: the caller runs one
/// ``ContinuousScheduler/step()`` per model iteration and times it with the device model.
///
/// Each step, within `maxNumBatchedTokens`:
/// 1. every running sequence that has finished its prefill decodes one token; one that needs a
///    new KV block and finds none preempts the newest running sequence (recompute: its blocks are
///    freed and it goes back to the head of the queue, keeping the tokens it already produced),
///    and if it is itself the newest, it is the one preempted;
/// 2. running sequences part-way through a chunked prefill take the next chunk;
/// 3. waiting sequences are admitted in arrival order while `maxNumSeqs`, the token budget and
///    free blocks allow (no admission ever preempts).
/// A sequence whose prefill completes in a step emits its first token in that step (sampling
/// follows the forward pass), as vLLM does. Simplifications against vLLM are in docs/ENGINE.md.
public struct ContinuousScheduler: Sendable {
    /// vLLM's knobs with vLLM's meanings.
    public struct Config: Sendable, Equatable {
        /// Most sequences running at once (`max_num_seqs`).
        public var maxNumSeqs: Int
        /// Most tokens (prefill chunks + one per decoding sequence) in one iteration (`max_num_batched_tokens`).
        public var maxNumBatchedTokens: Int
        /// Tokens per KV block (`block_size`).
        public var blockSize: Int
        /// KV blocks on the device (from the memory left after the weights at `gpu_memory_utilization`).
        public var totalBlocks: Int
        /// Split a long prompt's prefill across iterations (`enable_chunked_prefill`).
        public var chunkedPrefill: Bool
        /// Keep the KV blocks of finished prompts, keyed by their content, and let a later prompt
        /// that starts with the same blocks use them instead of computing them again
        /// (`enable_prefix_caching`, vLLM's automatic prefix caching).
        public var prefixCaching: Bool

        public init(maxNumSeqs: Int = 256, maxNumBatchedTokens: Int = 8192, blockSize: Int = 16, totalBlocks: Int, chunkedPrefill: Bool = true,
                    prefixCaching: Bool = false) {
            self.maxNumSeqs = maxNumSeqs; self.maxNumBatchedTokens = maxNumBatchedTokens; self.blockSize = blockSize
            self.totalBlocks = totalBlocks; self.chunkedPrefill = chunkedPrefill; self.prefixCaching = prefixCaching
        }

        /// Problems that make the configuration unusable (empty when fine).
        public func validate() -> [String] {
            var p: [String] = []
            if maxNumSeqs < 1 { p.append("max_num_seqs must be at least 1") }
            if blockSize < 1 { p.append("block_size must be at least 1") }
            if totalBlocks < 1 { p.append("no KV cache blocks fit in the device memory left after the weights") }
            if maxNumBatchedTokens < maxNumSeqs { p.append("max_num_batched_tokens (\(maxNumBatchedTokens)) must be at least max_num_seqs (\(maxNumSeqs))") }
            return p
        }
    }

    /// One request's progress.
    struct Sequence: Sendable {
        let id: UInt64
        let promptTokens: Int
        let maxOutputTokens: Int
        /// Tokens produced so far (kept across a preemption).
        var generated = 0
        /// Tokens whose KV is in the cache (0 after a preemption). While decoding it is
        /// `prompt + generated - 1`: the newest token goes through the model in the next step.
        var computed = 0
        /// Blocks it holds alone.
        var blocks = 0
        /// The content hashes of its prompt's full blocks, in order (empty without prefix caching).
        var prefix: [UInt64] = []
        /// The cached blocks it uses (a prefix of ``prefix``), shared with other sequences.
        var shared: [UInt64] = []
        /// Blocks it holds, alone or shared.
        var held: Int { blocks + shared.count }
        /// The tokens whose KV must be computed before it can decode: the prompt, plus after a
        /// preemption every produced token but the newest.
        var target: Int { promptTokens + max(generated - 1, 0) }
        var prefillDone: Bool { computed >= target }
    }

    /// What one iteration did.
    public struct Iteration: Sendable, Equatable {
        /// Prefill tokens computed this iteration (all chunks together).
        public var prefillTokens = 0
        /// Sequences that decoded one token.
        public var decodeSequences = 0
        /// Sequences that computed a prefill chunk (fresh, continued or recomputed).
        public var prefillSequences = 0
        /// Tokens in the cache of the decoding sequences (for the decode step's time).
        public var decodeContextTokens = 0
        /// Sequences that produced their first token this iteration.
        public var firstTokens: [UInt64] = []
        /// Every sequence that produced a token this iteration (first tokens included).
        public var tokens: [UInt64] = []
        /// Sequences that finished (their last token is in ``tokens``).
        public var finished: [UInt64] = []
        /// Sequences preempted for blocks (they will recompute).
        public var preempted: [UInt64] = []
        /// Whether the iteration did any work.
        public var isEmpty: Bool { prefillTokens == 0 && decodeSequences == 0 }
    }

    /// The configuration in force (``reconfigure(maxNumSeqs:maxNumBatchedTokens:)`` changes its limits).
    public private(set) var config: Config
    private var waiting: [Sequence] = []
    private var running: [Sequence] = []
    /// KV blocks neither held by a sequence nor kept in the prefix cache.
    public private(set) var freeBlocks: Int
    /// Preemptions so far (`vllm:num_preemptions_total`).
    public private(set) var preemptions = 0
    /// Prefix caching: prompt tokens looked up, and those found already computed
    /// (`vllm:prefix_cache_queries_total`, `vllm:prefix_cache_hits_total`).
    public private(set) var prefixQueryTokens = 0
    public private(set) var prefixHitTokens = 0
    /// Cached blocks by content hash: how many running sequences use each, and when it was last used.
    private var cached: [UInt64: (refs: Int, lastUse: UInt64)] = [:]
    /// Cached blocks no sequence uses: reusable on a hit, evicted (least recently used first)
    /// when a sequence needs a block and none is free.
    public private(set) var evictableBlocks = 0
    private var evictionQueue = MinHeap()
    private var tick: UInt64 = 0

    public init(config: Config) {
        self.config = config
        freeBlocks = config.totalBlocks
    }

    /// Requests waiting to be admitted (`vllm:num_requests_waiting`).
    public var waitingCount: Int { waiting.count }
    /// Requests admitted and not finished (`vllm:num_requests_running`).
    public var runningCount: Int { running.count }
    /// KV blocks held by sequences (a cached block no sequence uses is not counted, as vLLM counts).
    public var usedBlocks: Int { config.totalBlocks - freeBlocks - evictableBlocks }
    /// Blocks in the prefix cache, used or not.
    public var cachedBlocks: Int { cached.count }
    /// The request at the head of the waiting queue (the next to be admitted), if any.
    public var nextWaitingID: UInt64? { waiting.first?.id }
    /// Whether `id` is waiting or running.
    public func contains(id: UInt64) -> Bool { waiting.contains { $0.id == id } || running.contains { $0.id == id } }

    /// Changes the admission limits live (the cache's size and block size stay). Running
    /// sequences above a lowered `maxNumSeqs` finish normally; no new one is admitted until
    /// the count is under the new limit.
    public mutating func reconfigure(maxNumSeqs: Int, maxNumBatchedTokens: Int) {
        config.maxNumSeqs = maxNumSeqs
        config.maxNumBatchedTokens = maxNumBatchedTokens
    }

    /// KV blocks in use as a fraction of all (`vllm:kv_cache_usage_perc`, 0...1).
    public var kvCacheUsage: Double { Double(usedBlocks) / Double(config.totalBlocks) }

    /// Queues a request. A prompt that could never fit in the whole cache is refused (the
    /// caller answers it with an error, as vLLM refuses a prompt longer than the model allows).
    /// `prefixHashes` names the prompt's full blocks by content (``PrefixBlocks``); they are used
    /// only when ``Config/prefixCaching`` is on.
    public mutating func add(id: UInt64, promptTokens: Int, maxOutputTokens: Int, prefixHashes: [UInt64] = []) -> Bool {
        var s = Sequence(id: id, promptTokens: max(promptTokens, 1), maxOutputTokens: max(maxOutputTokens, 1))
        if config.prefixCaching { s.prefix = Array(prefixHashes.prefix(s.promptTokens / config.blockSize)) }
        guard blocks(for: s.promptTokens + s.maxOutputTokens) <= config.totalBlocks else { return false }
        waiting.append(s)
        return true
    }

    /// Removes a request (its client went away); its blocks are freed.
    public mutating func abort(id: UInt64) {
        if let i = running.firstIndex(where: { $0.id == id }) {
            var s = running.remove(at: i)
            release(&s)
        }
        waiting.removeAll { $0.id == id }
    }

    /// Forgets every cached block no running sequence uses (vLLM's `reset_prefix_cache`); blocks
    /// in use stay until their sequences end. The hit and query counts stay.
    public mutating func resetPrefixCache() {
        for (h, c) in cached where c.refs == 0 { cached[h] = nil }
        freeBlocks += evictableBlocks
        evictableBlocks = 0
        evictionQueue = MinHeap()
    }

    /// Blocks a sequence can get now: free ones, and cached ones no sequence uses.
    var available: Int { freeBlocks + evictableBlocks }

    /// Takes `n` blocks (at most ``available``), evicting unused cached blocks, oldest use first,
    /// when too few are free.
    mutating func take(_ n: Int) {
        while freeBlocks < n, let (use, hash) = evictionQueue.pop() {
            // Stale entries (the block was used again, or is gone) are skipped.
            guard let c = cached[hash], c.refs == 0, c.lastUse == use else { continue }
            cached[hash] = nil
            evictableBlocks -= 1
            freeBlocks += 1
        }
        freeBlocks -= n
    }

    /// Gives back everything a sequence holds: its own blocks are free, its shared ones stay cached.
    mutating func release(_ s: inout Sequence) {
        freeBlocks += s.blocks
        s.blocks = 0
        for h in s.shared { unref(h) }
        s.shared = []
    }

    mutating func unref(_ h: UInt64) {
        guard var c = cached[h] else { return }
        c.refs -= 1
        tick += 1
        c.lastUse = tick
        cached[h] = c
        if c.refs == 0 { evictableBlocks += 1; evictionQueue.push((c.lastUse, h)) }
    }

    /// A fresh (or preempted) sequence about to be admitted takes the longest run of its prompt's
    /// blocks that is cached; those tokens count as computed (all but the prompt's last token,
    /// which must go through the model to sample the first output, as vLLM does).
    mutating func attachPrefix(_ s: inout Sequence) {
        guard config.prefixCaching, s.computed == 0, s.shared.isEmpty else { return }
        prefixQueryTokens += s.promptTokens
        for h in s.prefix {
            guard var c = cached[h] else { break }
            if c.refs == 0 { evictableBlocks -= 1 }
            c.refs += 1
            tick += 1
            c.lastUse = tick
            cached[h] = c
            s.shared.append(h)
        }
        s.computed = min(s.shared.count * config.blockSize, s.target - 1)
        prefixHitTokens += s.computed
    }

    /// Undoes ``attachPrefix(_:)`` for a sequence that could not be admitted after all.
    mutating func detachPrefix(_ s: inout Sequence) {
        guard !s.shared.isEmpty else { return }
        prefixHitTokens -= s.computed
        prefixQueryTokens -= s.promptTokens
        for h in s.shared {
            guard var c = cached[h] else { continue }
            c.refs -= 1
            cached[h] = c
            if c.refs == 0 { evictableBlocks += 1; evictionQueue.push((c.lastUse, h)) }
        }
        s.shared = []
        s.computed = 0
    }

    /// A sequence whose prompt is now computed hands its full prompt blocks to the cache (or, for
    /// a block another sequence cached meanwhile, uses that one and frees its own).
    mutating func registerPrefix(_ s: inout Sequence) {
        guard config.prefixCaching, s.shared.count < s.prefix.count else { return }
        for j in s.shared.count..<s.prefix.count {
            guard s.blocks > 0 else { break }
            let h = s.prefix[j]
            tick += 1
            if var c = cached[h] {
                if c.refs == 0 { evictableBlocks -= 1 }
                c.refs += 1
                c.lastUse = tick
                cached[h] = c
                freeBlocks += 1
            } else {
                cached[h] = (1, tick)
            }
            s.blocks -= 1
            s.shared.append(h)
        }
    }

    func blocks(for tokens: Int) -> Int { (tokens + config.blockSize - 1) / config.blockSize }

    /// Runs one iteration's scheduling and bookkeeping.
    public mutating func step() -> Iteration {
        var it = Iteration()
        var budget = config.maxNumBatchedTokens

        // 1. Decodes, oldest first; a decode short of a block preempts the newest sequence.
        var i = 0
        while i < running.count {
            guard running[i].prefillDone else { i += 1; continue }
            guard budget > 0 else { break }
            let needed = blocks(for: running[i].computed + 1) - running[i].held
            if needed > available {
                // Preempt from the newest end until the block is there (or this one is preempted).
                var preemptedSelf = false
                while needed > available {
                    let victim = running.count - 1
                    preempt(at: victim, into: &it)
                    if victim == i { preemptedSelf = true; break }
                }
                if preemptedSelf { continue }
            }
            if needed > 0 { take(needed); running[i].blocks += needed }
            it.decodeContextTokens += running[i].computed
            running[i].computed += 1
            running[i].generated += 1
            it.decodeSequences += 1
            it.tokens.append(running[i].id)
            budget -= 1
            i += 1
        }

        // 2. Chunks of prefills under way, then 3. admissions, in order.
        func prefill(_ idx: Int) -> Bool {
            var s = running[idx]
            let left = s.target - s.computed
            let chunk = config.chunkedPrefill ? min(left, budget) : (left <= budget ? left : 0)
            guard chunk > 0 else { return false }
            let needed = max(0, blocks(for: s.computed + chunk) - s.held)
            guard needed <= available else { return false }
            take(needed)
            s.blocks += needed
            s.computed += chunk
            budget -= chunk
            it.prefillTokens += chunk
            it.prefillSequences += 1
            if s.prefillDone { registerPrefix(&s) }
            if s.prefillDone, s.generated == 0 {
                // The pass that completes a fresh prefill samples the first token. A recompute
                // after preemption produces nothing: its next token comes from the next decode.
                it.firstTokens.append(s.id)
                s.generated = 1
                it.tokens.append(s.id)
            }
            running[idx] = s
            return true
        }
        for idx in running.indices where !running[idx].prefillDone && budget > 0 { _ = prefill(idx) }
        while budget > 0, running.count < config.maxNumSeqs, var next = waiting.first {
            attachPrefix(&next)
            running.append(next)
            if prefill(running.count - 1) { waiting.removeFirst() } else {
                var back = running.removeLast()
                detachPrefix(&back)
                break
            }
        }

        // Finished sequences free their blocks.
        var kept: [Sequence] = []
        kept.reserveCapacity(running.count)
        for var s in running {
            if s.generated >= s.maxOutputTokens {
                it.finished.append(s.id)
                release(&s)
            } else {
                kept.append(s)
            }
        }
        running = kept
        return it
    }

    private mutating func preempt(at idx: Int, into it: inout Iteration) {
        var s = running.remove(at: idx)
        release(&s)
        s.computed = 0
        waiting.insert(s, at: 0)
        preemptions += 1
        it.preempted.append(s.id)
    }

    /// Blocks held by sequences plus free blocks: always the total (for tests of the accounting).
    var accountedBlocks: Int { freeBlocks + running.reduce(0) { $0 + $1.blocks } + cached.count }

    /// Unused cached blocks counted two ways (for tests of the accounting).
    var evictableRecount: Int { cached.values.filter { $0.refs == 0 }.count }
}

/// A binary min-heap of (last use, block hash): the prefix cache's eviction order, with stale
/// entries skipped when popped.
struct MinHeap: Sendable {
    private var items: [(UInt64, UInt64)] = []
    var isEmpty: Bool { items.isEmpty }
    mutating func push(_ e: (UInt64, UInt64)) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].0 < items[parent].0 else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }
    mutating func pop() -> (UInt64, UInt64)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l].0 < items[m].0 { m = l }
            if r < items.count, items[r].0 < items[m].0 { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}

/// Content hashes of a prompt's full KV blocks, for prefix caching: the prompt is cut into
/// blocks of `blockSize` tokens at the engine's approximate 4 characters a token, and block `i`'s
/// hash covers blocks `0...i` (FNV-1a, chained), so equal hashes mean equal prefixes.
public enum PrefixBlocks {
    public static func hashes(_ text: String, blockSize: Int) -> [UInt64] {
        let chars = Array(text.unicodeScalars)
        let perBlock = max(1, blockSize) * 4
        let full = chars.count / perBlock
        var out: [UInt64] = []
        out.reserveCapacity(full)
        var h: UInt64 = 0xcbf29ce484222325
        for b in 0..<full {
            for u in chars[(b * perBlock)..<((b + 1) * perBlock)] {
                var v = u.value
                for _ in 0..<4 { h = (h ^ UInt64(v & 0xff)) &* 0x100000001b3; v >>= 8 }
            }
            out.append(h)
        }
        return out
    }
}
