import CicadaCore

/// The split panel of a canary roll-out (``SplitPanel``).
extension DashboardRenderer.Drawer {
    /// A check in a few words: `canary p(99) 41.2ms, limit 44.1ms`.
    static func splitCheck(_ c: SplitVerdict.Check) -> String {
        func v(_ x: Double?) -> String {
            guard let x else { return "-" }
            return c.bound.figure == "error_rate" ? Format.number(x * 100, digits: 2) + "%" : Format.millis(x)
        }
        return "\(c.member) \(c.bound.figure) \(v(c.value)), limit \(v(c.limit))"
    }

    /// The step's verdict as the panel's last row says it, with its style.
    func splitVerdictText(_ p: SplitPanel) -> (String, Style) {
        var text = "Verdict, step \(p.step): "
        var st = Style.plain
        switch p.verdict.state {
        case .failed:
            text += "FAIL " + p.verdict.checks.filter { $0.passed == false }.map(Self.splitCheck).joined(separator: "; ")
            st = style(.red, bold: true)
        case .passed:
            text += "PASS " + p.verdict.checks.filter { $0.passed == true }.map(Self.splitCheck).joined(separator: "; ")
            st = style(.green, bold: true)
        case .notEnoughData:
            let counts = p.rows.map { "\($0.name) \($0.stepRequests)" }.joined(separator: ", ")
            text += "not enough data (\(counts); \(p.minRequests) a side)"
            st = style(.yellow)
        case .noBounds:
            text += "no bounds (split.verdict) set"
            st = style(dim: true)
        }
        if !p.failedSteps.isEmpty {
            text = "step " + p.failedSteps.map(String.init).joined(separator: ",") + " FAILED. " + text
            st = style(.red, bold: true)
        }
        return (text, st)
    }

    /// One row per target (weight now, whole-run requests, recent req/s, this step's p50, p99
    /// and error rate) and the step's verdict on the last row.
    func splitTable(_ f: inout Frame, _ r: Rect) {
        guard let p = m.split, r.h >= 3 else { return }
        title(&f, r, "Split", [("step \(p.step) since \(Self.clock(p.stepStartSeconds))", .plain),
                               ("(p50, p99, err: this step; req/s: last \(Int(SplitPanel.recentSeconds))s)", style(dim: true))])
        let widths = [14, 9, 7, 9, 8, 9, 9, 8]
        func row(_ y: Int, _ cells: [String], _ st: Style) {
            var x = r.x + 1
            for (i, w) in widths.enumerated() where x + w <= r.maxX {
                let t = cells[i]
                let right = i >= 2
                f.put(t, x: right ? x + w - t.count - 1 : x, y: y, style: st, maxWidth: w - 1)
                x += w
            }
        }
        row(r.y + 1, ["Target", "Role", "Weight", "Reqs", "Req/s", "p50", "p99", "Err%"], style(bold: true))
        let room = r.h - 3
        for (i, line) in p.rows.enumerated() where i < room {
            row(r.y + 2 + i, [line.name, line.baseline ? "baseline" : "canary", String(line.weight), String(line.requests),
                              line.qps.map { Format.number($0, digits: 1) } ?? "-", Self.short(line.p50Micros), Self.short(line.p99Micros),
                              line.errorRate.map { Format.number($0 * 100, digits: 1) + "%" } ?? "-"], .plain)
        }
        let (text, st) = splitVerdictText(p)
        f.put(" " + text, x: r.x, y: r.y + r.h - 1, style: st, maxWidth: r.w)
    }
}
