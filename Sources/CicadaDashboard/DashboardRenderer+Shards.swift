import CicadaCore

/// The shard table of `cicada dash --shards`.
extension DashboardRenderer.Drawer {
    /// One row per shard: index, state, its window's req/s and p99, its arrival-rate multiplier
    /// (when the shards run the open model), the answer to the last load key, and its URL.
    func shardTable(_ f: inout Frame, _ r: Rect) {
        guard r.h >= 2 else { return }
        let up = m.shards.filter(\.healthy).count
        title(&f, r, "Shards", [("(\(up) of \(m.shards.count) answering; keys go to every shard)", style(dim: true))])
        let rates = m.shards.contains { $0.rateScale != nil }
        let widths = rates ? [7, 12, 10, 10, 9] : [7, 12, 10, 10]
        let ackW = max(0, Swift.min(40, (r.w - widths.reduce(0, +) - 2) / 2))
        func row(_ y: Int, _ cells: [String], _ ack: String, _ url: String, _ st: Style, stateStyle: Style? = nil, ackStyle: Style? = nil) {
            var x = r.x + 1
            for (i, w) in widths.enumerated() {
                let t = cells[i]
                let right = i >= 2
                f.put(t, x: right ? x + w - t.count - 1 : x, y: y, style: i == 1 ? (stateStyle ?? st) : st, maxWidth: w - 1)
                x += w
            }
            if ackW >= 6 {
                f.put(ack, x: x + 1, y: y, style: ackStyle ?? st, maxWidth: ackW - 1)
                x += ackW
            }
            if r.maxX - x >= 8 { f.put(url, x: x + 1, y: y, style: style(dim: true), maxWidth: r.maxX - x - 1) }
        }
        row(r.y + 1, ["Shard", "State", "Req/s", "p99"] + (rates ? ["Rate"] : []), "Last key", "URL", style(bold: true))
        let room = r.h - 2
        for (i, s) in m.shards.enumerated() where i < room {
            let failed = s.ack.map { !$0.hasPrefix("ok") } ?? false
            let rate = rates ? [s.rateScale.map { "x" + Format.number($0, digits: 3) } ?? "-"] : []
            row(r.y + 2 + i, [String(s.index), s.state, s.qps.map { Format.number($0, digits: 1) } ?? "-", Self.short(s.p99Micros)] + rate,
                s.ack ?? "-", s.url, .plain, stateStyle: s.healthy ? nil : style(.red, bold: true), ackStyle: failed ? style(.red) : nil)
        }
    }
}
