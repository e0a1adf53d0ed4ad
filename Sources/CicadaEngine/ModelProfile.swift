/// The shape of one language model, from its published config, as the device model needs it.
///
/// Parameter counts are computed exactly from the config fields (the comments on each profile
/// show the sums) and agree with the published totals. Two counts matter:
/// - ``totalParameters`` is what occupies device memory (every expert of an MoE model is
///   resident);
/// - ``activeParameters`` is what one token passes through in matrix multiplies: everything
///   except the input embedding (a table lookup, not a matmul) and, for MoE, except the routed
///   experts the token is not sent to. For DeepSeek-V2-Lite this gives 2.45B, matching the
///   published "2.4B activated"; for dense models it is the total less `vocab x hidden`.
public struct ModelProfile: Sendable, Hashable, CustomStringConvertible {
    /// How attention stores its KV cache, which sets the cache bytes per token.
    public enum Attention: Sendable, Hashable {
        /// Multi-head or grouped-query attention: each layer caches a key and a value vector
        /// of `headDim` for each of `kvHeads` heads per token.
        case grouped(kvHeads: Int, headDim: Int)
        /// Multi-head latent attention (DeepSeek-V2): each layer caches one compressed latent
        /// of `kvLoraRank` values plus a shared RoPE key of `ropeHeadDim` values per token,
        /// from which keys and values are re-expanded.
        case latent(kvLoraRank: Int, ropeHeadDim: Int)
    }

    /// Mixture-of-experts routing, for the models that use it.
    public struct MixtureOfExperts: Sendable, Hashable {
        /// Routed experts per MoE layer (`n_routed_experts`).
        public let routedExperts: Int
        /// Routed experts each token is sent to (`num_experts_per_tok`).
        public let expertsPerToken: Int
        /// Always-on shared experts per MoE layer (`n_shared_experts`).
        public let sharedExperts: Int
        /// Hidden width of one expert (`moe_intermediate_size`).
        public let expertIntermediateSize: Int
        /// Parameters of all routed experts in all MoE layers together.
        public let routedExpertParameters: Int

        /// Creates the routing description.
        public init(
            routedExperts: Int, expertsPerToken: Int, sharedExperts: Int,
            expertIntermediateSize: Int, routedExpertParameters: Int
        ) {
            self.routedExperts = routedExperts
            self.expertsPerToken = expertsPerToken
            self.sharedExperts = sharedExperts
            self.expertIntermediateSize = expertIntermediateSize
            self.routedExpertParameters = routedExpertParameters
        }
    }

    /// The canonical name used in labels, e.g. `deepseek-llm-7b`.
    public let name: String
    /// Transformer layers (`num_hidden_layers`).
    public let layers: Int
    /// Model width (`hidden_size`).
    public let hiddenSize: Int
    /// Dense MLP width (`intermediate_size`).
    public let intermediateSize: Int
    /// Query heads (`num_attention_heads`).
    public let attentionHeads: Int
    /// Vocabulary size (`vocab_size`).
    public let vocabSize: Int
    /// How the KV cache is laid out.
    public let attention: Attention
    /// MoE routing, or nil for a dense model.
    public let moe: MixtureOfExperts?
    /// All parameters, as held in device memory.
    public let totalParameters: Int
    /// Parameters one token passes through in matmuls (see the type's comment).
    public let activeParameters: Int
    /// Other names accepted by ``named(_:)``.
    public let aliases: [String]

    /// Creates a profile; the built-in ones are ``all``.
    public init(
        name: String, layers: Int, hiddenSize: Int, intermediateSize: Int, attentionHeads: Int,
        vocabSize: Int, attention: Attention, moe: MixtureOfExperts? = nil,
        totalParameters: Int, activeParameters: Int, aliases: [String] = []
    ) {
        self.name = name
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.attentionHeads = attentionHeads
        self.vocabSize = vocabSize
        self.attention = attention
        self.moe = moe
        self.totalParameters = totalParameters
        self.activeParameters = activeParameters
        self.aliases = aliases
    }

    /// The canonical name.
    public var description: String { name }

    /// KV-cache values stored per token per layer.
    ///
    /// Grouped attention: `2 x kv_heads x head_dim` (a key and a value per KV head). Latent
    /// attention: `kv_lora_rank + qk_rope_head_dim`, the compressed cache that DeepSeek-V2's
    /// paper and vLLM/SGLang's MLA kernels store; a naive implementation that caches the
    /// expanded keys and values would need `heads x (qk_head_dim + v_head_dim)` = 5,120 values,
    /// ~9x more for V2-Lite, and is not what a serving stack does.
    public var kvValuesPerTokenPerLayer: Int {
        switch attention {
        case let .grouped(kvHeads, headDim): 2 * kvHeads * headDim
        case let .latent(kvLoraRank, ropeHeadDim): kvLoraRank + ropeHeadDim
        }
    }

