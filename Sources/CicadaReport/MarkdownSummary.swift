import CicadaCore

/// A short Markdown summary of a run for CI job pages (e.g. `$GITHUB_STEP_SUMMARY`).
///
/// A reviewer sees at a glance whether the run passed (the heading's ✅/❌), which thresholds
/// held, and each request name's throughput and tail latency, without opening a log. The run
/// passes when every threshold held and it ran to completion. Latencies are the
/// coordinated-omission-corrected ones; absent values show as `-`.
public enum MarkdownSummary {
    /// The summary as text, ending with a newline.
    public static func render(_ result: RunResult) -> String {
        var s = ""
        write(result, to: &s)
        return s
    }

    /// Writes the summary to `out`.
    public static func write(_ result: RunResult, to out: inout some TextOutputStream) {
        let snap = result.snapshot
        let ok = result.passed && result.stopReason == .completed
        var lines: [String] = []
        lines.append("## \(ok ? "✅" : "❌") cicada: \(cell(result.scenarioName)) \(ok ? "passed" : "failed")")
        lines.append("")
        lines.append("`\(code(result.target))` · \(cell(result.modelDescription)) · \(Format.number(snap.measuredSeconds, digits: 1))s · \(ReportText.human(result.stopReason))")
        lines.append("")
        if result.thresholds.isEmpty {
            lines.append("No thresholds.")
        } else {
            lines.append("| | Threshold | Measured |")
            lines.append("|---|---|---|")
            for t in result.thresholds {
                lines.append("| \(t.passed ? "✅" : "❌") | `\(code(t.threshold.spec.expression))` | \(cell(t.measuredText)) |")
            }
        }
        lines.append("")
        if !result.diagnoses.isEmpty {
            lines.append("**Diagnoses**")
            lines.append("")
            for d in result.diagnoses {
                lines.append("- \(d.severity == .critical ? "❌" : "⚠️") **\(cell(d.rule))**: \(cell(d.symptom)). Evidence: \(cell(d.evidence.joined(separator: "; "))). Fix: \(cell(d.action))")
            }
            lines.append("")
        }
        lines.append("| Name | Requests | Failures | Req/s | p50 | p95 | p99 | Max |")
        lines.append("|---|--:|--:|--:|--:|--:|--:|--:|")
        func row(_ name: String, _ s: RequestStats, _ qps: Double?) {
            let h = s.corrected
            let cells = [name, String(s.requests), String(s.failures), qps.map { Format.number($0, digits: 1) } ?? "-",
                         Format.micros(h.percentile(50)), Format.micros(h.percentile(95)), Format.micros(h.percentile(99)), Format.micros(h.max)]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        for i in snap.perStat.indices { row(cell(i < snap.names.count ? snap.names[i] : "#\(i)"), snap.perStat[i], snap.qps(of: i)) }
        row("**Aggregated**", snap.total, snap.qps)
        for (turns, title) in [(true, "Per conversation turn"), (false, "Per model")] {
            let rows = BreakdownReport.rows(snap, turns: turns)
            if rows.isEmpty { continue }
            lines.append("")
            lines.append("**\(title)**")
            lines.append("")
            lines.append("| \(turns ? "Turn" : "Model") | Requests | Failures | p50 | p99 | TTFT p50 | TTFT p99 |")
            lines.append("|---|--:|--:|--:|--:|--:|--:|")
            for r in rows {
                let s = r.stats
                let cells = [cell(r.label), String(s?.requests ?? 0), String(s?.failures ?? 0),
                             Format.micros(s?.corrected.percentile(50)), Format.micros(s?.corrected.percentile(99)),
                             Format.micros(s?.llm?.ttft.percentile(50)), Format.micros(s?.llm?.ttft.percentile(99))]
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
        }
        lines += SplitReport.markdown(result, cell: cell)
        lines += ConfidenceReport.markdown(result)
        for l in lines { out.write(l); out.write("\n") }
    }

    /// `s` safe inside a table cell: one line, pipes and Markdown/HTML specials escaped.
    static func cell(_ s: String) -> String {
        var out = ""
        for c in ReportText.oneLine(s, limit: 200).unicodeScalars {
            switch c {
            case "|", "\\", "*", "_", "`", "[", "]", "<", ">", "#": out += "\\"; out.unicodeScalars.append(c)
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `s` safe inside a code span in a table: one line, pipes escaped, backticks replaced.
    static func code(_ s: String) -> String {
        var out = ""
        for c in ReportText.oneLine(s, limit: 200).unicodeScalars {
            switch c {
            case "|": out += "\\|"
            case "`": out += "'"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
