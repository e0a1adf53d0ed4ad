import CicadaCore

/// Figures per conversation turn and per model (``Breakdown``): a table in the summary and the
/// JSON report's `breakdown` object. Absent (no table, `null`) when the scenario has neither
/// conversations nor a weighted model list; a group with no request yet shows zero requests and
/// absent latencies, never zeros.
public enum BreakdownReport {
    /// The groups of one kind, with their stats (nil when none was recorded).
    static func rows(_ snap: Snapshot, turns: Bool) -> [(label: String, stats: RequestStats?)] {
        snap.groupKeys.indices.compactMap { i in
            let s: RequestStats? = i < snap.groups.count ? snap.groups[i] : nil
            switch snap.groupKeys[i] {
            case .turn(let t): return turns ? ("turn \(t)", s) : nil
            case .model(let m): return turns ? nil : (m, s)
            case .target: return nil   // a split's members: SplitReport
            }
        }
    }

    /// The summary's tables (PER TURN, PER MODEL), or nil when the run has no groups.
    public static func text(_ result: RunResult) -> String? {
        let snap = result.snapshot
        guard !snap.groupKeys.isEmpty else { return nil }
        var lines: [String] = []
        for (turns, title) in [(true, "PER TURN (conversation turn: the history grows each turn)"), (false, "PER MODEL")] {
            let rows = rows(snap, turns: turns)
            if rows.isEmpty { continue }
            if !lines.isEmpty { lines.append("") }
            lines.append(title)
            var t = TextTable([.left, .right, .right, .right, .right, .right, .right])
            t.add([turns ? "Turn" : "Model", "Reqs", "Fails", "p50", "p99", "TTFT p50", "TTFT p99"])
            for r in rows {
                let s = r.stats
                t.add([r.label, String(s?.requests ?? 0), String(s?.failures ?? 0),
                       Format.micros(s?.corrected.percentile(50)), Format.micros(s?.corrected.percentile(99)),
                       Format.micros(s?.llm?.ttft.percentile(50)), Format.micros(s?.llm?.ttft.percentile(99))])
            }
            lines += t.lines(indent: "  ")
        }
        if lines.isEmpty { return nil }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"turns": [...], "models": [...]}`, or null when the run has no groups.
    static func json(_ result: RunResult) -> JSONOut {
        let snap = result.snapshot
        guard !snap.groupKeys.isEmpty else { return .null }
        func item(_ key: (String, JSONOut), _ s: RequestStats?) -> JSONOut {
            let l = s?.llm
            return .object([
                key,
                ("requests", .integer(s?.requests ?? 0)),
                ("failures", .integer(s?.failures ?? 0)),
                ("p50_ms", .millis(s?.corrected.percentile(50))),
                ("p99_ms", .millis(s?.corrected.percentile(99))),
                ("mean_ms", .number(s?.corrected.meanMicros.map { $0 / 1000 })),
                ("median_ttft_ms", .millis(l?.ttft.percentile(50))),
                ("p99_ttft_ms", .millis(l?.ttft.percentile(99))),
                ("mean_ttft_ms", .number(l?.ttft.meanMicros.map { $0 / 1000 })),
                ("output_tokens", l.map { .integer($0.outputTokens) } ?? .null),
            ])
        }
        var turns: [JSONOut] = [], models: [JSONOut] = []
        for i in snap.groupKeys.indices {
            let s: RequestStats? = i < snap.groups.count ? snap.groups[i] : nil
            switch snap.groupKeys[i] {
            case .turn(let t): turns.append(item(("turn", .integer(UInt64(t))), s))
            case .model(let m): models.append(item(("model", .string(m)), s))
            case .target: continue   // a split's members: SplitReport's `split`
            }
        }
        if turns.isEmpty && models.isEmpty { return .null }
        return .object([("turns", .array(turns)), ("models", .array(models))])
    }
}
