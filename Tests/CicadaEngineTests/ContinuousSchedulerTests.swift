@testable import CicadaEngine
import CicadaCore
import Testing

/// The continuous-batching scheduler in virtual time: one `step()` per model iteration.
@Suite struct ContinuousSchedulerTests {
    typealias Config = ContinuousScheduler.Config

    /// Steps until nothing is left (at most `limit` steps); the iterations.
    func drain(_ s: inout ContinuousScheduler, limit: Int = 100_000) -> [ContinuousScheduler.Iteration] {
        var out: [ContinuousScheduler.Iteration] = []
        while s.waitingCount + s.runningCount > 0, out.count < limit {
            let it = s.step()
            #expect(s.freeBlocks >= 0 && s.freeBlocks <= s.config.totalBlocks)
            #expect(s.accountedBlocks == s.config.totalBlocks, "every block is free or held")
            #expect(it.prefillTokens + it.decodeSequences <= s.config.maxNumBatchedTokens, "token budget")
            #expect(s.runningCount <= s.config.maxNumSeqs)
            out.append(it)
        }
        return out
    }

    @Test func oneRequestPrefillsThenDecodesToItsLength() {
        var s = ContinuousScheduler(config: Config(totalBlocks: 1000))
        let added = s.add(id: 1, promptTokens: 100, maxOutputTokens: 5)
        #expect(added)
        let its = drain(&s)
        #expect(its.count == 5, "one prefill iteration (with the first token), then 4 decodes")
        #expect(its[0].prefillTokens == 100 && its[0].firstTokens == [1] && its[0].tokens == [1])
        #expect(its[1...].allSatisfy { $0.prefillTokens == 0 && $0.decodeSequences == 1 })
        #expect(its.last?.finished == [1])
        #expect(s.freeBlocks == 1000)
    }

    @Test func aLongPromptIsChunkedAcrossIterations() {
        var s = ContinuousScheduler(config: Config(maxNumBatchedTokens: 4096, totalBlocks: 10_000))
        _ = s.add(id: 1, promptTokens: 10_000, maxOutputTokens: 2)
        let its = drain(&s)
        #expect(its.map(\.prefillTokens) == [4096, 4096, 1808, 0])
        #expect(its[2].firstTokens == [1])
        // Without chunking a prompt over the budget never starts; one within it goes whole.
        var whole = ContinuousScheduler(config: Config(maxNumBatchedTokens: 4096, totalBlocks: 10_000, chunkedPrefill: false))
        _ = whole.add(id: 2, promptTokens: 3000, maxOutputTokens: 1)
        #expect(whole.step().prefillTokens == 3000)
    }

    @Test func decodesComeFirstAndAdmissionRespectsMaxNumSeqs() {
        var s = ContinuousScheduler(config: Config(maxNumSeqs: 4, maxNumBatchedTokens: 64, totalBlocks: 1000))
        for id in 1...6 { _ = s.add(id: UInt64(id), promptTokens: 10, maxOutputTokens: 3) }
        let first = s.step()
        #expect(first.firstTokens == [1, 2, 3, 4] && s.runningCount == 4 && s.waitingCount == 2)
        let second = s.step()
        #expect(second.decodeSequences == 4 && second.prefillTokens == 0, "no room for more sequences")
        let rest = drain(&s)
        let produced = ([first, second] + rest).flatMap(\.tokens)
        for id in 1...6 { #expect(produced.filter { $0 == UInt64(id) }.count == 3, "request \(id) gets exactly its tokens") }
    }

    /// A cache too small for every sequence at its longest: the newest running sequence is
    /// preempted and recomputes; every request still ends with exactly its tokens, each first
    /// token emitted once, and nobody starves.
    @Test func preemptionWhenBlocksRunOutLosesNothing() {
        var s = ContinuousScheduler(config: Config(maxNumSeqs: 16, maxNumBatchedTokens: 512, blockSize: 16, totalBlocks: 40))
        var rng = SeededRandom(seed: 7)
        var want: [UInt64: Int] = [:]
        for id in 1...30 {
            let out = 20 + Int(rng.next() % 60)
            let added = s.add(id: UInt64(id), promptTokens: 40 + Int(rng.next() % 80), maxOutputTokens: out)
            #expect(added)
            want[UInt64(id)] = out
        }
        let its = drain(&s)
        #expect(s.waitingCount + s.runningCount == 0, "all done within the step limit")
        #expect(s.preemptions > 0, "the small cache forced preemption")
        let tokens = its.flatMap(\.tokens)
        for (id, n) in want { #expect(tokens.filter { $0 == id }.count == n, "request \(id)") }
        let firsts = its.flatMap(\.firstTokens)
        #expect(firsts.count == 30 && Set(firsts).count == 30)
        #expect(Set(its.flatMap(\.finished)) == Set(want.keys))
        #expect(s.freeBlocks == 40)
    }

    @Test func aPromptThatCanNeverFitIsRefusedAndAbortFreesBlocks() {
        var s = ContinuousScheduler(config: Config(blockSize: 16, totalBlocks: 10))
        let tooBig = s.add(id: 1, promptTokens: 150, maxOutputTokens: 20)
        #expect(!tooBig, "170 tokens need 11 blocks of 10")
        let fits = s.add(id: 2, promptTokens: 100, maxOutputTokens: 50)
        #expect(fits)
        _ = s.step()
        #expect(s.freeBlocks < 10 && s.kvCacheUsage > 0)
        s.abort(id: 2)
        #expect(s.freeBlocks == 10 && s.runningCount == 0)
        #expect(Config(maxNumSeqs: 64, maxNumBatchedTokens: 32, totalBlocks: 0).validate().count == 2)
    }
}
