import CicadaCore
import Testing
@testable import CicadaEngine

/// `n` identical requests.
private func batch(_ n: Int, input: Int, output: Int) -> [DeviceModel.Request] {
    Array(repeating: (inputTokens: input, outputTokens: output), count: n)
}

/// Whether `actual` is within `tolerance` of `expected`.
private func near(_ actual: Double, _ expected: Double, _ tolerance: Double) -> Bool {
    abs(actual - expected) <= tolerance
}

@Suite("DeviceModel profiles")
struct DeviceModelProfileTests {
    /// REFERENCE section 8, row by row: name, fp16 TFLOP/s, int8 TOP/s, memory GiB, bandwidth GB/s.
    @Test(arguments: [
        ("A10", 125.0, 250.0, 24, 600.0),
        ("A30", 165.0, 330.0, 24, 933.0),
        ("A100-40GB", 312.0, 624.0, 40, 1555.0),
        ("A100-80GB", 312.0, 624.0, 80, 2039.0),
        ("H100-SXM", 989.0, 1979.0, 80, 3350.0),
        ("H200", 989.0, 1979.0, 141, 4800.0),
    ])
    func gpuFiguresMatchTheReference(name: String, fp16: Double, int8: Double, gib: Int, gbps: Double) throws {
        let gpu = try GPUProfile.named(name)
        #expect(gpu.name == name)
        #expect(gpu.fp16TFLOPS == fp16)
        #expect(gpu.bf16TFLOPS == fp16)
        #expect(gpu.int8TOPS == int8)
        #expect(gpu.memoryBytes == gib << 30)
        #expect(gpu.bandwidthBytesPerSecond == gbps * 1e9)
        #expect(gpu.peakOpsPerSecond(.int8) == int8 * 1e12)
    }

    @Test func gpuLookupIgnoresCaseSpacingAndVendorPrefix() throws {
        #expect(try GPUProfile.named("a100-80gb") == .a100_80GB)
        #expect(try GPUProfile.named("A100 80GB SXM") == .a100_80GB)
        #expect(try GPUProfile.named("NVIDIA A100-SXM4-80GB") == .a100_80GB)
        #expect(try GPUProfile.named("h100") == .h100SXM)
        #expect(try GPUProfile.named("NVIDIA H200") == .h200)
        #expect(try GPUProfile.named("a10") == .a10)
    }

