import CicadaCore

/// The key help overlay.
extension DashboardRenderer.Drawer {
    // MARK: Help

    static let helpLines: [(String, String)] = [
        ("q", "quit (stop the run and write the reports)"),
        ("space", "pause / resume the load"),
        ("w / W", "add 1 / 10 users (closed model)"),
        ("s / S", "remove 1 / 10 users (closed model)"),
        ("+ / -", "raise / lower the arrival rate (open model)"),
        ("e", "load on the embedded engine / back on the target"),
        ("b", "next batching preset (engine)"),
        ("[ / ]", "shorter / longer max queue delay"),
        ("{ / }", "smaller / larger max batch size"),
        ("tab", "focus the next variant (compare: b [ ] { } act on it)"),
        ("t", "chart window: 10s, 60s, 300s"),
        ("r", "reset the statistics"),
        ("c / C", "promote / roll back the split's canary a step"),
        ("?", "show / hide this help"),
    ]

    func help(_ f: inout Frame) {
        let keyW = 8
        let innerW = min(f.width - 4, (Self.helpLines.map { $0.1.count }.max() ?? 0) + keyW + 2)
        let boxW = innerW + 2, boxH = min(f.height - 2, Self.helpLines.count + 4)
        let bx = (f.width - boxW) / 2, by = (f.height - boxH) / 2
        let edge = style(.cyan, bold: true)
        f.fill(x: bx, y: by, width: boxW, height: boxH)
        let (tl, tr, bl, br): (Character, Character, Character, Character) = u ? ("┌", "┐", "└", "┘") : ("+", "+", "+", "+")
        f.fill(x: bx + 1, y: by, width: boxW - 2, height: 1, with: Cell(hline, style: edge))
        f.fill(x: bx + 1, y: by + boxH - 1, width: boxW - 2, height: 1, with: Cell(hline, style: edge))
        f.fill(x: bx, y: by + 1, width: 1, height: boxH - 2, with: Cell(vline, style: edge))
        f.fill(x: bx + boxW - 1, y: by + 1, width: 1, height: boxH - 2, with: Cell(vline, style: edge))
        f[bx, by] = Cell(tl, style: edge); f[bx + boxW - 1, by] = Cell(tr, style: edge)
        f[bx, by + boxH - 1] = Cell(bl, style: edge); f[bx + boxW - 1, by + boxH - 1] = Cell(br, style: edge)
        f.put(" Keys ", x: bx + 2, y: by, style: edge)
        for (i, (key, what)) in Self.helpLines.enumerated() where i + 2 < boxH - 1 {
            let y = by + 2 + i
            f.put(key, x: bx + 2, y: y, style: style(.cyan, bold: true), maxWidth: keyW)
            f.put(what, x: bx + 2 + keyW, y: y, maxWidth: innerW - keyW - 1)
        }
        let close = " ? closes "
        f.put(close, x: bx + boxW - close.count - 2, y: by + boxH - 1, style: style(dim: true))
    }
}
