@testable import CicadaEngine
import CicadaCore
import Testing

/// Automatic prefix caching in the continuous scheduler, in virtual time: shared prompt blocks
/// computed once, used by later prompts that start alike, kept while unused and evicted oldest
/// first when a sequence needs room; the block accounting always adds up.
@Suite struct PrefixCachingTests {
    typealias Config = ContinuousScheduler.Config

    /// Steps until nothing is left, checking the accounting after every step.
    func drain(_ s: inout ContinuousScheduler, limit: Int = 100_000) -> [ContinuousScheduler.Iteration] {
        var out: [ContinuousScheduler.Iteration] = []
        while s.waitingCount + s.runningCount > 0, out.count < limit {
            out.append(s.step())
            #expect(s.accountedBlocks == s.config.totalBlocks, "every block is free, held or cached")
            #expect(s.evictableBlocks == s.evictableRecount)
            #expect(s.freeBlocks >= 0 && s.usedBlocks >= 0)
        }
        return out
    }

    /// Hashes for a prompt of `blocks` full blocks whose first `shared` blocks are common.
    static func hashes(shared: Int, own: Int, tag: UInt64) -> [UInt64] {
        (0..<shared).map { UInt64($0 + 1) } + (0..<own).map { tag << 32 | UInt64($0 + 1) }
    }

    @Test func aSecondPromptWithTheSamePrefixSkipsItsPrefill() {
        var s = ContinuousScheduler(config: Config(blockSize: 16, totalBlocks: 1000, prefixCaching: true))
        // 8 shared blocks (128 tokens) + 2 of its own + 5 tokens.
        _ = s.add(id: 1, promptTokens: 165, maxOutputTokens: 3, prefixHashes: Self.hashes(shared: 8, own: 2, tag: 1))
        let first = drain(&s)
        #expect(first[0].prefillTokens == 165)
        #expect(s.cachedBlocks == 10, "its 10 full prompt blocks stay cached")
        #expect(s.usedBlocks == 0 && s.evictableBlocks == 10, "cached, but used by nobody: not in use")
        _ = s.add(id: 2, promptTokens: 165, maxOutputTokens: 3, prefixHashes: Self.hashes(shared: 8, own: 2, tag: 2))
        let second = drain(&s)
        #expect(second[0].prefillTokens == 165 - 128, "the 8 shared blocks are not computed again")
        #expect(second[0].firstTokens == [2])
        #expect(s.prefixQueryTokens == 330 && s.prefixHitTokens == 128)
        #expect(s.cachedBlocks == 12)
    }

    @Test func aWholePromptHitStillComputesItsLastToken() {
        var s = ContinuousScheduler(config: Config(blockSize: 16, totalBlocks: 1000, prefixCaching: true))
        let h = Self.hashes(shared: 4, own: 0, tag: 0)
        _ = s.add(id: 1, promptTokens: 64, maxOutputTokens: 1, prefixHashes: h)
        _ = drain(&s)
        _ = s.add(id: 2, promptTokens: 64, maxOutputTokens: 2, prefixHashes: h)
        let its = drain(&s)
        #expect(its[0].prefillTokens == 1 && its[0].firstTokens == [2], "the first token needs one forward pass")
        #expect(its.flatMap(\.tokens).filter { $0 == 2 }.count == 2)
    }

    @Test func runningSequencesShareBlocksAndUsageCountsThemOnce() {
        var s = ContinuousScheduler(config: Config(maxNumBatchedTokens: 8192, blockSize: 16, totalBlocks: 1000, prefixCaching: true))
        _ = s.add(id: 1, promptTokens: 160, maxOutputTokens: 50, prefixHashes: Self.hashes(shared: 10, own: 0, tag: 1))
        _ = s.step()
        for id in 2...5 { _ = s.add(id: UInt64(id), promptTokens: 160, maxOutputTokens: 50, prefixHashes: Self.hashes(shared: 10, own: 0, tag: UInt64(id))) }
        _ = s.step()
        #expect(s.runningCount == 5)
        // 10 shared prompt blocks once, plus each sequence's own block for its new tokens.
        #expect(s.usedBlocks <= 10 + 5 * 1 + 5, "shared blocks are not counted per sequence: \(s.usedBlocks)")
        _ = drain(&s)
        #expect(s.usedBlocks == 0 && s.accountedBlocks == s.config.totalBlocks)
    }

