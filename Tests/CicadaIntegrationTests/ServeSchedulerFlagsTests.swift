import ArgumentParser
import CicadaEngine
import CicadaSession
import Testing
@testable import cicada

/// `cicada serve`'s scheduler flags, parsed and applied without starting a server.
@Suite struct ServeSchedulerFlagsTests {
    @Test func continuousFlagsSetVLLMsSettings() throws {
        let s = try Serve.parse(["--scheduler", "continuous", "--max-num-seqs", "64", "--max-num-batched-tokens", "2048", "--block-size", "32",
                                 "--gpu-memory-utilization", "0.8", "--disable-chunked-prefill"])
        var c = EngineConfig()
        try s.applySchedulerFlags(to: &c, environment: [:])
        #expect(c.scheduler == .continuous)
        #expect(c.continuous == ContinuousSettings(maxNumSeqs: 64, maxNumBatchedTokens: 2048, blockSize: 32, gpuMemoryUtilization: 0.8, chunkedPrefill: false))
        var d = EngineConfig()
        try Serve.parse([]).applySchedulerFlags(to: &d, environment: [:])
        #expect(d.scheduler == .dynamic && d.continuous == ContinuousSettings())
    }

    @Test func badOrMisplacedFlagsAreUsageErrors() throws {
        func message(_ args: [String]) throws -> String? {
            var c = EngineConfig()
            do { try Serve.parse(args).applySchedulerFlags(to: &c, environment: [:]); return nil } catch let e as SessionError { return "\(e)" }
        }
        #expect(try message(["--max-num-seqs", "8"])?.contains("--max-num-seqs applies to the continuous scheduler only") == true)
        #expect(try message(["--scheduler", "orca"])?.contains("unknown scheduler 'orca'") == true)
        #expect(try message(["--scheduler", "continuous", "--block-size", "12"])?.contains("block_size must be one of") == true)
        #expect(try message(["--scheduler", "continuous", "--gpu-memory-utilization", "1.5"])?.contains("gpu_memory_utilization") == true)
    }

    @Test func theEnvironmentGivesWhatTheFlagsDoNot() throws {
        let env = ["CICADA_SCHEDULER": "continuous", "CICADA_MAX_NUM_SEQS": "32", "CICADA_MAX_NUM_BATCHED_TOKENS": "1024",
                   "CICADA_BLOCK_SIZE": "8", "CICADA_GPU_MEMORY_UTILIZATION": "0.85", "CICADA_CHUNKED_PREFILL": "false"]
        var c = EngineConfig()
        try Serve.parse(["--max-num-seqs", "64"]).applySchedulerFlags(to: &c, environment: env)
        #expect(c.scheduler == .continuous)
        #expect(c.continuous == ContinuousSettings(maxNumSeqs: 64, maxNumBatchedTokens: 1024, blockSize: 8, gpuMemoryUtilization: 0.85, chunkedPrefill: false),
                "the flag wins over CICADA_MAX_NUM_SEQS")
        var d = EngineConfig()
        #expect(throws: SessionError.self) { try Serve.parse([]).applySchedulerFlags(to: &d, environment: ["CICADA_SCHEDULER": "continuous", "CICADA_BLOCK_SIZE": "big"]) }
    }
}
