import CicadaCore
import CicadaEngine
import Testing
@testable import CicadaScenario

/// The continuous scheduler's keys in an `engine:` block, an engine file and a `compare:` variant.
@Suite struct ContinuousKeysTests {
    func document(_ yaml: String) throws(ScenarioErrors) -> ScenarioDocument {
        try ScenarioReader().parseDocument(yaml, file: "c.yaml")
    }

    func problems(_ yaml: String) -> [ScenarioIssue] {
        do { _ = try document(yaml); return [] } catch { return error.issues }
    }

    @Test func theIssuesBlockIsReadWithVLLMsMeanings() throws {
        let doc = try document("""
        target: embedded
        engine: {scheduler: continuous, max_num_seqs: 128, max_num_batched_tokens: 4096, block_size: 32,
                 gpu_memory_utilization: 0.8, chunked_prefill: false, preemption: recompute}
        tasks: [{name: p, path: /predict, json: {input: x}}]
        """)
        let e = try #require(doc.engine)
        #expect(e.scheduler == .continuous)
        #expect(e.continuous == ContinuousSettings(maxNumSeqs: 128, maxNumBatchedTokens: 4096, blockSize: 32, gpuMemoryUtilization: 0.8,
                                                   chunkedPrefill: false, preemption: .recompute))
    }

    @Test func dynamicStaysTheDefaultWithItsBehaviour() throws {
        let e = try #require(try document("target: embedded\nengine: {gpu: A10}\ntasks: [{name: p, path: /predict}]").engine)
        #expect(e.scheduler == .dynamic)
        #expect(e.continuous == ContinuousSettings())
        #expect(EngineConfig().scheduler == .dynamic)
    }

    @Test func badValuesNameFileLineAndKey() {
        let found = problems("""
        target: embedded
        engine:
          scheduler: continuous
          block_size: 12
          gpu_memory_utilization: 1.5
          preemption: swap
          max_num_seqs: 0
        tasks: [{name: p, path: /predict}]
        """)
        let text = found.map(\.description)
        #expect(found.contains { $0.line == 4 && $0.keyPath == "engine.block_size" && $0.message.contains("1, 8, 16, 32, 64, 128") }, "\(text)")
        #expect(found.contains { $0.line == 5 && $0.keyPath == "engine.gpu_memory_utilization" }, "\(text)")
        #expect(found.contains { $0.keyPath == "engine.preemption" && ($0.hint ?? "").contains("recompute") }, "\(text)")
        #expect(found.contains { $0.keyPath == "engine.max_num_seqs" && $0.message.contains("at least 1") }, "\(text)")
        #expect(text.allSatisfy { $0.hasPrefix("c.yaml:") }, "\(text)")
    }

    @Test func vLLMKeysWithoutTheContinuousSchedulerAreAnError() {
        let found = problems("target: embedded\nengine: {max_num_seqs: 64}\ntasks: [{name: p, path: /predict}]")
        #expect(found.contains { $0.keyPath == "engine.max_num_seqs" && $0.message.contains("continuous scheduler only") }, "\(found)")
        let unknown = problems("target: embedded\nengine: {scheduler: orca}\ntasks: [{name: p, path: /predict}]")
        #expect(unknown.contains { $0.keyPath == "engine.scheduler" && $0.message.contains("unknown scheduler 'orca'") }, "\(unknown)")
    }

    @Test func aCacheWithNoRoomForOneBlockIsRefused() {
        // 7B fp16 weights are 12.9 GiB: at 10% of an A10's 24 GiB nothing is left for the cache.
        let found = problems("target: embedded\nengine: {gpu: A10, scheduler: continuous, gpu_memory_utilization: 0.1}\ntasks: [{name: p, path: /predict}]")
        #expect(found.contains { $0.keyPath == "engine.gpu_memory_utilization" && $0.message.contains("no KV cache blocks fit") }, "\(found)")
    }

    @Test func aCompareVariantCanRunTheContinuousScheduler() throws {
        let doc = try document("""
        target: embedded
        engine: {gpu: A100-80GB, cache: {enabled: false}}
        tasks: [{name: p, path: /predict}]
        compare:
          variants:
            - {name: triton, preset: seed}
            - {name: vllm, scheduler: continuous, max_num_seqs: 64}
        """)
        let variants = try #require(doc.compare?.variants)
        guard case .engine(let triton) = variants[0].kind, case .engine(let vllm) = variants[1].kind else { Issue.record("engine variants"); return }
        #expect(triton.scheduler == .dynamic && vllm.scheduler == .continuous)
        #expect(vllm.continuous.maxNumSeqs == 64 && vllm.gpu == "A100-80GB" && vllm.cacheEntries == 0)
        #expect(variants[1].summary.contains("continuous: max_num_seqs 64"))
        let bad = problems("""
        target: embedded
        tasks: [{name: p, path: /predict}]
        compare:
          variants:
            - {name: a, preset: seed}
            - {name: b, target: "http://127.0.0.1:9", scheduler: continuous}
        """)
        #expect(bad.contains { $0.keyPath == "compare.variants[1].scheduler" }, "\(bad)")
    }
}
