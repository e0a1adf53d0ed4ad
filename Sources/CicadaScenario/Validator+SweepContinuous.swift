import CicadaCore
import CicadaEngine
import Yams

/// A `sweep:` block over an engine with `scheduler: continuous`: its grid is vLLM's
/// `max_num_seqs` by `max_num_batched_tokens`, not the dynamic batcher's presets.
extension Validator {
    /// Adds the continuous grid's configurations through `add` (configuration, node, key path):
    /// `sweep.grid: {max_num_seqs: [...], max_num_batched_tokens: [...]}`, either list optional
    /// (the engine block's value then), or ``SweepSpec/defaultContinuousGrid`` when the block
    /// names no `grid`, `presets` or `targets`. Batcher presets and batcher grid keys are errors
    /// naming the key.
    func continuousSweep(_ sm: [String: (key: Node, value: Node)], engine: EngineConfig,
                         add: (SweepSpec.Configuration, Node, String) -> Void) {
        let hint = "sweep the continuous scheduler with grid: {max_num_seqs: [64, 128, 256], max_num_batched_tokens: [4096, 8192]}"
        if let ps = sm["presets"] {
            fail(ps.key, "sweep.presets", "the engine runs the continuous scheduler, which has no batching presets", hint: hint)
        }
        var seqs: [Int], tokens: [Int]
        var at: Node?
        if let g = sm["grid"] {
            at = g.value
            guard let gm = mapping(g.value, "sweep.grid", allowed: ["max_num_seqs", "max_num_batched_tokens", "base", "max_batch_size", "max_queue_delay_us", "instance_count"]) else { return }
            for k in ["base", "max_batch_size", "max_queue_delay_us", "instance_count"] where gm[k] != nil {
                fail(gm[k]!.key, "sweep.grid.\(k)", "'\(k)' is a dynamic-batcher key; the engine runs the continuous scheduler", hint: hint)
            }
            func ints(_ k: String, current: Int) -> [Int] {
                guard let v = gm[k] else { return [current] }
                guard let items = list(v.value, "sweep.grid.\(k)") else { return [] }
                let most = k == "max_num_seqs" ? Self.maxNumSeqs : Self.maxBatchedTokens
                let xs = items.enumerated().compactMap { int($1, "sweep.grid.\(k)[\($0)]", min: 1, max: most) }
                if items.isEmpty { fail(v.value, "sweep.grid.\(k)", "give at least one value") }
                return xs
            }
            seqs = ints("max_num_seqs", current: engine.continuous.maxNumSeqs)
            tokens = ints("max_num_batched_tokens", current: engine.continuous.maxNumBatchedTokens)
            if gm["max_num_seqs"] == nil && gm["max_num_batched_tokens"] == nil {
                fail(g.value, "sweep.grid", "give max_num_seqs and/or max_num_batched_tokens (lists of values)", hint: hint)
                return
            }
        } else if sm["presets"] == nil && sm["targets"] == nil {
            (seqs, tokens) = SweepSpec.defaultContinuousGrid
        } else {
            return
        }
        let (configurations, skipped) = SweepSpec.continuousGrid(base: engine.continuous, maxNumSeqs: seqs, maxNumBatchedTokens: tokens)
        for s in skipped { fail(at, "sweep.grid", s) }
        for c in configurations { add(c, at ?? sm["grid"]?.value ?? .init(""), "sweep.grid") }
    }
}
