import CicadaCore
import CicadaEngine

/// Renders the engine's counters in the Prometheus text format for `GET /metrics`.
///
/// Device figures carry `modelled="true"` and the device label, so nothing scraping them can
/// mistake a modelled GPU for a measured one.
enum EngineMetrics {
    static func render(_ s: EngineStats, config: EngineConfig) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        /// Nanoseconds as seconds with no trailing zeros ("0.0075", "1", "60"), for `le`.
        func seconds(_ nanos: UInt64) -> String {
            var t = Format.number(Double(nanos) / 1e9, digits: 4)
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
            return t
        }
        func esc(_ v: String) -> String {
            v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        family("cicada_engine_requests_total", "counter", "Requests answered by the engine, by outcome.")
        for (k, v) in s.requestsByOutcome.sorted(by: { $0.key < $1.key }) { out += "cicada_engine_requests_total{outcome=\"\(esc(k))\"} \(v)\n" }
        family("cicada_engine_queue_size", "gauge", "Requests waiting in the dynamic batcher's queue.")
        out += "cicada_engine_queue_size \(s.queueSize)\n"
        family("cicada_engine_queue_size_max", "gauge", "The longest the queue has been since the engine started.")
        out += "cicada_engine_queue_size_max \(s.queuePeak)\n"
        family("cicada_engine_queue_size_limit", "gauge", "The batcher's max_queue_size (0: unbounded); arrivals beyond it get 503 + Retry-After.")
        out += "cicada_engine_queue_size_limit \(s.batching.maxQueueSize)\n"
        family("cicada_engine_requests_in_flight", "gauge", "Requests held now: admitted and not yet answered (queued, executing or held for ordering).")
        out += "cicada_engine_requests_in_flight \(s.inFlight)\n"
        family("cicada_engine_requests_in_flight_max", "gauge", "The most requests held at once since the engine started.")
        out += "cicada_engine_requests_in_flight_max \(s.inFlightPeak)\n"
        family("cicada_engine_requests_in_flight_limit", "gauge", "max_in_flight: requests beyond it get 503 + Retry-After.")
        out += "cicada_engine_requests_in_flight_limit \(s.maxInFlight)\n"
        family("cicada_engine_request_duration_seconds", "histogram",
               "Time from the engine taking a request to its answer, by outcome (success or failure): real queueing plus the modelled compute time waited out.")
        for (outcome, h) in s.durations.sorted(by: { $0.key < $1.key }) {
            let cumulative = h.cumulative
            for (i, bound) in h.boundsNanos.enumerated() {
                out += "cicada_engine_request_duration_seconds_bucket{outcome=\"\(esc(outcome))\",le=\"\(seconds(bound))\"} \(cumulative[i])\n"
            }
            out += "cicada_engine_request_duration_seconds_bucket{outcome=\"\(esc(outcome))\",le=\"+Inf\"} \(h.count)\n"
            out += "cicada_engine_request_duration_seconds_sum{outcome=\"\(esc(outcome))\"} \(Format.number(Double(h.sumNanos) / 1e9, digits: 6))\n"
            out += "cicada_engine_request_duration_seconds_count{outcome=\"\(esc(outcome))\"} \(h.count)\n"
        }
        family("cicada_engine_executing_batches", "gauge", "Batches executing on the modelled device now.")
        out += "cicada_engine_executing_batches \(s.executing)\n"
        family("cicada_engine_batch_size", "histogram", "Requests per dispatched batch.")
        var cumulative: UInt64 = 0
        var sum: UInt64 = 0
        let sizes = s.batchSizes.sorted { $0.key < $1.key }
        for le in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
            cumulative = sizes.filter { $0.key <= le }.map(\.value).reduce(0, +)
            out += "cicada_engine_batch_size_bucket{le=\"\(le)\"} \(cumulative)\n"
        }
        for (k, v) in sizes { sum += UInt64(k) * v }
        out += "cicada_engine_batch_size_bucket{le=\"+Inf\"} \(s.executions)\n"
        out += "cicada_engine_batch_size_sum \(sum)\ncicada_engine_batch_size_count \(s.executions)\n"
        family("cicada_engine_queue_duration_seconds_total", "counter", "Total time requests spent queued before their batch started.")
        out += "cicada_engine_queue_duration_seconds_total \(Format.number(Double(s.queueNanosTotal) / 1e9, digits: 6))\n"
        family("cicada_engine_compute_duration_seconds_total", "counter", "Total modelled compute time of answered requests.")
        out += "cicada_engine_compute_duration_seconds_total \(Format.number(Double(s.computeNanosTotal) / 1e9, digits: 6))\n"
        family("cicada_engine_cache_hits_total", "counter", "Result cache hits.")
        out += "cicada_engine_cache_hits_total \(s.cacheHits)\n"
        family("cicada_engine_cache_misses_total", "counter", "Result cache misses.")
        out += "cicada_engine_cache_misses_total \(s.cacheMisses)\n"
        family("cicada_engine_cache_evictions_total", "counter", "Result cache evictions by capacity.")
        out += "cicada_engine_cache_evictions_total \(s.cacheEvictions)\n"
        if let h = s.embeddingHits {
            family("cicada_engine_embedding_cache_hits_total", "counter", "Inputs whose modelled prefill a batch skipped (the embedding cache). Modelled.")
            out += "cicada_engine_embedding_cache_hits_total \(h)\n"
            family("cicada_engine_embedding_cache_misses_total", "counter", "Inputs whose modelled prefill a batch computed and cached. Modelled.")
            out += "cicada_engine_embedding_cache_misses_total \(s.embeddingMisses ?? 0)\n"
        }
        if let l2 = s.l2 {
            family("cicada_engine_cache_l2_hits_total", "counter", "Level-2 (Redis) cache hits: level-1 misses answered from Redis.")
            out += "cicada_engine_cache_l2_hits_total \(l2.hits)\n"
            family("cicada_engine_cache_l2_misses_total", "counter", "Level-2 (Redis) cache misses, errors included.")
            out += "cicada_engine_cache_l2_misses_total \(l2.misses)\n"
            family("cicada_engine_cache_l2_errors_total", "counter", "Level-2 (Redis) lookups and writes that failed (no connection, timeout, error reply).")
            out += "cicada_engine_cache_l2_errors_total \(l2.errors)\n"
            family("cicada_engine_cache_l2_writes_total", "counter", "Answers stored in the level-2 (Redis) cache.")
            out += "cicada_engine_cache_l2_writes_total \(l2.writes)\n"
            family("cicada_engine_cache_l2_up", "gauge", "1 while the connection to the level-2 (Redis) cache is up.")
            out += "cicada_engine_cache_l2_up \(l2.connected ? 1 : 0)\n"
        }
        let labels = "gpu=\"\(esc(config.gpu))\",model=\"\(esc(config.model))\",precision=\"\(config.precision.rawValue)\",modelled=\"true\""
        family("cicada_engine_device_memory_used_bytes", "gauge", "Modelled device memory in use (weights, KV cache, workspace). Modelled, not measured.")
        out += "cicada_engine_device_memory_used_bytes{\(labels)} \(s.memoryUsedBytes)\n"
        family("cicada_engine_device_memory_total_bytes", "gauge", "Modelled device memory capacity. Modelled, not measured.")
        out += "cicada_engine_device_memory_total_bytes{\(labels)} \(s.memoryTotalBytes)\n"
        family("cicada_engine_out_of_memory_total", "counter", "Requests failed because their batch did not fit the modelled device memory.")
        out += "cicada_engine_out_of_memory_total \(s.outOfMemory)\n"
        if let c = s.continuous { out += renderVLLM(c, model: config.model) }
        out += ProcessMemory.read().exposition
        return out
    }
}
