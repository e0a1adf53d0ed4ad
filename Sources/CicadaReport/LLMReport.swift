import CicadaCore

/// Per-token results of streamed responses, in vLLM `bench serve`'s layout and JSON keys.
///
/// Users already parse vLLM's keys (`p99_ttft_ms`, `mean_tpot_ms`, `request_goodput`, ...), so the
/// same names and definitions are used; the mapping to AIPerf/GenAI-Perf and GuideLLM names is
/// in docs/LLM-METRICS.md. Everything here is absent when no stream was measured.
public enum LLMReport {
    /// Percentiles vLLM prints by default (`--metric-percentiles 99`) plus the usual tail set.
    static let percentiles: [Double] = [50, 90, 95, 99]

    /// The vLLM-style text block, or nil when the run measured no stream.
    public static func text(_ result: RunResult, goodputConfigured: Bool) -> String? {
        let snap = result.snapshot
        guard let l = snap.total.llm else { return nil }
        let seconds = snap.measuredSeconds
        var lines: [String] = []
        func row(_ label: String, _ value: String) {
            let pad = max(1, 50 - label.count - value.count)
            lines.append(label + String(repeating: " ", count: pad) + value)
        }
        func num(_ v: Double?, _ d: Int = 2) -> String { v.map { Format.number($0, digits: d) } ?? "-" }
        func section(_ title: String) {
            // Python's str.format centring, as vLLM prints it: the odd dash goes right.
            let side = max(0, 50 - title.count) / 2
            let left = String(repeating: "-", count: side)
            lines.append(left + title + String(repeating: "-", count: 50 - side - title.count))
        }
        lines.append(String(repeating: "=", count: 12) + " Serving Benchmark Result " + String(repeating: "=", count: 12))
        row("Successful requests:", String(l.streams))
        row("Failed requests:", String(snap.total.failures))
        row("Benchmark duration (s):", num(seconds))
        row("Total input tokens:", l.usageReported > 0 ? String(l.inputTokens) : "-")
        row("Total generated tokens:", String(l.outputTokens))
        row("Request throughput (req/s):", num(seconds > 0 ? Double(l.streams) / seconds : nil))
        if goodputConfigured { row("Request goodput (req/s):", num(seconds > 0 ? Double(l.goodRequests) / seconds : nil)) }
        row("Output token throughput (tok/s):", num(seconds > 0 ? Double(l.outputTokens) / seconds : nil))
        row("Total Token throughput (tok/s):", l.usageReported > 0 ? num(seconds > 0 ? Double(l.outputTokens + l.inputTokens) / seconds : nil) : "-")
        for (title, short, h) in [("Time to First Token", "TTFT", l.ttft), ("Time per Output Token (excl. 1st token)", "TPOT", l.tpot),
                                  ("Inter-token Latency", "ITL", l.itl), ("End-to-end Latency", "E2EL", l.e2el)] {
            section(title)
            row("Mean \(short) (ms):", num(h.meanMicros.map { $0 / 1000 }))
            row("Median \(short) (ms):", num(h.percentile(50).map { Double($0) / 1000 }))
            for p in [99.0] { row("P\(Int(p)) \(short) (ms):", num(h.percentile(p).map { Double($0) / 1000 })) }
        }
        if l.reasoningStreams > 0 {
            section("Reasoning")
            row("Streams with reasoning:", String(l.reasoningStreams))
            row("Reasoning tokens:", String(l.reasoningTokens))
            row("Answer tokens:", String(l.answerTokens))
            for (title, h) in [("first reasoning token", l.firstReasoning), ("first answer token", l.firstContent)] {
                row("Mean time to \(title) (ms):", num(h.meanMicros.map { $0 / 1000 }))
                row("P99 time to \(title) (ms):", num(h.percentile(99).map { Double($0) / 1000 }))
            }
        }
        // Which method produced each token count: the server's usage, or Cicada's chunk count.
        section("Token counts")
        row("Output tokens counted by:", Self.method(usage: l.usageReported, tokenizer: l.tokenizerCounted, of: l.streams))
        row("Input tokens counted by:", l.usageReported > 0 ? "usage" : "-")
        if l.reasoningStreams > 0 { row("Reasoning tokens counted by:", Self.method(usage: l.reasoningUsageReported, of: l.reasoningStreams)) }
        lines.append(String(repeating: "=", count: 50))
        if l.usageReported.addingSaturating(l.tokenizerCounted) < l.streams {
            lines.append("Note: \(l.streams - l.usageReported - l.tokenizerCounted) stream(s) reported no usage; their output tokens were counted as content chunks.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// vLLM's JSON keys for the run, or nil when no stream was measured.
    static func json(_ result: RunResult, goodputConfigured: Bool) -> JSONOut {
        let snap = result.snapshot
        guard let l = snap.total.llm else { return .null }
        let seconds = snap.measuredSeconds
        var pairs: [(String, JSONOut)] = [
            ("completed", .integer(l.streams)),
            ("failed", .integer(snap.total.failures)),
            ("duration", .number(seconds)),
            ("total_input_tokens", l.usageReported > 0 ? .integer(l.inputTokens) : .null),
            ("total_output_tokens", .integer(l.outputTokens)),
            ("request_throughput", .number(seconds > 0 ? Double(l.streams) / seconds : nil)),
            ("request_goodput", goodputConfigured ? .number(seconds > 0 ? Double(l.goodRequests) / seconds : nil) : .null),
            ("output_throughput", .number(seconds > 0 ? Double(l.outputTokens) / seconds : nil)),
            ("total_token_throughput", l.usageReported > 0 ? .number(seconds > 0 ? Double(l.outputTokens + l.inputTokens) / seconds : nil) : .null),
            ("output_tokens_from_usage", .integer(l.usageReported)),
            ("output_tokens_method", .string(method(usage: l.usageReported, tokenizer: l.tokenizerCounted, of: l.streams))),
            ("output_tokens_from_tokenizer", .integer(l.tokenizerCounted)),
            ("input_tokens_method", l.usageReported > 0 ? .string("usage") : .null),
            ("reasoning_streams", .integer(l.reasoningStreams)),
            ("total_reasoning_tokens", l.reasoningStreams > 0 ? .integer(l.reasoningTokens) : .null),
            ("total_answer_tokens", l.reasoningStreams > 0 ? .integer(l.answerTokens) : .null),
            ("reasoning_tokens_method", l.reasoningStreams > 0 ? .string(method(usage: l.reasoningUsageReported, of: l.reasoningStreams)) : .null),
        ]
        for (name, h) in [("ttft", l.ttft), ("tpot", l.tpot), ("itl", l.itl), ("e2el", l.e2el), ("first_content", l.firstContent),
                          ("first_reasoning", l.firstReasoning)] {
            pairs.append(("mean_\(name)_ms", .number(h.meanMicros.map { $0 / 1000 })))
            pairs.append(("median_\(name)_ms", .millis(h.percentile(50))))
            pairs.append(("std_\(name)_ms", .number(std(h))))
            for p in percentiles {
                pairs.append(("p\(Int(p))_\(name)_ms", .millis(h.percentile(p))))
            }
        }
        return .object(pairs)
    }

    /// Which method produced a token count over `streams` streams, `usage` of which reported
    /// it and `tokenizer` of which the scenario's tokenizer counted: `usage` (the server's),
    /// `tokenizer`, `chunks` (Cicada counted text chunks) or `mixed`.
    static func method(usage: UInt64, tokenizer: UInt64 = 0, of streams: UInt64) -> String {
        if usage >= streams { return TokenCountMethod.usage.rawValue }
        if tokenizer >= streams { return TokenCountMethod.tokenizer.rawValue }
        if usage == 0 && tokenizer == 0 { return TokenCountMethod.chunks.rawValue }
        return "mixed"
    }

    /// Standard deviation (ms) from the histogram's buckets; nil when empty.
    static func std(_ h: LatencyHistogram) -> Double? {
        guard let mean = h.meanMicros, h.count > 0 else { return nil }
        var acc = 0.0
        for b in h.buckets() { let d = Double(b.micros) - mean; acc += d * d * Double(b.count) }
        return (acc / Double(h.count)).squareRoot() / 1000
    }
}