    /// KV-cache bytes per token across all layers at `precision`:
    /// `layers x kvValuesPerTokenPerLayer x bytesPerValue` (REFERENCE section 8).
    public func kvCacheBytesPerToken(_ precision: Precision) -> Int {
        layers * kvValuesPerTokenPerLayer * precision.bytesPerValue
    }

    /// Activation values live per token while one layer runs, for the workspace estimate.
    ///
    /// Hidden state, residual, normalised input, Q, K, V and attention output (counted as
    /// `7 x hidden`), plus the MLP's gate, up and activated product (`3 x` the per-token FFN
    /// width: `intermediate_size` for a dense model, the widest of the dense layers and
    /// `(experts per token + shared experts) x expert width` for MoE). Only one layer's
    /// activations are alive at a time in inference, so this does not scale with depth.
    public var activationValuesPerToken: Int {
        var ffnWidth = intermediateSize
        if let moe {
            ffnWidth = max(ffnWidth, (moe.expertsPerToken + moe.sharedExperts) * moe.expertIntermediateSize)
        }
        return 7 * hiddenSize + 3 * ffnWidth
    }

    /// Parameters read from memory by one forward pass over `tokens` tokens at once.
    ///
    /// Dense: ``activeParameters`` whatever the token count (each weight is read once and used
    /// for every token in the pass, which is why batching pays while a step is memory-bound).
    /// MoE: the shared part plus the routed experts at least one token is sent to; with uniform
    /// routing an expert escapes all `n` tokens with probability `(1 - k/E)^n`, so the expected
    /// routed share read is `routed x (1 - (1 - k/E)^n)`. One token reads exactly the active
    /// parameters; a large batch reads nearly all experts.
    public func parametersRead(tokens: Int) -> Double {
        guard let moe else { return Double(activeParameters) }
        let n = Double(max(tokens, 1))
        let k = Double(moe.expertsPerToken), e = Double(moe.routedExperts)
        let routed = Double(moe.routedExpertParameters)
        let chosenPerToken = routed * k / e
        let shared = Double(activeParameters) - chosenPerToken
        let touched = 1 - Self.power(1 - k / e, Int(n))
        return shared + routed * touched
    }

    /// `base` to a non-negative integer power by repeated squaring (no libm import needed).
    private static func power(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0, factor = base, remaining = exponent
        while remaining > 0 {
            if remaining & 1 == 1 { result *= factor }
            factor *= factor
            remaining >>= 1
        }
        return result
    }

    // MARK: - Built-in profiles (Hugging Face `config.json` of each deepseek-ai repository)

    /// deepseek-ai/deepseek-coder-1.3b-base: LLaMA architecture, MHA.
    ///
    /// config: num_hidden_layers 24, hidden_size 2048, intermediate_size 5504,
    /// num_attention_heads 16, num_key_value_heads 16 (head_dim 128), vocab_size 32256,
    /// untied embeddings. Per layer 4 x 2048^2 (attention) + 3 x 2048 x 5504 (MLP) + 2 x 2048
    /// (norms) = 50,597,888; x 24 = 1,214,349,312; + 2 x 32256 x 2048 (embedding, lm_head)
    /// + 2048 (final norm) = 1,346,471,936 (published: 1.3B; ~1.35B).
    public static let deepseekCoder1_3B = ModelProfile(
        name: "deepseek-coder-1.3b", layers: 24, hiddenSize: 2048, intermediateSize: 5504,
        attentionHeads: 16, vocabSize: 32256, attention: .grouped(kvHeads: 16, headDim: 128),
        totalParameters: 1_346_471_936, activeParameters: 1_346_471_936 - 32256 * 2048,
        aliases: ["deepseek-coder-1.3b", "deepseek-coder-1.3b-base", "deepseek-coder-1.3b-instruct"])

    /// deepseek-ai/deepseek-llm-7b-base: LLaMA architecture, MHA.
    ///
    /// config: num_hidden_layers 30, hidden_size 4096, intermediate_size 11008,
    /// num_attention_heads 32, num_key_value_heads 32 (head_dim 128), vocab_size 102400,
    /// untied embeddings. Per layer 4 x 4096^2 + 3 x 4096 x 11008 + 2 x 4096 = 202,383,360;
    /// x 30 = 6,071,500,800; + 2 x 102400 x 4096 + 4096 = 6,910,365,696 (published: 6.9B).
    public static let deepseekLLM7B = ModelProfile(
        name: "deepseek-llm-7b", layers: 30, hiddenSize: 4096, intermediateSize: 11008,
        attentionHeads: 32, vocabSize: 102_400, attention: .grouped(kvHeads: 32, headDim: 128),
        totalParameters: 6_910_365_696, activeParameters: 6_910_365_696 - 102_400 * 4096,
        aliases: ["deepseek-llm-7b", "deepseek-llm-7b-base", "deepseek-llm-7b-chat"])

