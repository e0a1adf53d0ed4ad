@testable import CicadaEngine
import CicadaCore
import Testing

/// The device-model side of continuous batching: iteration times and the KV cache's size, and
/// the scheduler's settings. Pure arithmetic, no clock.
@Suite struct ContinuousEngineModelTests {
    let a100 = try! DeviceModel(gpu: "A100-80GB", model: "deepseek-llm-7b")

    @Test(arguments: [1, 128, 4096])
    func anIterationOfOnlyPrefillIsThePrefillPass(tokens: Int) {
        #expect(a100.iteration(prefillTokens: tokens, decodeSequences: 0, decodeContextTokens: 999) == a100.prefill(tokens: tokens),
                "decode context is ignored without decodes")
    }

    @Test(arguments: [(1, 129), (32, 4096 + 32), (256, 256 * 600)])
    func anIterationOfOnlyDecodesIsTheDecodeStep(batch: Int, context: Int) {
        #expect(a100.iteration(prefillTokens: 0, decodeSequences: batch, decodeContextTokens: context)
                == a100.decodeStep(batchSize: batch, contextTokens: context))
    }

    @Test func aMixedIterationReadsTheWeightsOnce() {
        // A 512-token chunk beside 32 decodes: cheaper than the two passes apart, dearer than either.
        let mixed = a100.iterationTime(prefillTokens: 512, decodeSequences: 32, decodeContextTokens: 32 * 300)
        let prefill = a100.prefillTime(tokens: 512), decode = a100.decodeStepTime(batchSize: 32, contextTokens: 32 * 300)
        #expect(mixed < prefill + decode)
        #expect(mixed >= max(prefill, decode))
        // Compute-bound here: 2 x P x 544 tokens / (312e12 x 0.5).
        let expected = 2 * Double(a100.model.activeParameters) * 544 / 156e12
        #expect(abs(mixed.seconds - expected) < 1e-9)
        #expect(a100.iterationTime(prefillTokens: 0, decodeSequences: 0, decodeContextTokens: 0) == .zero)
    }

    @Test func theKVCacheIsWhatIsLeftAfterWeightsAndWorkspace() {
        // A100-80GB, 7B fp16, vLLM's defaults: 0.9 x 80 GiB, less 13,820,731,392 B of weights and
        // 512 MiB + 8192 x 61,696 x 2 B + 256 x 102,400 x 4 B of workspace, in blocks of
        // 16 x 491,520 B.
        let budget = Int(Double(80 << 30) * 0.9)
        let workspace = 536_870_912 + 8192 * 61_696 * 2 + 256 * 102_400 * 4
        let expected = (budget - 13_820_731_392 - workspace) / (16 * 491_520)
        let blocks = a100.kvCacheBlocks(blockSize: 16, gpuMemoryUtilization: 0.9, maxNumBatchedTokens: 8192, maxNumSeqs: 256)
        #expect(blocks == expected)
        #expect(blocks == 7862, "about 126k tokens of cache, the figure docs/ENGINE.md gives")
        #expect(a100.kvCacheBlocks(blockSize: 16, gpuMemoryUtilization: 0.5, maxNumBatchedTokens: 8192, maxNumSeqs: 256) < blocks)
        #expect(a100.kvCacheBlocks(blockSize: 32, gpuMemoryUtilization: 0.9, maxNumBatchedTokens: 8192, maxNumSeqs: 256) == (budget - 13_820_731_392 - workspace) / (32 * 491_520))
        // The 33B model's weights alone pass an A10's memory: no blocks.
        let a10 = try! DeviceModel(gpu: "A10", model: "deepseek-coder-33b")
        #expect(a10.kvCacheBlocks(blockSize: 16, gpuMemoryUtilization: 0.9, maxNumBatchedTokens: 8192, maxNumSeqs: 256) == 0)
        #expect(ContinuousSettings().schedulerConfig(on: a100).totalBlocks == blocks)
    }

    @Test func settingsAreCheckedWithTheirKeys() {
        #expect(ContinuousSettings().validate().isEmpty)
        #expect(ContinuousSettings(maxNumSeqs: 0).validate().contains { $0.hasPrefix("max_num_seqs") })
        #expect(ContinuousSettings(blockSize: 12).validate().contains { $0.hasPrefix("block_size must be one of 1, 8, 16") })
        #expect(ContinuousSettings(gpuMemoryUtilization: 1.2).validate().contains { $0.hasPrefix("gpu_memory_utilization") })
        #expect(ContinuousSettings(maxNumSeqs: 64, maxNumBatchedTokens: 32).validate().contains { $0.hasPrefix("max_num_batched_tokens (32)") })
        // Past these the device model's workspace overflowed (`cicada serve` flags, live keys).
        #expect(ContinuousSettings(maxNumSeqs: 65_537, maxNumBatchedTokens: 70_000).validate() == ["max_num_seqs must be at most 65536, found 65537"])
        #expect(ContinuousSettings(maxNumBatchedTokens: .max).validate() == ["max_num_batched_tokens must be at most 10000000, found \(Int.max)"])
        #expect(ContinuousSettings(maxNumSeqs: 65_536, maxNumBatchedTokens: 10_000_000).validate().isEmpty)
    }

    @Test func loweringMaxNumSeqsLiveStopsAdmissionUntilUnderIt() {
        var s = ContinuousScheduler(config: .init(maxNumSeqs: 8, maxNumBatchedTokens: 256, totalBlocks: 1000))
        for id in 1...8 { _ = s.add(id: UInt64(id), promptTokens: 10, maxOutputTokens: 4) }
        _ = s.step()
        #expect(s.runningCount == 8)
        s.reconfigure(maxNumSeqs: 2, maxNumBatchedTokens: 256)
        for id in 9...10 { _ = s.add(id: UInt64(id), promptTokens: 10, maxOutputTokens: 4) }
        var peakAfter = 0
        while s.runningCount + s.waitingCount > 0 {
            let it = s.step()
            if it.tokens.contains(9) || it.tokens.contains(10) { peakAfter = max(peakAfter, s.runningCount) }
        }
        #expect(peakAfter <= 2, "new sequences run at most two at a time")
        #expect(s.config.maxNumSeqs == 2 && s.usedBlocks == 0)
    }

    /// Virtual time: the scheduler's iterations timed by the device model. Sixteen requests
    /// arriving together share decode steps, so they finish far sooner than one after another,
    /// and every inter-token gap is one iteration's modelled time.
    @Test func concurrentSequencesShareIterationsInVirtualTime() {
        let device = try! DeviceModel(gpu: "A10", model: "deepseek-llm-7b")
        var s = ContinuousScheduler(config: ContinuousSettings().schedulerConfig(on: device))
        for id in 1...16 { _ = s.add(id: UInt64(id), promptTokens: 32, maxOutputTokens: 16) }
        var clock = Duration.zero
        var tokenTimes: [UInt64: [Duration]] = [:]
        var iterations = 0
        while s.runningCount + s.waitingCount > 0 {
            let it = s.step()
            clock += device.iterationTime(prefillTokens: it.prefillTokens, decodeSequences: it.decodeSequences, decodeContextTokens: it.decodeContextTokens)
            for id in it.tokens { tokenTimes[id, default: []].append(clock) }
            iterations += 1
        }
        #expect(iterations == 16, "one prefill iteration for all, then 15 shared decode steps")
        #expect(tokenTimes.values.allSatisfy { $0.count == 16 })
        let sequential = device.batchTime(requests: [(inputTokens: 32, outputTokens: 16)]) * 16
        #expect(clock < sequential / 8, "shared steps: \(clock) against \(sequential) one at a time")
        // The first token comes from the prefill pass of all 16 prompts.
        #expect(tokenTimes[1]?.first == device.prefillTime(tokens: 16 * 32))
        // The 2nd token of every sequence arrives one 16-sequence decode step after the first.
        let step = device.decodeStepTime(batchSize: 16, contextTokens: 16 * 32)
        #expect(tokenTimes[7].map { $0[1] - $0[0] } == step)
    }
}
