import CicadaCore
import CicadaEngine
import CicadaScenario
import Testing

/// `sweep:` over an engine with `scheduler: continuous` (issue 16): the grid is max_num_seqs by
/// max_num_batched_tokens, with a default grid; batcher presets and keys are errors.
@Suite struct ContinuousSweepKeysTests {
    static let head = "target: embedded\nengine: {scheduler: continuous, max_num_seqs: 128, max_num_batched_tokens: 4096, block_size: 32}\narrival: {rate: 5}\nrun_time: 5s\ntasks: [{name: p, kind: predict, prompt: q}]\n"

    func spec(_ sweep: String) throws -> SweepSpec {
        try #require(try ScenarioReader().parseDocument(Self.head + sweep, file: "test.yaml", baseDirectory: scenariosDirectory).sweep)
    }

    func settings(_ s: SweepSpec) -> [(String, Int, Int, Int)] {
        s.configurations.compactMap { c in
            guard case .continuous(let k) = c.kind else { return nil }
            return (c.name, k.maxNumSeqs, k.maxNumBatchedTokens, k.blockSize)
        }
    }

    @Test func withNoGridTheDefaultGridIsSwept() throws {
        let s = try spec("sweep: {rates: [10, 20]}\n")
        let g = SweepSpec.defaultContinuousGrid
        #expect(s.configurations.count == g.maxNumSeqs.count * g.maxNumBatchedTokens.count)
        let got = settings(s)
        #expect(got.count == s.configurations.count, "every configuration runs the continuous scheduler")
        #expect(got.map(\.0) == ["cont/s64/t4096", "cont/s64/t8192", "cont/s128/t4096", "cont/s128/t8192", "cont/s256/t4096", "cont/s256/t8192"])
        #expect(got.allSatisfy { $0.3 == 32 }, "the engine block's other continuous keys are kept")
        #expect(s.usesEngine)
    }

    @Test func aGridOfEitherOrBothKnobs() throws {
        let both = settings(try spec("sweep: {grid: {max_num_seqs: [32, 256], max_num_batched_tokens: [2048, 16384]}, rates: [10]}\n"))
        #expect(both.map { [$0.1, $0.2] } == [[32, 2048], [32, 16384], [256, 2048], [256, 16384]])
        let seqsOnly = settings(try spec("sweep: {grid: {max_num_seqs: [16, 64]}, rates: [10]}\n"))
        #expect(seqsOnly.map { [$0.1, $0.2] } == [[16, 4096], [64, 4096]], "the engine block's max_num_batched_tokens")
    }

    @Test func presetsAndBatcherKeysAreErrorsNamingTheKey() {
        let p = issues(Self.head + "sweep: {presets: [seed], rates: [10]}\n")
        #expect(p.map(\.keyPath) == ["sweep.presets"])
        #expect(p.first?.message.contains("continuous scheduler, which has no batching presets") == true)
        #expect(p.first?.line == 6)
        let g = issues(Self.head + "sweep: {grid: {max_batch_size: [8, 16]}, rates: [10]}\n")
        #expect(g.map(\.keyPath).contains("sweep.grid.max_batch_size"), "\(g.map(\.description))")
    }

    @Test func aTokenBudgetBelowMaxNumSeqsIsAnError() {
        let found = issues(Self.head + "sweep: {grid: {max_num_seqs: [512], max_num_batched_tokens: [256]}, rates: [10]}\n")
        #expect(found.count == 1)
        #expect(found.first?.keyPath == "sweep.grid")
        #expect(found.first?.message.contains("cont/s512/t256: max_num_batched_tokens (256) must be at least max_num_seqs (512)") == true)
    }

    @Test func aDynamicEngineStillSweepsPresets() throws {
        let doc = try ScenarioReader().parseDocument("target: embedded\narrival: {rate: 5}\nrun_time: 5s\ntasks: [{name: p, kind: predict, prompt: q}]\nsweep: {presets: [seed], rates: [10]}\n",
                                                     file: "test.yaml", baseDirectory: scenariosDirectory)
        let s = try #require(doc.sweep)
        #expect(s.configurations.count == 1)
        if case .engine = s.configurations[0].kind {} else { Issue.record("a dynamic engine's preset is a batcher configuration") }
    }
}
