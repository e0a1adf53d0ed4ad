import CicadaCore

/// A split run's step windows (``SplitStepWindow``: from one live weight shift to the next),
/// each judged alone: the summary's STEPS table, the JSON's `split.windows`, the Markdown
/// "Steps" table and one JUnit case per step.
extension SplitReport {
    /// Why a check was not judged: no data on a side, or fewer requests than the minimum.
    static func notJudged(_ c: SplitVerdict.Check) -> String {
        if c.value != nil, c.baselineValue != nil, !c.enoughData {
            return " (not judged: not enough data, \(c.baselineRequests) and \(c.requests) requests)"
        }
        return " (not judged)"
    }

    /// A check as the JSON's verdict carries it.
    static func checkJSON(_ c: SplitVerdict.Check) -> JSONOut {
        .object([
            ("member", .string(c.member)),
            ("bound", .string(c.bound.description)),
            ("figure", .string(c.bound.figure)),
            ("unit", .string(c.bound.figure == "error_rate" ? "ratio" : "ms")),
            ("baseline", .precise(c.baselineValue)),
            ("value", .precise(c.value)),
            ("limit", .precise(c.limit)),
            ("passed", c.passed.map { .bool($0) } ?? .null),
            ("baseline_requests", .integer(c.baselineRequests)),
            ("requests", .integer(c.requests)),
            ("enough_data", .bool(c.enoughData)),
        ])
    }

    /// A step's label: `step 2 (stable 75 / canary 25)`, numbered from 1.
    static func stepName(_ w: SplitStepWindow, split: SplitResult) -> String {
        let weights = zip(split.members, w.weights).map { "\($0.name) \($1)" }.joined(separator: " / ")
        return "step \(w.index + 1) (\(weights))" + (w.merged ? " and later steps" : "")
    }

    /// `0.0-12.3s`, `12.3s-end`.
    static func span(_ w: SplitStepWindow) -> String {
        Format.number(w.startSeconds, digits: 1) + "-" + (w.endSeconds.map { Format.number($0, digits: 1) + "s" } ?? "end")
    }

    /// A step's verdict in one word (plain) or a mark.
    static func stateText(_ s: SplitVerdict.State, plain: Bool) -> String {
        switch s {
        case .passed: return "PASS"
        case .failed: return "FAIL"
        case .notEnoughData: return "not enough data"
        case .noBounds: return "no bounds"
        }
    }

    static func errorRate(_ s: RequestStats?) -> String {
        guard let s, s.requests > 0 else { return "-" }
        return Format.number(Double(s.failures) * 100 / Double(s.requests), digits: 2) + "%"
    }

    /// One step window in the JSON's `split.windows`.
    static func windowJSON(_ w: SplitStepWindow, split: SplitResult) -> JSONOut {
        let members: [JSONOut] = split.members.indices.map { i in
            let s = i < w.stats.count ? w.stats[i] : nil
            return .object([
                ("name", .string(split.members[i].name)),
                ("weight", .integer(UInt64(max(0, i < w.weights.count ? w.weights[i] : 0)))),
                ("requests", .integer(s?.requests ?? 0)),
                ("failures", .integer(s?.failures ?? 0)),
                ("error_rate", .number(s.flatMap { $0.requests > 0 ? Double($0.failures) / Double($0.requests) : nil })),
                ("p50_ms", .millis(s?.corrected.percentile(50))),
                ("p99_ms", .millis(s?.corrected.percentile(99))),
            ])
        }
        return .object([
            ("step", .integer(UInt64(w.index + 1))),
            ("start_s", .number(w.startSeconds)),
            ("end_s", .number(w.endSeconds)),
            ("merged", .bool(w.merged)),
            ("members", .array(members)),
            ("verdict", .object([("passed", .bool(w.verdict.passed)), ("state", .string(w.verdict.state.rawValue)),
                                 ("checks", .array(w.verdict.checks.map(checkJSON)))])),
        ])
    }

