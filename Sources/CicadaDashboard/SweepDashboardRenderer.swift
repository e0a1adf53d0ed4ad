import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// Turns a ``SweepDashboardModel`` into a ``Frame``: the live sweep as a pure function.
///
/// Layout: a header bar (the scenario, what is swept), a progress row (point i of n, the
/// configuration and level, warm-up or measuring, the most time left), a footer of keys and,
/// when there is one, a message row above it. The body's left half is the curve: p99 (log
/// scale) against achieved req/s (or output tok/s: the `x` key), one letter per configuration (lower case: a point cut short
/// with `n` or `q`; `!`: out of memory), the Pareto front joined by dots, the p99 objective as
/// a dashed line, and `+` where the current point stands now; under it the legend and the
/// front. The right half is the current point's live figures, drawn by the run dashboard's own
/// panels (latency and throughput charts, engine, status codes and errors, diagnoses). Below
/// 80x24 only a "terminal too small" notice is drawn.
public struct SweepDashboardRenderer: Sendable {
    /// A renderer; it holds no state.
    public init() {}

    /// Draws `m` into a frame of `width` x `height` cells.
    public func render(_ m: SweepDashboardModel, width: Int, height: Int) -> Frame {
        var f = Frame(width: width, height: height)
        let st = Styler(color: m.color)
        guard width >= DashboardRenderer.minimumWidth, height >= DashboardRenderer.minimumHeight else {
            var y = 0
            let lines = ["terminal too small: \(width)x\(height), need \(DashboardRenderer.minimumWidth)x\(DashboardRenderer.minimumHeight)",
                         progressText(m), "n skips the point, q stops the sweep"]
            for line in lines {
                for part in DashboardRenderer.wrap(line, width: width) where y < height { f.put(part, x: 0, y: y); y += 1 }
            }
            return f
        }
        header(&f, m, st)
        footer(&f, m, st, y: height - 1)
        var bottom = height - 1
        if let msg = m.message {
            bottom -= 1
            f.put((m.unicode ? "» " : "> ") + msg, x: 0, y: bottom, style: st.style(.yellow, bold: true))
        }
        let body = (y: 2, h: bottom - 2)
        let leftW = width / 2
        curve(&f, m, st, x: 0, y: body.y, w: leftW, h: body.h)
        let rx = leftW + 1, rw = width - leftW - 1
        if let live = m.live {
            let d = DashboardRenderer.Drawer(m: live)
            let chartsH = max(7, body.h * 11 / 20)
            d.charts(&f, DashboardRenderer.Rect(x: rx, y: body.y, w: rw, h: chartsH))
            d.sidePanels(&f, DashboardRenderer.Rect(x: rx, y: body.y + chartsH, w: rw, h: body.h - chartsH))
        } else {
            let text = m.progress == nil ? "starting the first point" : "waiting for the point's first figures"
            f.put(text, x: rx + 1, y: body.y + 1, style: st.style(dim: true), maxWidth: rw - 1)
        }
        if m.showHelp { help(&f, m, st) }
        return f
    }

    // MARK: Header, progress, footer

    /// "point 3 of 8: seed @ 40/s  measuring 4s of 6s  ≤ 1m12s left", or what the sweep waits for.
    func progressText(_ m: SweepDashboardModel) -> String {
        guard let p = m.progress else { return "starting" }
        var s = "point \(p.index) of \(p.total): \(p.configuration) @ \(p.levelText)"
        if let now = m.now {
            let done = DashboardRenderer.Drawer.clock(p.phaseElapsed(at: now).seconds)
            let of = DashboardRenderer.Drawer.clock(p.phaseDuration.seconds)
            s += "  " + (p.phase == .warmup ? "warm-up" : "measuring") + " \(done) of \(of)"
            s += "  " + (m.unicode ? "≤ " : "<= ") + DashboardRenderer.Drawer.clock(p.timeLeft(at: now).seconds) + " left"
        }
        return s
    }

