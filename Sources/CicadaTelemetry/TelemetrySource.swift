/// Where a ``TelemetryReading`` came from.
///
/// The source travels with every reading so a dashboard or report can say "NVML" or "DCGM,
/// refreshed every 30 s" next to a number, and so a modelled figure from Cicada's own engine
/// is never mistaken for a measured one. Raw values are the names users see (`nvidia-smi`,
/// `engine-modelled`).
public enum TelemetrySource: String, Sendable, Equatable, Hashable, CaseIterable {
    /// libnvidia-ml, read in process.
    case nvml
    /// The `nvidia-smi` command, used when NVML cannot be loaded.
    case nvidiaSMI = "nvidia-smi"
    /// NVIDIA's DCGM exporter (`DCGM_FI_*` families, default port 9400).
    case dcgm
    /// Triton Inference Server's metrics endpoint (`nv_*` families, default port 8002).
    case triton
    /// vLLM's `/metrics` (`vllm:*` families).
    case vllm
    /// Hugging Face text-generation-inference (`tgi_*` families).
    case tgi
    /// SGLang's `/metrics` (`sglang:*` families).
    case sglang
    /// Cicada's embedded engine: its device figures are modelled, not measured.
    case engineModelled = "engine-modelled"
    /// A Prometheus endpoint with none of the families above; its families are kept by name.
    case prometheus
}
