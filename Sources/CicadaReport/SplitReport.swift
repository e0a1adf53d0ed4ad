import CicadaCore

/// A `split:` run's figures per target and its canary verdict (``SplitResult``): the summary's
/// SPLIT table, the JSON report's `split` object and the Markdown summary's section. Absent
/// (no text, `null`) for a run without a split; a member that got no request shows zero
/// requests and absent latencies, a bound with no data says so.
public enum SplitReport {
    /// The figure of a check, as text in its unit (ms, or a percentage for `error_rate`).
    static func value(_ v: Double?, figure: String) -> String {
        guard let v else { return "no data" }
        return figure == "error_rate" ? Format.number(v * 100, digits: 2) + "%" : Format.millis(v)
    }

    /// `✓ canary p(99)=+10%: 12.30ms vs stable 11.80ms (limit 12.98ms)`.
    static func line(_ c: SplitVerdict.Check, baseline: String, plain: Bool) -> String {
        let mark: String
        switch c.passed {
        case true?: mark = plain ? "PASS" : "✓"
        case false?: mark = plain ? "FAIL" : "✗"
        case nil: mark = plain ? "NONE" : "-"
        }
        let f = c.bound.figure
        return "\(mark) \(c.member) \(c.bound.description): \(value(c.value, figure: f)) vs \(baseline) \(value(c.baselineValue, figure: f))"
            + (c.limit.map { " (limit \(value($0, figure: f)))" } ?? "") + (c.passed == nil ? notJudged(c) : "")
    }

    static func share(_ s: RequestStats?, of total: UInt64) -> String {
        guard total > 0 else { return "-" }
        return Format.number(Double(s?.requests ?? 0) * 100 / Double(total), digits: 1) + "%"
    }

    static func weightText(_ m: SplitResult.Member) -> String {
        // A c/C step sets weights in percent (the steps' unit), whatever the written weights' scale.
        m.finalWeight == m.weight ? String(m.weight) : "\(m.weight) -> \(m.finalWeight)%"
    }

    /// The summary's SPLIT table and CANARY VERDICT lines, or nil without a split.
    public static func text(_ result: RunResult, plain: Bool = false) -> String? {
        guard let split = result.split else { return nil }
        let total = split.members.reduce(UInt64(0)) { $0.addingSaturating($1.stats?.requests ?? 0) }
        var lines = ["SPLIT (each request's target chosen from the seed; weights as written -> at the end)"]
        var t = TextTable([.left, .left, .right, .right, .right, .right, .right, .right, .right])
        t.add(["Target", "Role", "Weight", "Reqs", "Share", "Fails", "p50", "p99", "Err%"])
        for m in split.members {
            let s = m.stats
            let err = s.map { $0.requests > 0 ? Format.number(Double($0.failures) * 100 / Double($0.requests), digits: 2) + "%" : "-" } ?? "-"
            t.add([m.name, m.baseline ? "baseline" : "canary", weightText(m), String(s?.requests ?? 0), share(s, of: total),
                   String(s?.failures ?? 0), Format.micros(s?.corrected.percentile(50)), Format.micros(s?.corrected.percentile(99)), err])
        }
        lines += t.lines(indent: "  ")
        for m in split.members { lines.append("  \(m.name): \(m.engineSummary ?? m.target)") }
        let baseline = split.members.first(where: \.baseline)?.name ?? "baseline"
        if split.verdict.checks.isEmpty {
            lines.append("CANARY VERDICT: no bounds (split.verdict) set")
        } else {
            lines.append("CANARY VERDICT: \(split.passed ? "PASSED" : "FAILED") (against \(baseline))")
            if !split.windows.isEmpty { lines.append("  whole run:") }
            for c in split.verdict.checks { lines.append("  " + line(c, baseline: baseline, plain: plain)) }
        }
        lines += stepLines(split, baseline: baseline, plain: plain)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON report's `split` object, or null without a split.
    static func json(_ result: RunResult) -> JSONOut {
        guard let split = result.split else { return .null }
        let total = split.members.reduce(UInt64(0)) { $0.addingSaturating($1.stats?.requests ?? 0) }
        let members: [JSONOut] = split.members.map { m in
            let s = m.stats
            return .object([
                ("name", .string(m.name)),
                ("target", .string(m.target)),
                ("engine", .string(m.engineSummary)),
                ("baseline", .bool(m.baseline)),
                ("weight", .integer(UInt64(m.weight))),
                ("final_weight", .integer(UInt64(max(0, m.finalWeight)))),
                ("requests", .integer(s?.requests ?? 0)),
                ("failures", .integer(s?.failures ?? 0)),
                ("share", total > 0 ? .number(Double(s?.requests ?? 0) / Double(total)) : .null),
                ("error_rate", .number(s.flatMap { $0.requests > 0 ? Double($0.failures) / Double($0.requests) : nil })),
                ("p50_ms", .millis(s?.corrected.percentile(50))),
                ("p95_ms", .millis(s?.corrected.percentile(95))),
                ("p99_ms", .millis(s?.corrected.percentile(99))),
                ("mean_ms", .number(s?.corrected.meanMicros.map { $0 / 1000 })),
            ])
        }
        let checks: [JSONOut] = split.verdict.checks.map(checkJSON)
        return .object([
            ("method", .string("weyl")),
            ("members", .array(members)),
            ("steps", .array(split.steps.map { .integer(UInt64($0)) })),
            ("verdict", .object([("passed", .bool(split.verdict.passed)), ("checks", .array(checks))])),
            ("min_requests", .integer(UInt64(max(0, split.minRequests)))),
            ("windows", .array(split.windows.map { windowJSON($0, split: split) })),
            ("passed", .bool(split.passed)),
        ])
    }

    /// The Markdown summary's "Split" section lines, or none without a split.
    static func markdown(_ result: RunResult, cell: (String) -> String) -> [String] {
        guard let split = result.split else { return [] }
        let total = split.members.reduce(UInt64(0)) { $0.addingSaturating($1.stats?.requests ?? 0) }
        var lines = ["", "**Split (canary)**", "", "| Target | Role | Weight | Requests | Share | Failures | p50 | p99 |", "|---|---|--:|--:|--:|--:|--:|--:|"]
        for m in split.members {
            let s = m.stats
            let cells = [cell(m.name), m.baseline ? "baseline" : "canary", weightText(m), String(s?.requests ?? 0), share(s, of: total),
                         String(s?.failures ?? 0), Format.micros(s?.corrected.percentile(50)), Format.micros(s?.corrected.percentile(99))]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        let baseline = split.members.first(where: \.baseline)?.name ?? "baseline"
        if !split.verdict.checks.isEmpty {
            lines.append("")
            lines.append("Canary verdict: **\(split.passed ? "passed" : "FAILED")**")
            lines.append("")
            for c in split.verdict.checks {
                let mark = c.passed == nil ? "➖" : (c.passed! ? "✅" : "❌")
                lines.append("- \(mark) " + cell(line(c, baseline: baseline, plain: true).split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""))
            }
        }
        lines += stepMarkdown(split, baseline: baseline, cell: cell)
        return lines
    }
}
