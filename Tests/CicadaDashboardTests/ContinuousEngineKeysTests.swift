import CicadaCore
@testable import CicadaDashboard
import Testing

/// The engine panel and batching keys for an engine running continuous batching.
@Suite struct ContinuousEngineKeysTests {
    static func continuous(seqs: Int = 256, kv: Double? = 0.125) -> EngineReading {
        var r = Controllers.engine(preset: "continuous", maxBatch: seqs, delayMicros: 0)
        r.line.maxNumSeqs = seqs
        r.line.kvCacheUsage = kv
        r.presetNames = []
        return r
    }

    @Test func braceKeysHalveAndDoubleMaxNumSeqs() {
        let c = Controllers.single(open: true)
        c.update(engine: Self.continuous(seqs: 256), lane: 0)
        let up = c.handle(.character("}"), at: Controllers.at(1))
        #expect(up.contains(.setMaxBatchSize(lane: 0, size: 512)))
        #expect(c.viewModel(at: Controllers.at(1.1))?.message?.contains("max_num_seqs 512") == true)
        let down = c.handle(.character("{"), at: Controllers.at(2))
        #expect(down.contains(.setMaxBatchSize(lane: 0, size: 128)))
    }

    @Test func presetAndDelayKeysSayTheyDoNotApply() {
        let c = Controllers.single(open: true)
        c.update(engine: Self.continuous(), lane: 0)
        let b = c.handle(.character("b"), at: Controllers.at(1))
        #expect(!b.contains { if case .applyBatchPreset = $0 { return true } else { return false } })
        #expect(c.viewModel(at: Controllers.at(1.1))?.message?.contains("no batching presets") == true)
        let d = c.handle(.character("]"), at: Controllers.at(2))
        #expect(!d.contains { if case .scaleQueueDelay = $0 { return true } else { return false } })
        #expect(c.viewModel(at: Controllers.at(2.1))?.message?.contains("no queue delay") == true, "without a token budget reading")
    }

    @Test func bracketKeysHalveAndDoubleTheTokenBudgetNeverBelowMaxNumSeqs() {
        let c = Controllers.single(open: true)
        var r = Self.continuous(seqs: 256)
        r.line.maxNumBatchedTokens = 8192
        c.update(engine: r, lane: 0)
        let up = c.handle(.character("]"), at: Controllers.at(1))
        #expect(up.contains(.setMaxNumBatchedTokens(lane: 0, tokens: 16384)))
        #expect(c.viewModel(at: Controllers.at(1.1))?.message?.contains("max_num_batched_tokens 16384") == true)
        r.line.maxNumBatchedTokens = 300
        c.update(engine: r, lane: 0)
        let down = c.handle(.character("["), at: Controllers.at(2))
        #expect(down.contains(.setMaxNumBatchedTokens(lane: 0, tokens: 256)), "150 would be below max_num_seqs 256")
    }

    @Test func thePanelShowsMaxNumSeqsAndKVCacheUse() throws {
        let c = Controllers.single(open: true, canSwitchEngine: true, startsOnEngine: true)
        c.update(engine: Self.continuous(seqs: 64, kv: 0.375), lane: 0)
        let frame = try #require(c.frame(width: 160, height: 48, at: Controllers.at(1)))
        let text = frame.text
        #expect(text.contains("continuous: max_num_seqs 64  KV cache 37.5%"), "\(text)")
        // Absent KV figure shows as absent, not 0.
        c.update(engine: Self.continuous(seqs: 64, kv: nil), lane: 0)
        #expect(try #require(c.frame(width: 160, height: 48, at: Controllers.at(2))).text.contains("KV cache -"))
    }

    @Test func thePanelShowsTheLevelTwoAndPrefixCacheHitRatesOnlyWhenThereAreSome() throws {
        let c = Controllers.single(open: true, canSwitchEngine: true, startsOnEngine: true)
        var r = Self.continuous(seqs: 64, kv: 0.25)
        r.line.l2HitRate = 0.125
        r.line.prefixHitRate = 0.5
        c.update(engine: r, lane: 0)
        let text = try #require(c.frame(width: 240, height: 48, at: Controllers.at(1))).text
        #expect(text.contains("L2 12.5%  prefix cache 50.0%"), "\(text)")
        c.update(engine: Self.continuous(seqs: 64, kv: 0.25), lane: 0)
        let plain = try #require(c.frame(width: 240, height: 48, at: Controllers.at(2))).text
        #expect(!plain.contains("L2 ") && !plain.contains("prefix cache"))
    }
}