    func header(_ f: inout Frame, _ m: SweepDashboardModel, _ st: Styler) {
        let bar = st.style(bold: true, reverse: true)
        f.fill(x: 0, y: 0, width: f.width, height: 1, with: Cell(" ", style: bar))
        let measured = " \(m.points.count) measured "
        let rightX = f.width - measured.count
        var x = f.put(" cicada sweep  ", x: 0, y: 0, style: bar, maxWidth: rightX)
        x = f.put(m.scenarioName, x: x, y: 0, style: bar, maxWidth: rightX - x)
        x = f.put(m.unicode ? "  ▸ " : "  > ", x: x, y: 0, style: bar, maxWidth: rightX - x)
        f.put(m.targetDescription, x: x, y: 0, style: bar, maxWidth: rightX - 1 - x)
        f.put(measured, x: rightX, y: 0, style: bar)
        let hx = f.put(progressText(m), x: 1, y: 1, style: st.style(bold: true))
        if m.stopping {
            f.put("  STOPPING", x: hx, y: 1, style: st.style(.yellow, bold: true))
        } else if m.skipping {
            f.put("  SKIPPING", x: hx, y: 1, style: st.style(.yellow, bold: true))
        }
    }

    func footer(_ f: inout Frame, _ m: SweepDashboardModel, _ st: Styler, y: Int) {
        var x = 0
        for (i, (key, what)) in [("n", "skip point"), ("q", "stop sweep"), ("x", "req/s or tok/s"), ("t", "window"), ("?", "help")].enumerated() {
            if i > 0 { x += 2 }
            x = f.put(key, x: x, y: y, style: st.style(.cyan, bold: true))
            x = f.put(" " + what, x: x, y: y)
        }
    }

    func help(_ f: inout Frame, _ m: SweepDashboardModel, _ st: Styler) {
        let lines = [("n", "skip this point (its partial measurement is kept, labelled skipped)"),
                     ("q", "stop the sweep: analyse and report what was measured"),
                     ("x", "curve against req/s or output tok/s (LLM streams)"),
                     ("t", "live chart window: 10s, 60s, 300s"), ("?", "show / hide this help")]
        let w = min(f.width - 4, 74), h = lines.count + 4
        let bx = (f.width - w) / 2, by = (f.height - h) / 2
        let edge = st.style(.cyan, bold: true)
        f.fill(x: bx, y: by, width: w, height: h)
        f.fill(x: bx, y: by, width: w, height: 1, with: Cell(m.unicode ? "─" : "-", style: edge))
        f.fill(x: bx, y: by + h - 1, width: w, height: 1, with: Cell(m.unicode ? "─" : "-", style: edge))
        f.put(" Keys ", x: bx + 2, y: by, style: edge)
        for (i, (key, what)) in lines.enumerated() {
            f.put(key, x: bx + 2, y: by + 2 + i, style: edge)
            f.put(what, x: bx + 6, y: by + 2 + i, maxWidth: w - 7)
        }
    }

    // MARK: The curve

    /// The letter of configuration `name`: A, B, ... in grid order (a name not in the grid
    /// gets the next free letter after them).
    static func letter(_ name: String, in configurations: [String]) -> Character {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return letters[(configurations.firstIndex(of: name) ?? configurations.count) % letters.count]
    }

