import CicadaCore

/// What one variant of a comparison measured.
public struct VariantResult: Sendable {
    /// The variant's name from the scenario's `compare:` block.
    public var name: String
    /// What it ran against, e.g. "engine A100-80GB/..., seed: max batch 8 ... (modelled)" or a URL.
    public var config: String
    /// The variant's own run: statistics, thresholds, timeline.
    public var result: RunResult
    /// The embedded engine's figures, for an engine variant; nil for a target.
    public var engine: EngineFacts?

    public init(name: String, config: String, result: RunResult, engine: EngineFacts? = nil) {
        self.name = name; self.config = config; self.result = result; self.engine = engine
    }
}

/// An engine variant's modelled figures at the end of its run. Everything here comes from the
/// engine's device model and is labelled modelled wherever it is shown.
public struct EngineFacts: Sendable, Equatable {
    /// The batching preset (or the variant's own configuration) at the end of the run.
    public var preset: String
    /// Mean batch size run; nil before the first batch.
    public var averageBatchSize: Double?
    /// Peak modelled device memory used / total; nil when unknown.
    public var peakMemoryFraction: Double?
    /// Requests refused because their batch did not fit the modelled memory.
    public var outOfMemory: UInt64

    public init(preset: String, averageBatchSize: Double?, peakMemoryFraction: Double?, outOfMemory: UInt64) {
        self.preset = preset; self.averageBatchSize = averageBatchSize; self.peakMemoryFraction = peakMemoryFraction; self.outOfMemory = outOfMemory
    }
}

/// Variants side by side, each against the baseline: the table the headless summary, the
/// Markdown summary and the JSON report show. Pure: computed from the variants' results.
///
/// A change is relative, `(variant - baseline) / baseline`; it is nil (shown as `-`) when
/// either side is absent or the baseline is zero, never a made-up 0. Error rates differ in
/// percentage points instead, since a relative change from 0% means nothing.
public struct Comparison: Sendable {
    /// One variant's figures and its differences from the baseline.
    public struct Row: Sendable, Equatable {
        public var name: String
        public var config: String
        public var requests: UInt64
        /// Completed requests per second over the measured span; nil with no span.
        public var qps: Double?
        /// Corrected latency percentiles over the whole run, microseconds; nil with no sample.
        public var p50: UInt64?
        public var p95: UInt64?
        public var p99: UInt64?
        public var p999: UInt64?
        public var errorRate: Double?
        /// Time to first token p99 (microseconds), for streamed LLM requests only.
        public var ttftP99: UInt64?
        /// Whether every threshold passed for this variant.
        public var passed: Bool
        public var engine: EngineFacts?
        /// Relative changes from the baseline (nil for the baseline itself and when absent).
        public var qpsChange: Double?
        public var p50Change: Double?
        public var p99Change: Double?
        /// Error rate minus the baseline's, in percentage points.
        public var errorRateDeltaPoints: Double?
        /// The variant's 95% confidence intervals (its run's ``RunResult/intervals``) on the
        /// compared figures, by name: `p(50)`, `p(99)` (ms), `qps`, `error_rate`; empty without.
        public var intervals: [String: ConfidenceInterval] = [:]
        /// Whether each change from the baseline (by the same names) is beyond noise: true when
        /// the two intervals do not overlap, false when they do (not a significant difference);
        /// no entry when either side has no interval, and none for the baseline itself.
        public var significant: [String: Bool] = [:]
    }

    /// The figures whose intervals a comparison reads, in order.
    public static let intervalFigures = ["qps", "p(50)", "p(99)", "error_rate"]

    public let rows: [Row]
    public let baselineIndex: Int

