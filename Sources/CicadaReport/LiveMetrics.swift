import CicadaCore

/// A run's live figures in the Prometheus text exposition format (`--status-port`), for the
/// dashboards a team already watches.
///
/// Names follow Prometheus conventions (base units, `_total` counters, histograms with `le`
/// buckets); docs/LIVE-METRICS.md lists them. Latency histograms carry the corrected and the raw
/// timing as a `timing` label. Counters are totals since the run started, so a scrape after the
/// run (during `--status-linger`) equals the JSON report.
public enum LiveMetrics {
    /// Upper bounds (seconds) of the latency histograms' buckets.
    public static let bucketSeconds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// The Prometheus text for a snapshot of the run named `scenario`.
    public static func prometheusText(_ s: Snapshot, scenario: String) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            let l = ([("scenario", scenario)] + labels).map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
            out += "\(name){\(l)} \(value)\n"
        }
        func tasks(_ body: (_ labels: [(String, String)], _ stats: RequestStats) -> Void) {
            for i in s.perStat.indices {
                body([("task", i < s.names.count ? s.names[i] : "#\(i)"), ("method", i < s.methods.count ? s.methods[i] : "")], s.perStat[i])
            }
        }

        family("cicada_requests_total", "counter", "Requests completed (successes and failures), by task.")
        tasks { labels, st in sample("cicada_requests_total", labels, String(st.requests)) }
        family("cicada_failures_total", "counter", "Failed requests by task and failure kind.")
        tasks { labels, st in
            for kind in FailureKind.allCases { sample("cicada_failures_total", labels + [("kind", kind.rawValue)], String(st.failuresByKind[kind] ?? 0)) }
        }
        family("cicada_responses_total", "counter", "Responses by HTTP status code, all tasks.")
        for (code, n) in s.total.statusCodes.sorted(by: { $0.key < $1.key }) { sample("cicada_responses_total", [("code", String(code))], String(n)) }
        family("cicada_received_bytes_total", "counter", "Response bytes received, by task.")
        tasks { labels, st in sample("cicada_received_bytes_total", labels, String(st.bytesIn)) }
        family("cicada_sent_bytes_total", "counter", "Request bytes sent, by task.")
        tasks { labels, st in sample("cicada_sent_bytes_total", labels, String(st.bytesOut)) }

        family("cicada_request_duration_seconds", "histogram",
               "Request latency by task: timing=\"corrected\" from the intended start (coordinated omission corrected), timing=\"raw\" from the send.")
        tasks { labels, st in
            for (timing, h) in [("corrected", st.corrected), ("raw", st.raw)] {
                let l = labels + [("timing", timing)]
                for b in bucketSeconds {
                    sample("cicada_request_duration_seconds_bucket", l + [("le", number(b))], String(h.count(atOrBelow: UInt64(b * 1e6))))
                }
                sample("cicada_request_duration_seconds_bucket", l + [("le", "+Inf")], String(h.count))
                sample("cicada_request_duration_seconds_sum", l, number(h.sumMicros / 1e6))
                sample("cicada_request_duration_seconds_count", l, String(h.count))
            }
        }

        if let llm = s.total.llm {
            family("cicada_output_tokens_total", "counter", "Output tokens of streamed responses, all tasks.")
            sample("cicada_output_tokens_total", [], String(llm.outputTokens))
        }
        family("cicada_users", "gauge", "Closed-model users running now.")
        sample("cicada_users", [], String(s.gauges.users))
        family("cicada_in_flight_requests", "gauge", "Requests in flight now.")
        sample("cicada_in_flight_requests", [], String(s.gauges.inFlight))
        family("cicada_queued_arrivals", "gauge", "Open-model arrivals waiting for a free slot now.")
        sample("cicada_queued_arrivals", [], String(s.gauges.queued))
        family("cicada_dropped_arrivals_total", "counter", "Open-model arrivals dropped (queue full, or never started by the end).")
        sample("cicada_dropped_arrivals_total", [], String(s.dropped))
        family("cicada_cut_off_requests_total", "counter", "Requests still in flight when the run stopped.")
        sample("cicada_cut_off_requests_total", [], String(s.cutOff))
        family("cicada_schedule_lag_seconds", "gauge", "The load generator's own lateness starting due work, by quantile over the run.")
        for q in [0.5, 0.99] {
            if let v = s.scheduleLag.percentile(q * 100) { sample("cicada_schedule_lag_seconds", [("quantile", number(q))], number(Double(v) / 1e6)) }
        }
        family("cicada_elapsed_seconds", "gauge", "Seconds since the run started.")
        sample("cicada_elapsed_seconds", [], number(s.elapsed.seconds))
        if let t = s.telemetry {
            let modelledGPUs = t.gpus.filter { $0.usedBytes != nil && $0.totalBytes != nil }
            if !modelledGPUs.isEmpty {
                family("cicada_gpu_memory_used_bytes", "gauge", "GPU memory in use as last read, with its source; modelled=\"true\" for the embedded engine's device model.")
                for g in modelledGPUs {
                    sample("cicada_gpu_memory_used_bytes", [("gpu", g.name), ("source", g.source), ("modelled", String(g.modelled))], String(g.usedBytes!))
                }
                family("cicada_gpu_memory_total_bytes", "gauge", "GPU memory in all, as last read.")
                for g in modelledGPUs {
                    sample("cicada_gpu_memory_total_bytes", [("gpu", g.name), ("source", g.source), ("modelled", String(g.modelled))], String(g.totalBytes!))
                }
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// A label value escaped as the exposition format requires (backslash, quote, newline).
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