    /// p99 (log) against achieved req/s with the objective, the points, the front and the
    /// current point; the legend and the front's points under it.
    func curve(_ f: inout Frame, _ m: SweepDashboardModel, _ st: Styler, x: Int, y: Int, w: Int, h: Int) {
        let d = DashboardRenderer.Drawer(m: m.live ?? placeholder(m))
        d.title(&f, DashboardRenderer.Rect(x: x, y: y, w: w, h: 1), m.axis == .requests ? "p99 vs achieved req/s" : "p99 vs output tok/s",
                [("objective \(Self.ms(m.p99ObjectiveMillis))", st.style(.red, dim: true))])
        let legendH = min(4, max(0, h - 8))
        let labelW = 7
        let px = x + labelW, pw = w - labelW - 1
        let py = y + 1, ph = h - 1 - 2 - legendH
        guard ph >= 3, pw >= 10 else { return }
        let front = SweepCurvePoint.paretoFront(m.points, axis: m.axis)
        let frontSet = Set(front)
        // Scales: y is log10(p99 ms) over the points, the live point and the objective; x runs
        // from 0 to a round number above the highest throughput.
        let p99s = m.points.compactMap(\.p99Millis).filter { $0 > 0 } + [m.liveP99Millis].compactMap { $0 }.filter { $0 > 0 }
        let lo = log10(min(p99s.min() ?? m.p99ObjectiveMillis, m.p99ObjectiveMillis) * 0.8)
        let hi = log10(max(p99s.max() ?? m.p99ObjectiveMillis, m.p99ObjectiveMillis) * 1.25)
        let xs = m.points.compactMap { $0.x(m.axis) } + [m.liveThroughput].compactMap { $0 }
        let xmax = DashboardRenderer.Drawer.niceCeiling(max(1, (xs.max() ?? 1) * 1.05))
        func row(_ ms: Double) -> Int { py + ph - 1 - Int(((log10(max(ms, 1e-6)) - lo) / (hi - lo) * Double(ph - 1)).rounded()) }
        func col(_ t: Double) -> Int { px + Int((max(0, t) / xmax * Double(pw - 1)).rounded()) }
        func clampRow(_ r: Int) -> Int { min(py + ph - 1, max(py, r)) }
        // Axes and labels.
        let axisStyle = st.style(dim: true)
        for r in py..<(py + ph) { f[px - 1, r] = Cell(m.unicode ? "│" : "|", style: axisStyle) }
        f.fill(x: px, y: py + ph, width: pw, height: 1, with: Cell(m.unicode ? "─" : "-", style: axisStyle))
        f[px - 1, py + ph] = Cell(m.unicode ? "└" : "+", style: axisStyle)
        func label(_ r: Int, _ text: String, _ style: Style) {
            let t = String(text.prefix(labelW - 1))
            f.fill(x: x, y: r, width: labelW - 1, height: 1)
            f.put(t, x: px - 1 - t.count, y: r, style: style)
        }
        label(py, Self.ms(pow(10, hi)), axisStyle)
        label(py + ph - 1, Self.ms(pow(10, lo)), axisStyle)
        let sloRow = row(m.p99ObjectiveMillis)
        for c in px..<(px + pw) { f[c, sloRow] = Cell(m.unicode ? "┄" : "-", style: st.style(.red, dim: true)) }
        label(sloRow, Self.ms(m.p99ObjectiveMillis), st.style(.red))
        f.put("0", x: px, y: py + ph + 1, style: axisStyle)
        let unit = m.axis.unit
        f.put(unit, x: px + (pw - unit.count) / 2, y: py + ph + 1, style: axisStyle)
        let top = DashboardRenderer.Drawer.axis(xmax)
        f.put(top, x: px + pw - top.count, y: py + ph + 1, style: axisStyle)
        // The front, joined by dots between its points (drawn first: points go on top).
        let dot: Character = m.unicode ? "·" : "."
        for (a, b) in zip(front, front.dropFirst()) {
            let (c0, r0) = (col(m.points[a].x(m.axis)!), clampRow(row(m.points[a].p99Millis!)))
            let (c1, r1) = (col(m.points[b].x(m.axis)!), clampRow(row(m.points[b].p99Millis!)))
            let steps = max(abs(c1 - c0), abs(r1 - r0))
            guard steps > 1 else { continue }
            for i in 1..<steps {
                let c = c0 + Int((Double(c1 - c0) * Double(i) / Double(steps)).rounded())
                let r = r0 + Int((Double(r1 - r0) * Double(i) / Double(steps)).rounded())
                f[c, r] = Cell(dot, style: st.style(.green))
            }
        }
        // The points: the configuration's letter (lower case when cut short), `!` out of memory.
        for (i, p) in m.points.enumerated() {
            let letter = Self.letter(p.configuration, in: m.configurations)
            // Out of memory sits at 0; a point with no x on this axis is not drawn.
            guard let px0 = p.status == .outOfMemory ? 0 : p.x(m.axis) else { continue }
            let c = col(px0)
            switch p.status {
            case .outOfMemory:
                f[c, py + ph - 1] = Cell("!", style: st.style(.red, bold: true))
            case .skipped:
                guard let ms = p.p99Millis else { continue }
                f[c, clampRow(row(ms))] = Cell(Character(letter.lowercased()), style: st.style(dim: true))
            case .errors:
                guard let ms = p.p99Millis else { continue }
                f[c, clampRow(row(ms))] = Cell(letter, style: st.style(.red))
            case .holds, .slow:
                guard let ms = p.p99Millis else { continue }
                let onFront = frontSet.contains(i)
                f[c, clampRow(row(ms))] = Cell(letter, style: st.style(onFront ? .green : .default, bold: onFront, reverse: onFront))
            }
        }
        // Where the current point stands now.
        if m.measuring, let ms = m.liveP99Millis, ms > 0, let t = m.liveThroughput {
            f[col(t), clampRow(row(ms))] = Cell("+", style: st.style(.yellow, bold: true))
        }
        // Legend and front.
        var ly = py + ph + 2
        guard legendH > 0 else { return }
        var items = m.configurations.map { "\(Self.letter($0, in: m.configurations)) \($0)" }
        items += ["\(dot) Pareto front", "a-z skipped", "! out of memory", "+ now"]
        var lx = x + 1
        for item in items {
            if lx + item.count > x + w { ly += 1; lx = x + 1 }
            guard ly < py + ph + 2 + legendH - 1 else { break }
            lx = f.put(item, x: lx, y: ly, style: st.style(dim: item.first == "a" || item.first == "+" || item.first == "!"), maxWidth: x + w - lx) + 2
        }
        let frontText = front.isEmpty ? "none yet" : front.map { i in
            let p = m.points[i]
            return "\(Self.letter(p.configuration, in: m.configurations))@\(Format.number(p.level, digits: 0))"
        }.joined(separator: " ")
        f.put("front: " + frontText, x: x + 1, y: py + ph + 2 + legendH - 1, style: st.style(.green), maxWidth: w - 1)
    }