    /// Compares `variants` with the one at `baselineIndex`.
    public init(variants: [VariantResult], baselineIndex: Int) {
        let base = max(0, min(baselineIndex, variants.count - 1))
        self.baselineIndex = base
        func row(_ v: VariantResult) -> Row {
            let s = v.result.snapshot
            let h = s.total.corrected
            var r = Row(name: v.name, config: v.config, requests: s.total.requests, qps: s.qps,
                        p50: h.percentile(50), p95: h.percentile(95), p99: h.percentile(99), p999: h.percentile(99.9),
                        errorRate: s.total.errorRate, ttftP99: s.total.llm?.ttft.percentile(99),
                        passed: v.result.passed, engine: v.engine)
            for f in Self.intervalFigures { r.intervals[f] = v.result.intervals?.figures[f] }
            return r
        }
        var rows = variants.map(row)
        if !rows.isEmpty {
            let b = rows[base]
            for i in rows.indices where i != base {
                rows[i].qpsChange = Self.change(rows[i].qps, b.qps)
                rows[i].p50Change = Self.change(rows[i].p50.map(Double.init), b.p50.map(Double.init))
                rows[i].p99Change = Self.change(rows[i].p99.map(Double.init), b.p99.map(Double.init))
                if let e = rows[i].errorRate, let eb = b.errorRate { rows[i].errorRateDeltaPoints = (e - eb) * 100 }
                for f in Self.intervalFigures {
                    if let a = rows[i].intervals[f], let c = b.intervals[f] { rows[i].significant[f] = !Self.overlap(a, c) }
                }
            }
        }
        self.rows = rows
    }

    /// `(value - base) / base`; nil when either is absent or the base is zero.
    public static func change(_ value: Double?, _ base: Double?) -> Double? { Format.relativeChange(value, from: base) }

    /// "+12.3%" / "-4.0%" / "-"; from ten times the baseline on, a ratio: "197x".
    public static func percent(_ change: Double?) -> String { Format.change(change) }

    /// The variant with the lowest p99 and the one with the highest QPS, among variants that
    /// measured them; nil when none did.
    public var lowestP99: Row? { rows.filter { $0.p99 != nil }.min { $0.p99! < $1.p99! } }
    public var highestQPS: Row? { rows.filter { $0.qps != nil }.max { $0.qps! < $1.qps! } }

    /// Whether two intervals share a value (bounds included): their figures do not differ
    /// significantly.
    public static func overlap(_ a: ConfidenceInterval, _ b: ConfidenceInterval) -> Bool { a.lower <= b.upper && b.lower <= a.upper }

    /// The other variants whose interval on `figure` overlaps `best`'s: not significantly worse
    /// than it, so the ranking's winner is not a clear one. Empty: `best` is ahead of every
    /// variant with an interval; nil when `best` has no interval (not judged).
    public func withinNoise(of best: Row?, figure: String) -> [String]? {
        guard let best, let bi = best.intervals[figure] else { return nil }
        return rows.filter { $0.name != best.name }.compactMap { r in
            guard let i = r.intervals[figure] else { return nil }
            return Self.overlap(bi, i) ? r.name : nil
        }
    }
    /// Variants within noise of the lowest p99 and of the highest throughput (``withinNoise(of:figure:)``).
    public var lowestP99WithinNoise: [String]? { withinNoise(of: lowestP99, figure: "p(99)") }
    public var highestQPSWithinNoise: [String]? { withinNoise(of: highestQPS, figure: "qps") }

    /// ", significant" / ", within noise" after a change, or nothing when not judged.
    static func noise(_ r: Row, _ figure: String) -> String {
        guard let s = r.significant[figure] else { return "" }
        return s ? ", significant" : ", within noise"
    }

    /// "; within noise of b, c" after a ranking's winner, or nothing when it is clear or not judged.
    static func ties(_ names: [String]?) -> String {
        guard let names, !names.isEmpty else { return "" }
        return "; within noise of \(names.joined(separator: ", ")): intervals overlap"
    }

