import CicadaCore

/// The end-of-run text printed to stdout: header, thresholds, per-name latency table, schedule
/// lag, status codes and errors.
///
/// Laid out like k6's end-of-test summary (a THRESHOLDS block with a mark and the measured
/// value) and Locust's stats table, but latencies come from the coordinated-omission-corrected
/// histogram, the uncorrected ones are shown only when they differ, and the run's diagnoses
/// (``Diagnosis``: a generator that fell behind, requests cut off, out of memory, ...) follow the
/// thresholds, so a saturated client is not mistaken for a slow server.
/// Absent values print as `-`, never `0`. Pure: it writes to the stream it is given.
public struct SummaryPrinter: Sendable {
    /// Write `PASS`/`FAIL` instead of `✓`/`✗`, for terminals that cannot show UTF-8.
    public var plain: Bool
    /// At most this many error rows are printed (most frequent first).
    public var maxErrors: Int

    /// - Parameters:
    ///   - plain: `PASS`/`FAIL` instead of check and cross marks.
    ///   - maxErrors: how many error rows to print.
    public init(plain: Bool = false, maxErrors: Int = 20) {
        self.plain = plain; self.maxErrors = maxErrors
    }

    /// The summary as one string (every line ends with a newline).
    public func render(_ result: RunResult) -> String {
        var s = ""
        write(result, to: &s)
        return s
    }

    /// Writes the summary to `out`.
    public func write(_ result: RunResult, to out: inout some TextOutputStream) {
        let snap = result.snapshot
        var lines: [String] = [header(result), ""]

        if !result.thresholds.isEmpty {
            lines.append("THRESHOLDS")
            let width = result.thresholds.map(\.threshold.spec.expression.count).max() ?? 0
            for r in result.thresholds {
                let mark = plain ? (r.passed ? "PASS" : "FAIL") : (r.passed ? "✓" : "✗")
                let expr = r.threshold.spec.expression
                let dots = String(repeating: ".", count: width - expr.count + 3)
                lines.append("  \(mark) \(expr) \(dots) \(r.measuredText)")
            }
            lines.append("")
        }

        if !result.diagnoses.isEmpty {
            lines.append("DIAGNOSES")
            lines += Self.diagnosisLines(result.diagnoses, plain: plain)
            lines.append("")
        }

        lines.append("REQUESTS (latency from intended start, corrected for coordinated omission)")
        lines += table(snap, \.corrected)
        if Self.rawDiffers(snap) {
            lines.append("")
            lines.append("RAW (from actual send, not corrected for coordinated omission)")
            lines += table(snap, \.raw)
        }
        lines.append("")

        let lag = snap.scheduleLag
        var lagLine = "Schedule lag: p50 \(Format.micros(lag.percentile(50))), p99 \(Format.micros(lag.percentile(99))), max \(Format.micros(lag.max))"
        if snap.dropped > 0 { lagLine += "; dropped \(snap.dropped) arrivals" }
        lines.append(lagLine)

        lines += MeasurementReport.lines(result)
        let codes = snap.total.statusCodes.sorted { $0.key < $1.key }
        lines.append("Status codes: " + (codes.isEmpty ? "-" : codes.map { "\($0.key): \($0.value)" }.joined(separator: ", ")))

        let errors = snap.errors.sorted
        if errors.isEmpty {
            lines.append("Errors: none")
        } else {
            lines.append("")
            let shown = errors.prefix(max(0, maxErrors))
            lines.append(shown.count < errors.count ? "ERRORS (top \(shown.count) of \(errors.count))" : "ERRORS")
            var t = TextTable([.right, .left, .left, .left])
            t.add(["Count", "Method", "Name", "Message"])
            for e in shown {
                t.add([String(e.stat.occurrences), e.key.method, ReportText.oneLine(e.key.name, limit: 60), ReportText.oneLine(e.key.message, limit: 120)])
            }
            lines += t.lines(indent: "  ")
        }

        for l in lines { out.write(l); out.write("\n") }
    }

    /// Each diagnosis: mark, rule and symptom, then its evidence, likely cause and fix, indented.
    public static func diagnosisLines(_ diagnoses: [Diagnosis], plain: Bool) -> [String] {
        diagnoses.flatMap { d -> [String] in
            let mark = d.severity == .critical ? (plain ? "CRITICAL" : "✗") : (plain ? "WARNING" : "⚠")
            let at = d.firedAtSeconds.map { " (from \(Format.number($0, digits: 1))s)" } ?? ""
            return ["  \(mark) \(d.rule): \(d.symptom)\(at)",
                    "      evidence: \(d.evidence.joined(separator: "; "))",
                    "      likely cause: \(d.cause)",
                    "      fix: \(d.action)"]
        }
    }

    func header(_ r: RunResult) -> String {
        let secs = r.snapshot.measuredSeconds
        let cpu = secs > 0 ? Format.number(r.cpuSeconds / secs * 100, digits: 1) + "%" : "-"
        let arrow = plain ? "->" : "→"
        return "\(r.scenarioName) \(arrow) \(r.target) | \(r.modelDescription) | \(Format.number(secs, digits: 1))s, \(ReportText.human(r.stopReason)) | \(r.workers) worker\(r.workers == 1 ? "" : "s")\(r.transport.map { " (\($0))" } ?? ""), generator CPU \(cpu)"
    }

    func table(_ snap: Snapshot, _ latency: KeyPath<RequestStats, LatencyHistogram>) -> [String] {
        var t = TextTable([.left] + Array(repeating: .right, count: 9))
        t.add(["Name", "Reqs", "Fails", "Req/s", "p50", "p90", "p95", "p99", "p99.9", "Max"])
        func row(_ name: String, _ s: RequestStats, _ qps: Double?) {
            let h = s[keyPath: latency]
            let fails = s.requests > 0 ? "\(s.failures) (\(Format.number(Double(s.failures) / Double(s.requests) * 100, digits: 2))%)" : "0"
            t.add([ReportText.oneLine(name, limit: 60), String(s.requests), fails, qps.map { Format.number($0, digits: 1) } ?? "-",
                   Format.micros(h.percentile(50)), Format.micros(h.percentile(90)), Format.micros(h.percentile(95)),
                   Format.micros(h.percentile(99)), Format.micros(h.percentile(99.9)), Format.micros(h.max)])
        }
        for i in snap.perStat.indices { row(i < snap.names.count ? snap.names[i] : "#\(i)", snap.perStat[i], snap.qps(of: i)) }
        row("Aggregated", snap.total, snap.qps)
        return t.lines(indent: "  ")
    }

    /// Whether any row's raw p99 differs from its corrected p99 by more than 1%.
    static func rawDiffers(_ snap: Snapshot) -> Bool {
        (snap.perStat + [snap.total]).contains { s in
            switch (s.corrected.percentile(99), s.raw.percentile(99)) {
            case (nil, nil): return false
            case let (c?, r?): return Double(max(c, r) - min(c, r)) > 0.01 * Double(max(c, r))
            default: return true
            }
        }
    }
}
