import CicadaCore
import CicadaEngine
import Yams

/// The continuous scheduler's keys of an `engine:` block (and of a `compare:` variant).
extension Validator {
    /// `scheduler` and vLLM's engine arguments, with vLLM's names.
    static let continuousKeys = ["scheduler", "max_num_seqs", "max_num_batched_tokens", "block_size", "gpu_memory_utilization",
                                 "chunked_prefill", "preemption", "prefix_caching"]

    /// Reads `scheduler:` and the continuous keys of `m` into `config`. The vLLM keys need
    /// `scheduler: continuous` (in this mapping or inherited in `config`); the KV cache must hold
    /// at least one block on the configured device.
    func schedulerFields(_ m: [String: (key: Node, value: Node)], _ p: String, into config: inout EngineConfig) {
        let dot = p.isEmpty ? "" : "\(p)."
        if let v = m["scheduler"], let s = string(v.value, "\(dot)scheduler") {
            if let k = EngineScheduler(rawValue: s.lowercased()) { config.scheduler = k } else {
                fail(v.value, "\(dot)scheduler", "unknown scheduler '\(s)'", hint: "schedulers: \(EngineScheduler.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        var c = config.continuous
        let given = Self.continuousKeys.filter { $0 != "scheduler" && m[$0] != nil }
        if let v = m["max_num_seqs"], let x = int(v.value, "\(dot)max_num_seqs", min: 1, max: Self.maxNumSeqs) { c.maxNumSeqs = x }
        if let v = m["max_num_batched_tokens"], let x = int(v.value, "\(dot)max_num_batched_tokens", min: 1, max: Self.maxBatchedTokens) { c.maxNumBatchedTokens = x }
        if let v = m["block_size"], let x = int(v.value, "\(dot)block_size", min: 1) {
            if ContinuousSettings.blockSizes.contains(x) { c.blockSize = x } else {
                fail(v.value, "\(dot)block_size", "block_size must be one of \(ContinuousSettings.blockSizes.map(String.init).joined(separator: ", ")) (vLLM's choices), found \(x)")
            }
        }
        if let v = m["gpu_memory_utilization"], let x = double(v.value, "\(dot)gpu_memory_utilization", positive: true) {
            if x <= 1 { c.gpuMemoryUtilization = x } else { fail(v.value, "\(dot)gpu_memory_utilization", "must be a fraction in (0, 1], found \(x)") }
        }
        if let v = m["chunked_prefill"], let x = bool(v.value, "\(dot)chunked_prefill") { c.chunkedPrefill = x }
        if let v = m["prefix_caching"], let x = bool(v.value, "\(dot)prefix_caching") { c.prefixCaching = x }
        if let v = m["preemption"], let s = string(v.value, "\(dot)preemption") {
            if let x = PreemptionMode(rawValue: s.lowercased()) { c.preemption = x } else {
                fail(v.value, "\(dot)preemption", "unknown preemption mode '\(s)'",
                     hint: s.lowercased() == "swap" ? "swapping to CPU memory is not modelled (vLLM V1 dropped it too); use recompute" : "modes: recompute")
            }
        }
        if let first = given.first, config.scheduler != .continuous {
            fail(m[first]!.key, "\(dot)\(first)", "'\(first)' applies to the continuous scheduler only", hint: "add 'scheduler: continuous'")
            return
        }
        guard config.scheduler == .continuous else { return }
        let before = config.continuous
        config.continuous = c
        let at = m[given.first ?? "scheduler"]?.key
        if c.maxNumBatchedTokens < c.maxNumSeqs {
            fail(m["max_num_batched_tokens"]?.value ?? at, "\(dot)max_num_batched_tokens", "max_num_batched_tokens (\(c.maxNumBatchedTokens)) must be at least max_num_seqs (\(c.maxNumSeqs))")
        }
        // The KV cache on this device: vLLM refuses to start when no block fits.
        if c != before || m["scheduler"] != nil, let device = try? DeviceModel(gpu: config.gpu, model: config.model, precision: config.precision.rawValue) {
            let blocks = c.schedulerConfig(on: device).totalBlocks
            if blocks < 1 {
                fail(m["gpu_memory_utilization"]?.value ?? at, "\(dot)gpu_memory_utilization",
                     "no KV cache blocks fit on \(device.label): \(Format.number(c.gpuMemoryUtilization * 100, digits: 0))% of the device memory is taken by the weights and workspace",
                     hint: "raise gpu_memory_utilization, lower max_num_batched_tokens, or choose a larger GPU or a smaller model or precision")
            }
        }
    }
}