    /// One sentence per non-baseline variant: "throughput vs seed: p99 12.1ms vs 31.0ms
    /// (-61.0%), 199.8 vs 200.1 req/s (-0.1%), errors +0.0 pp".
    public var deltaLines: [String] {
        guard !rows.isEmpty else { return [] }
        let b = rows[baselineIndex]
        return rows.indices.filter { $0 != baselineIndex }.map { i in
            let r = rows[i]
            var parts = ["p99 \(Format.micros(r.p99)) vs \(Format.micros(b.p99)) (\(Self.percent(r.p99Change))\(Self.noise(r, "p(99)")))"]
            parts.append("\(r.qps.map { Format.number($0, digits: 1) } ?? "-") vs \(b.qps.map { Format.number($0, digits: 1) } ?? "-") req/s (\(Self.percent(r.qpsChange))\(Self.noise(r, "qps")))")
            if let d = r.errorRateDeltaPoints {
                let judged = Self.noise(r, "error_rate")
                parts.append("errors " + (d >= 0 ? "+" : "") + Format.number(d, digits: 2) + " pp" + (judged.isEmpty ? "" : " (\(judged.dropFirst(2)))"))
            }
            return "\(r.name) vs \(b.name): " + parts.joined(separator: ", ")
        }
    }

    /// The comparison as text: a table of every variant with its changes from the baseline,
    /// one line per variant's configuration, the deltas in words, and the best of each.
    public func text(plain: Bool = false) -> String {
        var lines = ["COMPARISON (same load for every variant; latency corrected for coordinated omission; baseline \(rows.isEmpty ? "-" : rows[baselineIndex].name))"]
        var t = TextTable([.left, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right, .left])
        t.add(["variant", "reqs", "req/s", "p50", "p95", "p99", "p99.9", "errors", "batch*", "mem*", "Δreq/s", "Δp99", "pass"].map { plain ? $0.replacingOccurrences(of: "Δ", with: "d") : $0 })
        for (i, r) in rows.enumerated() {
            let mark = plain ? (r.passed ? "PASS" : "FAIL") : (r.passed ? "✓" : "✗")
            t.add([r.name + (i == baselineIndex ? " (base)" : ""), String(r.requests), r.qps.map { Format.number($0, digits: 1) } ?? "-",
                   Format.micros(r.p50), Format.micros(r.p95), Format.micros(r.p99), Format.micros(r.p999),
                   r.errorRate.map { Format.number($0 * 100, digits: 2) + "%" } ?? "-",
                   r.engine?.averageBatchSize.map { Format.number($0, digits: 1) } ?? "-",
                   r.engine?.peakMemoryFraction.map { Format.number($0 * 100, digits: 0) + "%" } ?? "-",
                   i == baselineIndex ? "" : Self.percent(r.qpsChange), i == baselineIndex ? "" : Self.percent(r.p99Change), mark])
        }
        lines += t.lines(indent: "  ")
        if rows.contains(where: { $0.engine != nil }) { lines.append("  * modelled by the embedded engine's device model (batch = mean batch size, mem = peak device memory)") }
        lines.append("")
        for r in rows { lines.append("  \(r.name): \(r.config)") }
        let deltas = deltaLines
        if !deltas.isEmpty {
            lines.append("")
            lines += deltas.map { "  " + $0 }
        }
        if let lo = lowestP99, let hi = highestQPS {
            lines.append("  lowest p99: \(lo.name) (\(Format.micros(lo.p99))\(Self.ties(lowestP99WithinNoise))); highest throughput: \(hi.name) (\(Format.number(hi.qps ?? 0, digits: 1)) req/s\(Self.ties(highestQPSWithinNoise)))")
        }
        if rows.contains(where: { !$0.intervals.isEmpty }) {
            lines.append("  significant: the two variants' 95% confidence intervals do not overlap; within noise: they overlap (not a significant difference)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The comparison as a GitHub-flavoured Markdown table (for a CI job summary).
    public func markdown() -> String {
        var out = "## Comparison (baseline \(rows.isEmpty ? "-" : rows[baselineIndex].name))\n\n"
        out += "| variant | configuration | req/s | p50 | p99 | errors | Δ req/s | Δ p99 | thresholds |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n"
        for (i, r) in rows.enumerated() {
            out += "| \(r.name)\(i == baselineIndex ? " (baseline)" : "") | \(r.config.replacingOccurrences(of: "|", with: "\\|")) | \(r.qps.map { Format.number($0, digits: 1) } ?? "-") | \(Format.micros(r.p50)) | \(Format.micros(r.p99)) | \(r.errorRate.map { Format.number($0 * 100, digits: 2) + "%" } ?? "-") | \(i == baselineIndex ? "" : Self.percent(r.qpsChange) + Self.noise(r, "qps")) | \(i == baselineIndex ? "" : Self.percent(r.p99Change) + Self.noise(r, "p(99)")) | \(r.passed ? "pass" : "fail") |\n"
        }
        return out
    }

    /// The comparison as a `cicada.compare/v1` JSON document: the table with its changes, and
    /// each variant's full `cicada.report/v1` report under `variants[i].report`.
    public func json(variants: [VariantResult]) -> String {
        func row(_ r: Row, _ v: VariantResult) -> JSONOut {
            var pairs: [(String, JSONOut)] = [
                ("name", .string(r.name)),
                ("config", .string(r.config)),
                ("baseline", .bool(r.name == rows[baselineIndex].name)),
                ("passed", .bool(r.passed)),
                ("requests", .integer(r.requests)),
                ("qps", .number(r.qps)),
                ("latency_ms", .object([("p50", .millis(r.p50)), ("p95", .millis(r.p95)), ("p99", .millis(r.p99)), ("p99.9", .millis(r.p999))])),
                ("error_rate", .number(r.errorRate)),
                ("ttft_p99_ms", .millis(r.ttftP99)),
                ("change", .object([
                    ("qps", .number(r.qpsChange)), ("p50", .number(r.p50Change)), ("p99", .number(r.p99Change)),
                    ("error_rate_points", .number(r.errorRateDeltaPoints)),
                    ("significant", .object(Self.intervalFigures.map { f in (f, r.significant[f].map(JSONOut.bool) ?? .null) })),
                ])),
                ("confidence", r.intervals.isEmpty ? .null : .object(Self.intervalFigures.map { f in
                    (f, r.intervals[f].map { i in JSONOut.object([("lower", .precise(i.lower)), ("upper", .precise(i.upper))]) } ?? .null)
                })),
            ]
            if let e = r.engine {
                pairs.append(("engine", .object([
                    ("modelled", .bool(true)), ("preset", .string(e.preset)), ("avg_batch_size", .number(e.averageBatchSize)),
                    ("peak_memory_fraction", .number(e.peakMemoryFraction)), ("out_of_memory", .integer(e.outOfMemory)),
                ])))
            } else {
                pairs.append(("engine", .null))
            }
            pairs.append(("report", JSONReport(startNanos: v.result.startNanos).document(v.result)))
            return .object(pairs)
        }
        let doc = JSONOut.object([
            ("schema", .string("cicada.compare/v1")),
            ("baseline", .string(rows.isEmpty ? nil : rows[baselineIndex].name)),
            ("passed", .bool(rows.allSatisfy(\.passed))),
            ("lowest_p99", .string(lowestP99?.name)),
            ("highest_qps", .string(highestQPS?.name)),
            ("lowest_p99_within_noise", lowestP99WithinNoise.map { .array($0.map { .string($0) }) } ?? .null),
            ("highest_qps_within_noise", highestQPSWithinNoise.map { .array($0.map { .string($0) }) } ?? .null),
            ("variants", .array(zip(rows, variants).map(row))),
        ])
        var s = ""
        doc.write(to: &s)
        return s + "\n"
    }
}