    /// A latency in at most 6 characters for the curve's labels: `0.05ms`, `8.5ms`, `100ms`, `1.5s`.
    static func ms(_ v: Double) -> String {
        if v < 0.1 { return Format.number(v, digits: 2) + "ms" }
        if v < 10 { return Format.number(v, digits: 1) + "ms" }
        if v < 1000 { return Format.number(v, digits: 0) + "ms" }
        return Format.number(v / 1000, digits: 1) + "s"
    }

    /// A run model for the panel helpers before the first snapshot (titles only).
    func placeholder(_ m: SweepDashboardModel) -> DashboardModel {
        let empty = Snapshot(elapsed: .zero, names: [], methods: [], perStat: [], total: RequestStats(), windows: [:], defaultWindowSeconds: 10,
                             errors: ErrorTable(), scheduleLag: LatencyHistogram(), dropped: 0,
                             gauges: WorkerGauges(users: 0, inFlight: 0, queued: 0), targetUsers: nil, targetRate: nil, measuredSeconds: 0)
        return DashboardModel(snapshot: empty, scenarioName: m.scenarioName, targetDescription: m.targetDescription, unicode: m.unicode, color: m.color)
    }

    /// Styles with colour on or off, as the run dashboard's.
    struct Styler {
        let color: Bool
        func style(_ fg: Color = .default, bold: Bool = false, reverse: Bool = false, dim: Bool = false) -> Style {
            Style(fg: color ? fg : .default, bold: bold, reverse: reverse, dim: color && dim)
        }
    }
}
