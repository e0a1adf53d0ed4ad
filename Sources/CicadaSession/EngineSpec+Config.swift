import CicadaEngine
import CicadaEngineServer
import CicadaScenario

extension EngineSpec {
    /// The engine configuration this spec describes; an unknown precision is a usage error.
    public func engineConfig() throws(SessionError) -> EngineConfig {
        guard let p = Precision(rawValue: precision.lowercased()) else {
            throw .usage("error: unknown precision '\(precision)' (fp16, bf16, int8)")
        }
        return EngineConfig(gpu: gpu, model: model, precision: p, batching: startBatching, presets: presets,
                            cacheEntries: cacheEnabled ? cacheEntries : 0, cacheTTL: cacheTTL, predictOutputTokens: predictOutputTokens)
    }
}