    /// deepseek-ai/deepseek-coder-33b-base: LLaMA architecture, GQA with 8 KV heads.
    ///
    /// config: num_hidden_layers 62, hidden_size 7168, intermediate_size 19200,
    /// num_attention_heads 56, num_key_value_heads 8 (head_dim 128), vocab_size 32256,
    /// untied embeddings. Per layer 2 x 7168^2 (q, o) + 2 x 7168 x 1024 (k, v)
    /// + 3 x 7168 x 19200 + 2 x 7168 = 530,331,648; x 62 = 32,880,562,176;
    /// + 2 x 32256 x 7168 + 7168 = 33,342,991,360 (published: 33B; ~33.3B).
    public static let deepseekCoder33B = ModelProfile(
        name: "deepseek-coder-33b", layers: 62, hiddenSize: 7168, intermediateSize: 19200,
        attentionHeads: 56, vocabSize: 32256, attention: .grouped(kvHeads: 8, headDim: 128),
        totalParameters: 33_342_991_360, activeParameters: 33_342_991_360 - 32256 * 7168,
        aliases: ["deepseek-coder-33b", "deepseek-coder-33b-base", "deepseek-coder-33b-instruct"])

    /// deepseek-ai/DeepSeek-V2-Lite: MoE with multi-head latent attention (MLA).
    ///
    /// config: num_hidden_layers 27, hidden_size 2048, num_attention_heads 16, q_lora_rank null,
    /// kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128,
    /// intermediate_size 10944 (first_k_dense_replace 1: layer 0 is dense), n_routed_experts 64,
    /// n_shared_experts 2, num_experts_per_tok 6, moe_intermediate_size 1408, vocab_size 102400,
    /// untied embeddings.
    /// Attention per layer: q_proj 2048 x 16 x 192 + kv_a_proj 2048 x 576 + kv_a_norm 512
    /// + kv_b_proj 512 x 16 x 256 + o_proj 2048 x 2048 = 13,763,072; norms 4,096.
    /// Layer 0 MLP 3 x 2048 x 10944 = 67,239,936. MoE layer: one expert 3 x 2048 x 1408 =
    /// 8,650,752; 64 routed = 553,648,128; shared (width 2 x 1408) 17,301,504; gate 64 x 2048
    /// = 131,072. Total = 81,007,104 + 26 x 584,847,872 + 2 x 102400 x 2048 + 2048
    /// = 15,706,484,224 (published: 15.7B). Active = total - input embedding - 26 x 58 unused
    /// experts = 2,451,435,008 (published: 2.4B). Routed expert parameters = 26 x 553,648,128.
    /// KV cache: MLA's compressed latent, 512 + 64 values per layer per token (see
    /// ``kvValuesPerTokenPerLayer``), 31,104 bytes per token at fp16.
    public static let deepseekV2Lite = ModelProfile(
        name: "deepseek-v2-lite", layers: 27, hiddenSize: 2048, intermediateSize: 10944,
        attentionHeads: 16, vocabSize: 102_400, attention: .latent(kvLoraRank: 512, ropeHeadDim: 64),
        moe: MixtureOfExperts(
            routedExperts: 64, expertsPerToken: 6, sharedExperts: 2, expertIntermediateSize: 1408,
            routedExpertParameters: 26 * 64 * 3 * 2048 * 1408),
        totalParameters: 15_706_484_224, activeParameters: 2_451_435_008,
        aliases: ["deepseek-v2-lite", "DeepSeek-V2-Lite-Chat"])

    /// The built-in profiles, smallest first.
    public static let all: [ModelProfile] = [
        deepseekCoder1_3B, deepseekLLM7B, deepseekV2Lite, deepseekCoder33B,
    ]

    /// Looks a model up by name, case-insensitively; a Hugging Face id such as
    /// `deepseek-ai/deepseek-llm-7b-chat` also matches. An unknown name throws with suggestions.
    public static func named(_ name: String) throws(ProfileLookupError) -> ModelProfile {
        var trimmed = name
        if let slash = trimmed.lastIndex(of: "/") {
            trimmed = String(trimmed[trimmed.index(after: slash)...])
        }
        let key = ProfileLookupError.normalise(trimmed)
        if let found = all.first(where: { model in
            model.aliases.contains { ProfileLookupError.normalise($0) == key }
        }) {
            return found
        }
        throw ProfileLookupError(
            kind: "model", name: name,
            suggestions: ProfileLookupError.suggestions(
                for: key, among: all.map { ($0.name, $0.aliases) }),
            known: all.map(\.name))
    }
}