    @Test func unknownGPUSaysWhatWasMeant() throws {
        let a100 = try #require(throws: ProfileLookupError.self) { try GPUProfile.named("A100") }
        #expect(a100.suggestions == ["A100-40GB", "A100-80GB"])
        #expect(a100.description.hasPrefix(
            "unknown GPU \"A100\"; did you mean \"A100-40GB\" or \"A100-80GB\"? (known: A10, A30,"))
        let h2000 = try #require(throws: ProfileLookupError.self) { try GPUProfile.named("H2000") }
        #expect(h2000.suggestions.first == "H200")
        let tpu = try #require(throws: ProfileLookupError.self) { try GPUProfile.named("TPUv5") }
        #expect(tpu.suggestions.isEmpty)
        #expect(tpu.description == "unknown GPU \"TPUv5\" (known: A10, A30, A100-40GB, A100-80GB, H100-SXM, H200)")
    }

    @Test func modelLookupAcceptsHuggingFaceIds() throws {
        #expect(try ModelProfile.named("deepseek-ai/deepseek-llm-7b-chat") == .deepseekLLM7B)
        #expect(try ModelProfile.named("DeepSeek-Coder-33B-Instruct") == .deepseekCoder33B)
        #expect(try ModelProfile.named("deepseek-ai/DeepSeek-V2-Lite") == .deepseekV2Lite)
        #expect(try ModelProfile.named("deepseek-coder-1.3b-base") == .deepseekCoder1_3B)
        let typo = try #require(throws: ProfileLookupError.self) { try ModelProfile.named("deepsek-llm-7b") }
        #expect(typo.suggestions == ["deepseek-llm-7b"])
    }

    @Test func precisionLookup() throws {
        #expect(try Precision.named("FP16") == .fp16)
        #expect(try Precision.named("bfloat16") == .bf16)
        #expect(try Precision.named("int8") == .int8)
        #expect(Precision.fp16.bytesPerValue == 2 && Precision.bf16.bytesPerValue == 2)
        #expect(Precision.int8.bytesPerValue == 1)
        #expect(throws: ProfileLookupError.self) { try Precision.named("fp8") }
    }

    /// Recomputes each dense model's parameter count from its config fields.
    @Test(arguments: [ModelProfile.deepseekCoder1_3B, .deepseekLLM7B, .deepseekCoder33B])
    func denseParameterCountsFollowFromTheConfig(model: ModelProfile) {
        guard case let .grouped(kvHeads, headDim) = model.attention else {
            Issue.record("expected grouped attention")
            return
        }
        let h = model.hiddenSize
        let attention = 2 * h * model.attentionHeads * headDim + 2 * h * kvHeads * headDim
        let perLayer = attention + 3 * h * model.intermediateSize + 2 * h
        let embeddings = model.vocabSize * h
        #expect(model.totalParameters == model.layers * perLayer + 2 * embeddings + h)
        #expect(model.activeParameters == model.totalParameters - embeddings)
    }

    @Test func moeParameterCountsFollowFromTheConfig() throws {
        let model = ModelProfile.deepseekV2Lite
        let moe = try #require(model.moe)
        let h = 2048
        let attention = h * 16 * (128 + 64) + h * (512 + 64) + 512 + 512 * 16 * (128 + 128) + 16 * 128 * h
        let expert = 3 * h * moe.expertIntermediateSize
        let sharedExperts = 3 * h * moe.sharedExperts * moe.expertIntermediateSize
        let gate = moe.routedExperts * h
        let denseLayer = attention + 2 * h + 3 * h * model.intermediateSize
        let moeLayer = attention + 2 * h + moe.routedExperts * expert + sharedExperts + gate
        let embeddings = model.vocabSize * h
        #expect(model.totalParameters == denseLayer + 26 * moeLayer + 2 * embeddings + h)
        let activeMoELayer = attention + 2 * h + moe.expertsPerToken * expert + sharedExperts + gate
        #expect(model.activeParameters == denseLayer + 26 * activeMoELayer + embeddings + h)
        #expect(moe.routedExpertParameters == 26 * moe.routedExperts * expert)
    }

    /// Published sizes: 1.3B (~1.35B), 6.9B, 33.3B, V2-Lite 15.7B total / 2.4B activated.
    @Test func parameterCountsMatchPublishedSizes() {
        #expect(near(Double(ModelProfile.deepseekCoder1_3B.totalParameters), 1.35e9, 0.01e9))
        #expect(near(Double(ModelProfile.deepseekLLM7B.totalParameters), 6.9e9, 0.05e9))
        #expect(near(Double(ModelProfile.deepseekCoder33B.totalParameters), 33.3e9, 0.05e9))
        #expect(near(Double(ModelProfile.deepseekV2Lite.totalParameters), 15.7e9, 0.05e9))
        #expect(near(Double(ModelProfile.deepseekV2Lite.activeParameters), 2.4e9, 0.1e9))
    }

    @Test func kvCacheBytesPerToken() {
        #expect(ModelProfile.deepseekCoder1_3B.kvCacheBytesPerToken(.fp16) == 196_608)
        #expect(ModelProfile.deepseekLLM7B.kvCacheBytesPerToken(.fp16) == 491_520)
        #expect(ModelProfile.deepseekCoder33B.kvCacheBytesPerToken(.fp16) == 253_952)  // GQA: 8 KV heads
        #expect(ModelProfile.deepseekV2Lite.kvCacheBytesPerToken(.fp16) == 31_104)  // MLA: 27 x 576 x 2
        #expect(ModelProfile.deepseekLLM7B.kvCacheBytesPerToken(.int8) == 245_760)
    }

    @Test func moeReadsMoreExpertsAsTheBatchGrows() {
        let model = ModelProfile.deepseekV2Lite
        #expect(model.parametersRead(tokens: 1) == Double(model.activeParameters))
        let reads = [1, 2, 8, 32, 128, 1024].map { model.parametersRead(tokens: $0) }
        #expect(reads == reads.sorted())
        let everything = Double(model.totalParameters - model.vocabSize * model.hiddenSize)
        #expect(reads.last! <= everything && reads.last! > 0.999 * everything)
        // Dense models read the same weights whatever the batch.
        #expect(ModelProfile.deepseekLLM7B.parametersRead(tokens: 64) == 6_490_935_296)
    }
}