    @Test func unusedCachedBlocksAreEvictedOldestFirstBeforeAnyPreemption() {
        // Room for 20 blocks: two finished prompts fill 16 of them with cached blocks.
        var s = ContinuousScheduler(config: Config(blockSize: 16, totalBlocks: 20, prefixCaching: true))
        _ = s.add(id: 1, promptTokens: 128, maxOutputTokens: 1, prefixHashes: Self.hashes(shared: 0, own: 8, tag: 1))
        _ = drain(&s)
        _ = s.add(id: 2, promptTokens: 128, maxOutputTokens: 1, prefixHashes: Self.hashes(shared: 0, own: 8, tag: 2))
        _ = drain(&s)
        #expect(s.cachedBlocks == 16 && s.freeBlocks == 4)
        // A third needs 10 blocks: 6 come from evicting the oldest unused ones (request 1's).
        _ = s.add(id: 3, promptTokens: 150, maxOutputTokens: 2, prefixHashes: Self.hashes(shared: 0, own: 9, tag: 3))
        let its = drain(&s)
        #expect(its.flatMap(\.preempted).isEmpty)
        #expect(its[0].prefillTokens == 150)
        // Request 2's prompt is still cached whole; request 1's lost its oldest blocks.
        _ = s.add(id: 4, promptTokens: 129, maxOutputTokens: 1, prefixHashes: Self.hashes(shared: 0, own: 8, tag: 2))
        #expect(s.step().prefillTokens == 1, "request 2's blocks survived")
        _ = drain(&s)
        _ = s.add(id: 5, promptTokens: 129, maxOutputTokens: 1, prefixHashes: Self.hashes(shared: 0, own: 8, tag: 1))
        #expect(s.step().prefillTokens > 1, "request 1's blocks were evicted first")
    }

    @Test func offMeansNoSharing() {
        var s = ContinuousScheduler(config: Config(blockSize: 16, totalBlocks: 1000))
        let h = Self.hashes(shared: 8, own: 0, tag: 0)
        _ = s.add(id: 1, promptTokens: 128, maxOutputTokens: 1, prefixHashes: h)
        _ = drain(&s)
        _ = s.add(id: 2, promptTokens: 128, maxOutputTokens: 1, prefixHashes: h)
        #expect(s.step().prefillTokens == 128)
        #expect(s.cachedBlocks == 0 && s.prefixQueryTokens == 0)
    }

    /// Random arrivals, aborts and tight memory: the accounting holds at every step, every
    /// request that is not aborted gets exactly its tokens, and nothing is left held at the end.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func accountingHoldsUnderRandomLoad(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var s = ContinuousScheduler(config: Config(maxNumSeqs: 8, maxNumBatchedTokens: 256, blockSize: 16, totalBlocks: 60, prefixCaching: true))
        var want: [UInt64: Int] = [:], got: [UInt64: Int] = [:]
        var aborted: Set<UInt64> = []
        var next: UInt64 = 1
        for _ in 0..<400 {
            if rng.unit() < 0.4 {
                let shared = Int(rng.unit() * 4), own = Int(rng.unit() * 3)
                let prompt = (shared + own) * 16 + Int(rng.unit() * 15) + 1
                let out = Int(rng.unit() * 40) + 1
                if s.add(id: next, promptTokens: prompt, maxOutputTokens: out, prefixHashes: Self.hashes(shared: shared, own: own, tag: next)) { want[next] = out }
                next += 1
            }
            if rng.unit() < 0.03, let victim = want.keys.filter({ !aborted.contains($0) && got[$0, default: 0] < want[$0]! }).min() {
                s.abort(id: victim); aborted.insert(victim)
            }
            let it = s.step()
            for id in it.tokens { got[id, default: 0] += 1 }
            #expect(s.accountedBlocks == s.config.totalBlocks)
            #expect(s.evictableBlocks == s.evictableRecount)
        }
        for it in drain(&s) { for id in it.tokens { got[id, default: 0] += 1 } }
        #expect(s.waitingCount + s.runningCount == 0, "stuck: waiting \(s.waitingCount) running \(s.runningCount) free \(s.freeBlocks) evictable \(s.evictableBlocks) cached \(s.cachedBlocks)")
        for (id, n) in want where !aborted.contains(id) { #expect(got[id] == n, "request \(id)") }
        #expect(s.usedBlocks == 0)
        #expect(s.prefixHitTokens <= s.prefixQueryTokens)
    }

    @Test func promptHashesNameEqualPrefixesOnly() {
        let a = PrefixBlocks.hashes(String(repeating: "abcd", count: 40) + "tail one", blockSize: 16)
        let b = PrefixBlocks.hashes(String(repeating: "abcd", count: 40) + "other end", blockSize: 16)
        #expect(a.count == 2 && b.count == 2, "160 characters: two full blocks of 64")
        #expect(a == b)
        let c = PrefixBlocks.hashes("x" + String(repeating: "abcd", count: 40), blockSize: 16)
        #expect(c[0] != a[0] && c[1] != a[1], "a different first block changes every later hash")
        #expect(PrefixBlocks.hashes("short", blockSize: 16).isEmpty)
    }
}
