import CicadaCore
import CicadaEngine

/// vLLM's metric names for a continuous engine, so a scraper (Cicada's own telemetry among
/// them) reads the modelled engine as it reads a real vLLM. Labels are vLLM V1's
/// (`model_name`, `engine`); every HELP text ends in "(modelled)".
extension EngineMetrics {
    static func renderVLLM(_ c: ContinuousStats, model: String) -> String {
        var out = ""
        let labels = "model_name=\"\(model.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\",engine=\"0\""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help) (modelled)\n# TYPE \(name) \(type)\n" }
        func le(_ nanos: UInt64) -> String {
            var t = Format.number(Double(nanos) / 1e9, digits: 4)
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t += "0" }
            return t
        }
        func histogram(_ name: String, _ h: DurationBuckets) {
            let cumulative = h.cumulative
            for (i, bound) in h.boundsNanos.enumerated() { out += "\(name)_bucket{\(labels),le=\"\(le(bound))\"} \(cumulative[i])\n" }
            out += "\(name)_bucket{\(labels),le=\"+Inf\"} \(h.count)\n"
            out += "\(name)_sum{\(labels)} \(Format.number(Double(h.sumNanos) / 1e9, digits: 6))\n"
            out += "\(name)_count{\(labels)} \(h.count)\n"
        }
        family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.")
        out += "vllm:num_requests_running{\(labels)} \(c.running)\n"
        family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.")
        out += "vllm:num_requests_waiting{\(labels)} \(c.waiting)\n"
        family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.")
        out += "vllm:kv_cache_usage_perc{\(labels)} \(c.kvCacheUsage.map { Format.number($0, digits: 6) } ?? "NaN")\n"
        family("vllm:num_preemptions_total", "counter", "Cumulative number of preemptions from the engine.")
        out += "vllm:num_preemptions_total{\(labels)} \(c.preemptions)\n"
        if c.settings.prefixCaching {
            family("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.")
            out += "vllm:prefix_cache_queries_total{\(labels)} \(c.prefixQueryTokens)\n"
            family("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.")
            out += "vllm:prefix_cache_hits_total{\(labels)} \(c.prefixHitTokens)\n"
        }
        family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.")
        out += "vllm:prompt_tokens_total{\(labels)} \(c.promptTokens)\n"
        family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.")
        out += "vllm:generation_tokens_total{\(labels)} \(c.generationTokens)\n"
        family("vllm:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds.")
        histogram("vllm:time_to_first_token_seconds", c.timeToFirstToken)
        family("vllm:inter_token_latency_seconds", "histogram", "Histogram of inter-token latency in seconds.")
        histogram("vllm:inter_token_latency_seconds", c.interTokenLatency)
        family("cicada_engine_kv_cache_blocks", "gauge", "KV cache blocks on the modelled device, by state.")
        out += "cicada_engine_kv_cache_blocks{state=\"used\"} \(c.blocksUsed)\ncicada_engine_kv_cache_blocks{state=\"total\"} \(c.blocksTotal)\n"
        family("cicada_engine_decode_batch_size_max", "gauge", "The most sequences one iteration has decoded together.")
        out += "cicada_engine_decode_batch_size_max \(c.decodeBatchPeak)\n"
        return out
    }
}