@Suite("DeviceModel timing and memory")
struct DeviceModelTests {
    let a100 = DeviceModel(gpu: .a100_80GB, model: .deepseekLLM7B, precision: .fp16)

    @Test func labels() throws {
        #expect(a100.label == "modelled: A100-80GB / deepseek-llm-7b / fp16")
        let named = try DeviceModel(gpu: "h200", model: "deepseek-ai/DeepSeek-V2-Lite", precision: "BF16")
        #expect(named.label == "modelled: H200 / deepseek-v2-lite / bf16")
        #expect(throws: ProfileLookupError.self) {
            try DeviceModel(gpu: "A100", model: "deepseek-llm-7b")
        }
    }

    @Test func defaultCalibrationIsDocumented() {
        let c = DeviceModel.Calibration.standard
        #expect(c.computeEfficiency == 0.5)
        #expect(c.bandwidthEfficiency == 0.7)
        #expect(c.batchOverhead == .milliseconds(2))
        #expect(c.runtimeReserveBytes == 512 << 20)
    }

    /// docs/ENGINE.md, "Worked example": A100-80GB, deepseek-llm-7b, fp16, 128 in / 16 out.
    @Test func workedExampleBatchOne() {
        #expect(a100.effectiveOpsPerSecond == 156e12)
        #expect(near(a100.effectiveBytesPerSecond, 1427.3e9, 1))
        let prefill = a100.prefill(tokens: 128)
        #expect(near(prefill.compute.milliseconds, 10.652, 0.001))
        #expect(near(prefill.memory.milliseconds, 9.139, 0.001))
        #expect(!prefill.isMemoryBound)

        let first = a100.decodeStep(batchSize: 1, contextTokens: 129)
        #expect(near(first.compute.milliseconds, 0.083, 0.001))
        #expect(near(first.memory.milliseconds, 9.140, 0.001))
        #expect(first.isMemoryBound)

        let total = a100.batchTime(requests: batch(1, input: 128, output: 16))
        #expect(near(total.milliseconds, 149.785, 0.002))  // 2 + 10.652 + 137.134
        #expect(near(1 / total.seconds, 6.68, 0.005))

        let memory = a100.memory(for: batch(1, input: 128, output: 16))
        #expect(memory.weights == 13_820_731_392)
        #expect(memory.kvCache == 70_778_880)
        #expect(memory.workspace == 553_074_688)
        #expect(memory.total == 14_444_584_960)
        #expect(memory.capacity == 85_899_345_920)
        #expect(memory.fits)
    }

    @Test func workedExampleBatchThirtyTwo() {
        let prefill = a100.prefill(tokens: 32 * 128)
        #expect(near(prefill.compute.milliseconds, 340.857, 0.001))
        #expect(!prefill.isMemoryBound)

        let step = a100.decodeStep(batchSize: 32, contextTokens: 4096 + 32)
        #expect(near(step.compute.milliseconds, 2.663, 0.001))
        #expect(near(step.memory.milliseconds, 10.517, 0.001))
        #expect(step.isMemoryBound)

        let total = a100.batchTime(requests: batch(32, input: 128, output: 16))
        #expect(near(total.milliseconds, 501.769, 0.002))  // 2 + 340.857 + 158.912
        #expect(near(32 / total.seconds, 63.77, 0.005))

        let memory = a100.memory(for: batch(32, input: 128, output: 16))
        #expect(memory.kvCache == 2_264_924_160)
        #expect(memory.workspace == 1_055_391_744)
        #expect(memory.total == 17_141_047_296)
    }

    @Test(arguments: ModelProfile.all)
    func decodeIsMemoryBoundAtBatchOneOnEveryGPU(model: ModelProfile) {
        for gpu in GPUProfile.all {
            for precision in Precision.allCases {
                let device = DeviceModel(gpu: gpu, model: model, precision: precision)
                #expect(device.decodeStep(batchSize: 1, contextTokens: 512).isMemoryBound, "\(device.label)")
            }
        }
    }

    @Test func decodeTurnsComputeBoundAtLargeBatches() {
        // Crossover for a dense model: 2 x active x B / F_eff = active x 2 / BW_eff, so
        // B = F_eff / BW_eff ≈ 109 (ignoring the KV term, which only moves it up).
        #expect(a100.decodeStep(batchSize: 64, contextTokens: 64).isMemoryBound)
        #expect(!a100.decodeStep(batchSize: 256, contextTokens: 256).isMemoryBound)
    }

    @Test func batchingRaisesThroughput() {
        var previous = 0.0
        for size in [1, 2, 4, 8, 16, 32, 64] {
            let time = a100.batchTime(requests: batch(size, input: 128, output: 16))
            let throughput = Double(size) / time.seconds
            #expect(throughput > previous, "batch \(size)")
            previous = throughput
        }
        // A memory-bound step serves 32 sequences in little more time than one.
        let one = a100.decodeStepTime(batchSize: 1, contextTokens: 144)
        let many = a100.decodeStepTime(batchSize: 32, contextTokens: 32 * 144)
        #expect(many.seconds < 1.2 * one.seconds)
    }

    /// docs/ENGINE.md, the seed comparison table (7B, 32 in / 1 out, A100-80GB fp16).
    @Test func seedComparisonTable() {
        func qps(_ size: Int) -> Double {
            Double(size) / a100.batchTime(requests: batch(size, input: 32, output: 1)).seconds
        }
        #expect(near(a100.batchTime(requests: batch(1, input: 32, output: 1)).milliseconds, 11.11, 0.005))
        #expect(near(a100.batchTime(requests: batch(16, input: 32, output: 1)).milliseconds, 44.61, 0.005))
        #expect(near(qps(1), 90.0, 0.05))
        #expect(near(qps(16), 358.7, 0.05))
        #expect(near(qps(32), 366.9, 0.05))
        #expect(near(qps(64), 371.2, 0.05))
        #expect(near(qps(32) / qps(1), 4.08, 0.005))
        // Generation (128 in / 16 out) gains far more, because decode is memory-bound.
        let gen1 = 1 / a100.batchTime(requests: batch(1, input: 128, output: 16)).seconds
        let gen32 = 32 / a100.batchTime(requests: batch(32, input: 128, output: 16)).seconds
        #expect(near(gen32 / gen1, 9.55, 0.005))
    }

    /// docs/ENGINE.md, the other modelled rows of the seed comparison table.
    @Test(arguments: [
        (ModelProfile.deepseekLLM7B, 128, 1, 12.65, 342.86, 1.18),
        (ModelProfile.deepseekCoder1_3B, 32, 1, 3.80, 18.81, 6.46),
        (ModelProfile.deepseekLLM7B, 128, 16, 149.79, 501.77, 9.55),
        (ModelProfile.deepseekV2Lite, 128, 16, 75.29, 444.91, 5.42),
    ])
    func seedComparisonRows(
        model: ModelProfile, input: Int, output: Int, oneMillis: Double, thirtyTwoMillis: Double, gain: Double
    ) {
        let device = DeviceModel(gpu: .a100_80GB, model: model, precision: .fp16)
        let one = device.batchTime(requests: batch(1, input: input, output: output))
        let thirtyTwo = device.batchTime(requests: batch(32, input: input, output: output))
        #expect(near(one.milliseconds, oneMillis, 0.005))
        #expect(near(thirtyTwo.milliseconds, thirtyTwoMillis, 0.005))
        #expect(near((32 / thirtyTwo.seconds) / (1 / one.seconds), gain, 0.005))
    }

    @Test func staticBatchRunsUntilTheLongestFinishes() {
        let mixed = a100.batchTime(requests: [(128, 16), (128, 2), (128, 2), (128, 2)])
        let uniform = a100.batchTime(requests: batch(4, input: 128, output: 16))
        #expect(mixed == uniform)
        // No output beyond the first token: prefill and overhead only.
        let prefillOnly = a100.batchTime(requests: batch(1, input: 128, output: 1))
        #expect(prefillOnly == .milliseconds(2) + a100.prefillTime(tokens: 128))
        #expect(a100.batchTime(requests: []) == .zero)
    }

    @Test func int8UsesTheInt8PeakAndHalvesTheBytes() {
        let int8 = DeviceModel(gpu: .a100_80GB, model: .deepseekLLM7B, precision: .int8)
        #expect(near(int8.prefill(tokens: 1024).compute.seconds * 2, a100.prefill(tokens: 1024).compute.seconds, 1e-9))
        #expect(int8.memory(for: batch(1, input: 1, output: 1)).weights == 6_910_365_696)
        #expect(int8.decodeStepTime(batchSize: 1, contextTokens: 0) < a100.decodeStepTime(batchSize: 1, contextTokens: 0))
    }

    @Test func weightsAloneOverflowTheCard() {
        let device = DeviceModel(gpu: .a10, model: .deepseekCoder33B, precision: .fp16)
        switch device.check(requests: batch(1, input: 16, output: 1)) {
        case .success:
            Issue.record("33B at fp16 cannot fit in 24 GiB")
        case let .failure(oom):
            #expect(oom.message
                == "CUDA out of memory. Tried to allocate 62.11 GiB (GPU 0; 24.00 GiB total capacity; 0.00 GiB already allocated)")
            #expect(oom.description == oom.message)
            #expect(oom.label == "modelled: A10 / deepseek-coder-33b / fp16")
            #expect(DeviceModel.OutOfMemory.httpStatus == 507)
        }
        // At int8 it still does not fit an A10, but does fit an A100 40GB.
        #expect((try? DeviceModel(gpu: .a10, model: .deepseekCoder33B, precision: .int8)
            .check(requests: batch(1, input: 16, output: 1)).get()) == nil)
        #expect((try? DeviceModel(gpu: .a100_40GB, model: .deepseekCoder33B, precision: .int8)
            .check(requests: batch(1, input: 16, output: 1)).get()) != nil)
    }

    @Test func kvCacheOverflowReportsWeightsAsAlreadyAllocated() {
        let device = DeviceModel(gpu: .a10, model: .deepseekLLM7B, precision: .fp16)
        #expect((try? device.check(requests: batch(1, input: 128, output: 16)).get()) != nil)
        let big = batch(64, input: 2048, output: 256)
        let memory = device.memory(for: big)
        #expect(!memory.fits)
        #expect(memory.fraction > 1)
        guard case let .failure(oom) = device.check(requests: big) else {
            Issue.record("64 x 2304 tokens of 7B KV cache cannot fit in 24 GiB")
            return
        }
        #expect(oom.allocatedBytes == memory.weights)
        #expect(oom.requestedBytes == memory.kvCache)
        #expect(oom.message
            == "CUDA out of memory. Tried to allocate 67.50 GiB (GPU 0; 24.00 GiB total capacity; 12.87 GiB already allocated)")
    }

    @Test func checkReturnsTheBatchTimeWhenItFits() throws {
        let requests = batch(8, input: 100, output: 10)
        #expect(try a100.check(requests: requests).get() == a100.batchTime(requests: requests))
    }

    @Test(arguments: [("", 1), ("a", 1), ("abcd", 1), ("abcde", 2), (String(repeating: "x", count: 400), 100)])
    func approximateTokens(text: String, tokens: Int) {
        #expect(DeviceModel.approximateTokens(text) == tokens)
    }
}
