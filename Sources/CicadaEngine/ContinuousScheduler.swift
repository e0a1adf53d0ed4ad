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

        public init(maxNumSeqs: Int = 256, maxNumBatchedTokens: Int = 8192, blockSize: Int = 16, totalBlocks: Int, chunkedPrefill: Bool = true) {
            self.maxNumSeqs = maxNumSeqs; self.maxNumBatchedTokens = maxNumBatchedTokens; self.blockSize = blockSize
            self.totalBlocks = totalBlocks; self.chunkedPrefill = chunkedPrefill
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
        /// Blocks it holds.
        var blocks = 0
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
    /// KV blocks not held by any sequence.
    public private(set) var freeBlocks: Int
    /// Preemptions so far (`vllm:num_preemptions_total`).
    public private(set) var preemptions = 0

    public init(config: Config) {
        self.config = config
        freeBlocks = config.totalBlocks
    }

    /// Requests waiting to be admitted (`vllm:num_requests_waiting`).
    public var waitingCount: Int { waiting.count }
    /// Requests admitted and not finished (`vllm:num_requests_running`).
    public var runningCount: Int { running.count }
    /// KV blocks held by sequences.
    public var usedBlocks: Int { config.totalBlocks - freeBlocks }
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
    public var kvCacheUsage: Double { Double(config.totalBlocks - freeBlocks) / Double(config.totalBlocks) }

    /// Queues a request. A prompt that could never fit in the whole cache is refused (the
    /// caller answers it with an error, as vLLM refuses a prompt longer than the model allows).
    public mutating func add(id: UInt64, promptTokens: Int, maxOutputTokens: Int) -> Bool {
        let s = Sequence(id: id, promptTokens: max(promptTokens, 1), maxOutputTokens: max(maxOutputTokens, 1))
        guard blocks(for: s.promptTokens + s.maxOutputTokens) <= config.totalBlocks else { return false }
        waiting.append(s)
        return true
    }

    /// Removes a request (its client went away); its blocks are freed.
    public mutating func abort(id: UInt64) {
        if let i = running.firstIndex(where: { $0.id == id }) { freeBlocks += running[i].blocks; running.remove(at: i) }
        waiting.removeAll { $0.id == id }
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
            let needed = blocks(for: running[i].computed + 1) - running[i].blocks
            if needed > freeBlocks {
                // Preempt from the newest end until the block is there (or this one is preempted).
                var preemptedSelf = false
                while needed > freeBlocks {
                    let victim = running.count - 1
                    preempt(at: victim, into: &it)
                    if victim == i { preemptedSelf = true; break }
                }
                if preemptedSelf { continue }
            }
            freeBlocks -= needed
            running[i].blocks += needed
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
            let needed = blocks(for: s.computed + chunk) - s.blocks
            guard needed <= freeBlocks else { return false }
            freeBlocks -= needed
            s.blocks += needed
            s.computed += chunk
            budget -= chunk
            it.prefillTokens += chunk
            it.prefillSequences += 1
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
        while budget > 0, running.count < config.maxNumSeqs, let next = waiting.first {
            running.append(next)
            if prefill(running.count - 1) { waiting.removeFirst() } else { running.removeLast(); break }
        }

        // Finished sequences free their blocks.
        running.removeAll { s in
            guard s.generated >= s.maxOutputTokens else { return false }
            it.finished.append(s.id)
            freeBlocks += s.blocks
            return true
        }
        return it
    }

    private mutating func preempt(at idx: Int, into it: inout Iteration) {
        var s = running.remove(at: idx)
        freeBlocks += s.blocks
        s.blocks = 0
        s.computed = 0
        waiting.insert(s, at: 0)
        preemptions += 1
        it.preempted.append(s.id)
    }

    /// Blocks held by sequences plus free blocks: always the total (for tests of the accounting).
    var accountedBlocks: Int { freeBlocks + running.reduce(0) { $0 + $1.blocks } }
}