    /// The summary's STEPS table and each step's checks; none when the run had a single step
    /// (its figures are the whole run's).
    static func stepLines(_ split: SplitResult, baseline: String, plain: Bool) -> [String] {
        guard split.windows.count > 1 else { return [] }
        var lines = ["STEPS (each step's requests judged alone; a check needs \(split.minRequests) requests on each side)"]
        var t = TextTable([.left, .left, .left, .right, .right, .right, .right, .right, .left])
        t.add(["Step", "Time (s)", "Target", "Weight", "Reqs", "p50", "p99", "Err%", "Verdict"])
        for w in split.windows {
            for (i, m) in split.members.enumerated() {
                let s = i < w.stats.count ? w.stats[i] : nil
                let first = i == 0
                t.add([first ? String(w.index + 1) + (w.merged ? "+" : "") : "", first ? span(w) : "", m.name,
                       String(i < w.weights.count ? w.weights[i] : 0), String(s?.requests ?? 0),
                       Format.micros(s?.corrected.percentile(50)), Format.micros(s?.corrected.percentile(99)), errorRate(s),
                       first ? stateText(w.verdict.state, plain: plain) : ""])
            }
        }
        lines += t.lines(indent: "  ")
        for w in split.windows where w.verdict.state == .failed || w.verdict.state == .passed {
            for c in w.verdict.checks { lines.append("  step \(w.index + 1): " + line(c, baseline: baseline, plain: plain)) }
        }
        return lines
    }

    /// The Markdown summary's "Steps" table; none for a single step.
    static func stepMarkdown(_ split: SplitResult, baseline: String, cell: (String) -> String) -> [String] {
        guard split.windows.count > 1 else { return [] }
        let heads = split.members.map { cell($0.name) + " reqs / p99 / err" }
        var lines = ["", "Steps (each judged alone; a check needs \(split.minRequests) requests on each side):", "",
                     "| Step | Time (s) | Weights | " + heads.joined(separator: " | ") + " | Verdict |",
                     "|--:|---|---|" + String(repeating: "--:|", count: heads.count) + "---|"]
        for w in split.windows {
            let figures = split.members.indices.map { i in
                let s = i < w.stats.count ? w.stats[i] : nil
                return "\(s?.requests ?? 0) / \(Format.micros(s?.corrected.percentile(99))) / \(errorRate(s))"
            }
            let weights = w.weights.map(String.init).joined(separator: "/")
            var verdict = stateText(w.verdict.state, plain: true)
            let failed = w.verdict.checks.filter { $0.passed == false }
            if !failed.isEmpty { verdict += ": " + failed.map { line($0, baseline: baseline, plain: true).split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }.joined(separator: "; ") }
            lines.append("| \(w.index + 1)\(w.merged ? "+" : "") | \(span(w)) | \(weights) | " + figures.joined(separator: " | ") + " | \(cell(verdict)) |")
        }
        return lines
    }

    /// One JUnit case for the whole run's verdict (it alone can fail the run when every step
    /// lacked data, or when a merge dropped the windows), then one per step window: failed
    /// with the failing checks' figures, or passing (named "not enough data" when no check
    /// could be judged). None without bounds.
    public static func junitCases(_ result: RunResult) -> [(name: String, failure: (message: String, detail: String)?)] {
        guard let split = result.split, !split.verdict.checks.isEmpty else { return [] }
        let baseline = split.members.first(where: \.baseline)?.name ?? "baseline"
        let wholeFailed = split.verdict.checks.filter { $0.passed == false }
        let whole: (name: String, failure: (message: String, detail: String)?) = (
            "canary verdict, whole run",
            wholeFailed.isEmpty ? nil : (wholeFailed.map { line($0, baseline: baseline, plain: true) }.joined(separator: "; "),
                                         "whole run: " + split.verdict.checks.map { line($0, baseline: baseline, plain: true) }.joined(separator: "\n")))
        return [whole] + split.windows.map { w in
            let name = "canary verdict, " + stepName(w, split: split) + (w.verdict.state == .notEnoughData ? ": not enough data" : "")
            let failed = w.verdict.checks.filter { $0.passed == false }
            guard !failed.isEmpty else { return (name, nil) }
            let lines = failed.map { line($0, baseline: baseline, plain: true) }
            return (name, (lines.joined(separator: "; "),
                           "\(stepName(w, split: split)), \(span(w)) s: " + w.verdict.checks.map { line($0, baseline: baseline, plain: true) }.joined(separator: "\n")))
        }
    }
}
