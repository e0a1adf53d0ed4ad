import CicadaCore

/// The requests table and the comparison table.
extension DashboardRenderer.Drawer {
    // MARK: Requests table

    var tableHeight: Int { 3 + s.names.count }

    func requests(_ f: inout Frame, _ r: Rect) {
        guard r.h >= 3 else { return }
        let win = window
        var requestsExtra: [(String, Style)] = []
        if m.variants.indices.contains(m.focusedVariant) { requestsExtra.append((m.variants[m.focusedVariant].name, style(.yellow, bold: true))) }
        requestsExtra.append(("(Req/s over the last \(win?.seconds ?? s.defaultWindowSeconds)s)", style(dim: true)))
        title(&f, r, "Requests", requestsExtra)
        let fixed = [8, 8, 8, 10, 10, 10, 10]
        let nameW = max(8, r.w - fixed.reduce(0, +) - 1)
        func row(_ y: Int, _ cols: [String], _ st: Style, failStyle: Style? = nil) {
            f.put(cols[0], x: r.x + 1, y: y, style: st, maxWidth: nameW - 1)
            var x = r.x + 1 + nameW
            for (i, w) in fixed.enumerated() {
                let t = cols[i + 1]
                f.put(t, x: x + w - t.count, y: y, style: i == 1 ? (failStyle ?? st) : st, maxWidth: r.maxX - (x + w - t.count))
                x += w
            }
        }
        row(r.y + 1, ["Name", "Reqs", "Fails", "Req/s", "p50", "p95", "p99", "Max"], style(bold: true))
        func cells(_ name: String, _ st: RequestStats, _ qps: Double?) -> [String] {
            let h = st.corrected
            return [name, String(st.requests), String(st.failures), qps.map { Format.number($0, digits: 1) } ?? "-",
                    Format.micros(h.percentile(50)), Format.micros(h.percentile(95)), Format.micros(h.percentile(99)), Format.micros(h.max)]
        }
        func windowQPS(_ i: Int?) -> Double? {
            guard let w = win?.stats, w.span > .zero else { return nil }
            let n = i.map { $0 < w.perStat.count ? w.perStat[$0].requests : 0 } ?? w.total.requests
            return Double(n) / w.span.seconds
        }
        let room = r.h - 3
        var shown = min(s.names.count, room)
        if shown < s.names.count { shown = max(0, room - 1) }
        var y = r.y + 2
        for i in 0..<shown {
            let method = i < s.methods.count ? s.methods[i] + " " : ""
            let st = s.perStat[i]
            row(y, cells(method + s.names[i], st, windowQPS(i)), .plain, failStyle: st.failures > 0 ? style(.red) : nil)
            y += 1
        }
        if shown < s.names.count {
            f.put("… \(s.names.count - shown) more".replacingEllipsis(u), x: r.x + 1, y: y, style: style(dim: true))
            y += 1
        }
        row(y, cells("Aggregated", s.total, windowQPS(nil)), style(bold: true), failStyle: s.total.failures > 0 ? style(.red, bold: true) : nil)
    }

    // MARK: Comparison

    /// The variants side by side: window figures, modelled engine figures, and the change
    /// of p99 and req/s from the baseline; the focused variant is marked and bold.
    func compare(_ f: inout Frame, _ r: Rect) {
        guard r.h >= 2 else { return }
        let base = m.variants.first { $0.isBaseline } ?? m.variants[0]
        title(&f, r, "Compare", [("(last \(window?.seconds ?? m.windowSeconds)s; Δ vs \(base.name); * modelled)".replacingDelta(u), style(dim: true)), ("tab: focus", style(.cyan))])
        let cols = ["Req/s", "p50", "p99", "Err", "Batch*", "Mem*", "ΔReq/s", "Δp99"].map { $0.replacingDelta(u) }
        let widths = [9, 9, 9, 7, 8, 6, 9, 9]
        let fixed = widths.reduce(0, +)
        let configW = max(0, r.w - fixed - 18 - 2)
        let nameW = 16
        func row(_ y: Int, _ name: String, _ config: String, _ cells: [String], _ st: Style, marker: String = "  ") {
            var x = f.put(marker, x: r.x, y: y, style: style(.yellow, bold: true))
            f.put(name, x: x, y: y, style: st, maxWidth: nameW)
            x += nameW
            var cx = x
            for (i, w) in widths.enumerated() {
                let t = cells[i]
                f.put(t, x: cx + w - t.count, y: y, style: st, maxWidth: r.maxX - (cx + w - t.count))
                cx += w
            }
            if configW >= 8 { f.put("  " + config, x: cx, y: y, style: style(dim: true), maxWidth: r.maxX - cx) }
        }
        row(r.y + 1, "Variant", configW >= 8 ? "Configuration" : "", cols, style(bold: true))
        func change(_ v: Double?, _ b: Double?) -> String { Format.change(Format.relativeChange(v, from: b), times: u ? "×" : "x") }
        for (i, v) in m.variants.enumerated() where r.y + 2 + i < r.y + r.h {
            let focused = i == m.focusedVariant
            var cells: [String] = []
            cells.append(v.qps.map { Format.number($0, digits: 1) } ?? "-")
            cells.append(Self.short(v.p50))
            cells.append(Self.short(v.p99))
            cells.append(v.errorRate.map { Format.number($0 * 100, digits: 1) + "%" } ?? "-")
            cells.append(v.averageBatchSize.map { Format.number($0, digits: 1) } ?? "-")
            cells.append(v.memoryFraction.map { Format.number($0 * 100, digits: 0) + "%" } ?? "-")
            let p99: Double? = v.p99.map { Double($0) }, baseP99: Double? = base.p99.map { Double($0) }
            cells.append(v.isBaseline ? "base" : change(v.qps, base.qps))
            cells.append(v.isBaseline ? "base" : change(p99, baseP99))
            let k = i % Self.variantColors.count
            row(r.y + 2 + i, (u ? "" : String(Self.variantGlyphs[k]) + " ") + v.name, v.config, cells,
                style(Self.variantColors[k], bold: focused), marker: focused ? (u ? "▶ " : "> ") : "  ")
        }
    }
}
