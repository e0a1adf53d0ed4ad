import CicadaCore

/// GPU memory and server gauges in the summary and the JSON report.
///
/// Every figure names its source and says "modelled" when it comes from the embedded engine's
/// device model; with no reading the text says "no GPU telemetry", never 0.
public enum TelemetryReport {
    static func gib(_ v: UInt64?) -> String { v.map { Format.number(Double($0) / Double(1 << 30), digits: 2) + " GiB" } ?? "-" }

    /// Summary lines, or nil when the run polled no telemetry.
    public static func lines(_ t: TelemetrySummary?) -> [String]? {
        guard let t else { return nil }
        var out = ["TELEMETRY"]
        if let peak = t.gpuMemoryPeakFraction {
            out.append("  GPU memory peak: \(Format.number(peak * 100, digits: 1))% (\(t.gpuMemoryPeakWhere ?? "-"))\(t.gpuMemoryPeakModelled ? ", modelled" : "")")
        } else {
            out.append("  GPU memory: no GPU telemetry")
        }
        for g in t.gpus {
            let pct = g.usedFraction.map { " (\(Format.number($0 * 100, digits: 1))%)" } ?? ""
            out.append("  \(g.modelled ? "modelled: " : "")\(g.source) \(g.name): \(gib(g.usedBytes)) / \(gib(g.totalBytes))\(pct)\(g.stale ? ", stale" : "")")
        }
        if let kv = t.kvCachePeak { out.append("  KV cache peak: \(Format.number(kv * 100, digits: 1))%") }
        if let w = t.queueWaitingPeak { out.append("  server queue peak: \(Format.number(w, digits: 0)) waiting") }
        out += memoryLines(t.memorySeries)
        for c in t.counterDiffs {
            out.append("  server counter \(c.name): \(Format.number(c.last - c.first, digits: 0)) during the run (first \(Format.number(c.first, digits: 0)), last \(Format.number(c.last, digits: 0)))")
        }
        for s in t.sources {
            var line = "  source \(s.name): \(s.reads) reads"
            if s.failures > 0 { line += ", \(s.failures) failed" }
            if s.stale { line += ", stale" }
            if let e = s.error { line += "; last error: \(ReportText.oneLine(e, limit: 160))" }
            out.append(line)
        }
        return out
    }

    static func json(_ t: TelemetrySummary?) -> JSONOut {
        guard let t else { return .null }
        func bytes(_ v: UInt64?) -> JSONOut { v.map { .integer($0) } ?? .null }
        return .object([
            ("gpu_memory_peak_fraction", .number(t.gpuMemoryPeakFraction)),
            ("gpu_memory_peak_where", .string(t.gpuMemoryPeakWhere)),
            ("gpu_memory_peak_modelled", .bool(t.gpuMemoryPeakModelled)),
            ("kv_cache_peak", .number(t.kvCachePeak)),
            ("queue_waiting_peak", .number(t.queueWaitingPeak)),
            ("gpus", .array(t.gpus.map { g in .object([
                ("source", .string(g.source)), ("modelled", .bool(g.modelled)), ("name", .string(g.name)),
                ("used_bytes", bytes(g.usedBytes)), ("total_bytes", bytes(g.totalBytes)),
                ("age_s", .number(g.ageSeconds)), ("stale", .bool(g.stale)),
            ]) })),
            ("sources", .array(t.sources.map { s in .object([
                ("name", .string(s.name)), ("modelled", .bool(s.modelled)), ("last_read_s", .number(s.lastReadSeconds)),
                ("stale", .bool(s.stale)), ("reads", .integer(UInt64(s.reads))), ("failures", .integer(UInt64(s.failures))),
                ("error", .string(s.error)),
            ]) })),
            ("counters", .array(t.counterDiffs.map { c in .object([
                ("name", .string(c.name)), ("first", .number(c.first)), ("last", .number(c.last)), ("delta", .number(c.last - c.first)),
            ]) })),
            ("series", .array(t.series.map { p in .object([
                ("t", .number(p.t)), ("source", .string(p.source)), ("gpu", .string(p.gpu)),
                ("used_bytes", bytes(p.usedBytes)), ("total_bytes", bytes(p.totalBytes)),
                ("kv_cache", .number(p.kvCacheUsage)), ("waiting", .number(p.requestsWaiting)),
            ]) })),
            ("memory", .array(t.memorySeries.map { m in .object([
                ("t", .number(m.t)), ("source", .string(m.source)), ("gauge", .string(m.gauge)), ("limit_gauge", .string(m.limitGauge)),
                ("what", .string(m.what)), ("used_bytes", .integer(m.usedBytes)), ("limit_bytes", bytes(m.limitBytes)),
            ]) })),
        ])
    }

    /// One line per process or container memory gauge: its peak over the run, against its
    /// limit where there is one.
    static func memoryLines(_ series: [TelemetrySummary.MemoryPoint]) -> [String] {
        var order: [String] = []
        var peaks: [String: TelemetrySummary.MemoryPoint] = [:]
        for p in series {
            let key = "\(p.source)|\(p.gauge)|\(p.what ?? "")"
            if let old = peaks[key] { if p.usedBytes > old.usedBytes { peaks[key] = p } } else { order.append(key); peaks[key] = p }
        }
        return order.compactMap { peaks[$0] }.map { p in
            let limit = p.limitBytes.map { " / \(gib($0)) (\(Format.number(Double(p.usedBytes) / Double(max($0, 1)) * 100, digits: 1))% of \(p.limitGauge ?? "the limit"))" } ?? " (no limit exported)"
            return "  memory peak: \(p.gauge) \(gib(p.usedBytes))\(limit) (\(p.source)\(p.what.map { ", \($0)" } ?? ""))"
        }
    }
}
