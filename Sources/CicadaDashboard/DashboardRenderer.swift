import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// Turns a ``DashboardModel`` into a ``Frame``: the whole dashboard as a pure function.
///
/// No terminal, no I/O and no clock: the same model and size always give the same frame, so
/// layouts are tested as golden text and the screen only draws what changed.
///
/// Layout: a header (2 rows), a footer of keys (1 row) and, when there is one, a message row
/// above it. Below 140 columns the body has charts on the left, a column of small panels
/// (GPU memory, thresholds, engine, LLM, status codes and errors) on the right, and the
/// requests table across the bottom; from 140 columns the table moves under the charts and the
/// right column runs the full height. Panels that do not fit are shortened or left out, in
/// that order of priority; below 80x24 only a one-line "terminal too small" message is drawn.
public struct DashboardRenderer: Sendable {
    /// The smallest terminal the dashboard lays out in.
    public static let minimumWidth = 80
    /// The smallest terminal height the dashboard lays out in.
    public static let minimumHeight = 24
    /// From this width the requests table moves under the charts, giving two full-height columns.
    public static let twoColumnWidth = 140

    /// A renderer; it holds no state.
    public init() {}

    /// Draws `m` into a frame of `width` x `height` cells.
    public func render(_ m: DashboardModel, width: Int, height: Int) -> Frame {
        var f = Frame(width: width, height: height)
        guard width >= Self.minimumWidth, height >= Self.minimumHeight else {
            f.put("terminal too small (need \(Self.minimumWidth)x\(Self.minimumHeight))", x: 0, y: 0, style: Style(bold: true))
            return f
        }
        let d = Drawer(m: m)
        d.header(&f)
        d.footer(&f, y: height - 1)
        var bottom = height - 1
        if let msg = m.message {
            bottom -= 1
            f.put((d.u ? "» " : "> ") + msg, x: 0, y: bottom, style: d.style(.yellow, bold: true))
        }
        var body = Rect(x: 0, y: 2, w: width, h: bottom - 2)
        if !m.variants.isEmpty {
            // A comparison: the variants' table across the full width, under the header.
            let compareH = min(2 + m.variants.count, max(3, body.h / 3))
            d.compare(&f, Rect(x: 0, y: body.y, w: width, h: compareH))
            body = Rect(x: 0, y: body.y + compareH, w: width, h: body.h - compareH)
        }
        if width >= Self.twoColumnWidth {
            let leftW = width * 3 / 5
            let left = Rect(x: 0, y: body.y, w: leftW, h: body.h)
            let tableH = min(d.tableHeight, max(4, left.h / 3))
            d.charts(&f, Rect(x: 0, y: body.y, w: leftW, h: left.h - tableH))
            d.requests(&f, Rect(x: 0, y: body.y + left.h - tableH, w: leftW, h: tableH))
            d.sidePanels(&f, Rect(x: leftW + 1, y: body.y, w: width - leftW - 1, h: body.h))
        } else {
            let rightW = width * 2 / 5
            let leftW = width - rightW - 1
            let tableH = min(d.tableHeight, max(4, body.h / 3))
            let topH = body.h - tableH
            d.charts(&f, Rect(x: 0, y: body.y, w: leftW, h: topH))
            d.sidePanels(&f, Rect(x: leftW + 1, y: body.y, w: rightW, h: topH))
            d.requests(&f, Rect(x: 0, y: body.y + topH, w: width, h: tableH))
        }
        if m.showHelp { d.help(&f) }
        return f
    }

    /// A queue delay as the dashboard writes it: "500us" below a millisecond, else "2ms".
    public static func delayText(_ micros: UInt64) -> String { Drawer.delay(micros, unicode: false) }

    /// A rectangle of cells.
    struct Rect {
        var x: Int, y: Int, w: Int, h: Int
        var maxX: Int { x + w }
    }

    /// One chart series: its values per point, colour and ASCII glyph.
    struct Series {
        var value: (TimelinePoint) -> Double?
        var color: Color
        var ascii: Character
        var bold: Bool
    }

    /// Draws panels for one model; holds the glyph set and palette the model asks for.
    struct Drawer {
        let m: DashboardModel
        var s: Snapshot { m.snapshot }
        var u: Bool { m.unicode }
        var hline: Character { u ? "─" : "-" }
        var vline: Character { u ? "│" : "|" }

        /// The window the panels name: the model's, else the snapshot's default.
        var window: (seconds: Int, stats: WindowStats)? {
            if let w = s.windows[m.windowSeconds] { return (m.windowSeconds, w) }
            return s.window.map { (s.defaultWindowSeconds, $0) }
        }

        /// A style in `fg`; without colour only bold survives (dim is a colour attribute to
        /// `NO_COLOR` users, who asked for plain text).
        func style(_ fg: Color = .default, bold: Bool = false, reverse: Bool = false, dim: Bool = false) -> Style {
            Style(fg: m.color ? fg : .default, bold: bold, reverse: reverse, dim: m.color && dim)
        }

        // MARK: Header and footer

        func header(_ f: inout Frame) {
            let bar = style(.default, bold: true, reverse: true)
            f.fill(x: 0, y: 0, width: f.width, height: 1, with: Cell(" ", style: bar))
            var clock = Self.clock(s.elapsed.seconds)
            if let rt = m.runTime { clock += " / " + Self.clock(rt.seconds) }
            let right = " " + clock + " "
            let rightX = f.width - right.count
            var x = f.put(" cicada  ", x: 0, y: 0, style: bar, maxWidth: rightX)
            x = f.put(m.scenarioName, x: x, y: 0, style: bar, maxWidth: rightX - x)
            x = f.put(u ? "  ▸ " : "  > ", x: x, y: 0, style: bar, maxWidth: rightX - x)
            f.put(m.targetDescription, x: x, y: 0, style: bar, maxWidth: rightX - 1 - x)
            f.put(right, x: rightX, y: 0, style: bar)

            // Most important first, since the row is clipped at the right edge on narrow terminals.
            var segs: [(String, Style)] = []
            if m.paused { segs.append((" PAUSED ", style(.yellow, bold: true, reverse: true))) }
            let achieved = window?.stats.qps.map { Format.number($0, digits: 1) } ?? "-"
            if let rate = s.targetRate {
                segs.append(("rate \(achieved)/s of \(Format.number(rate, digits: 1))/s", .plain))
            } else {
                segs.append(("users \(s.gauges.users)" + (s.targetUsers.map { " / \($0)" } ?? ""), .plain))
                segs.append(("qps \(achieved)", .plain))
            }
            if let lag = s.scheduleLag.percentile(99) {
                // Late sends mean the generator, not the server, limits the load: say so loudly.
                if lag > 10_000 {
                    segs.append(("WARNING generator saturated: lag p99 \(Format.micros(lag))", style(.red, bold: true)))
                } else {
                    segs.append(("lag p99 \(Format.micros(lag))", .plain))
                }
            }
            if let cpu = m.generatorCPUPercent { segs.append(("cpu \(Format.number(cpu, digits: 0))%", .plain)) }
            if let rate = s.total.errorRate {
                segs.append(("fail \(Format.number(rate * 100, digits: 1))%", rate > 0 ? style(.red) : .plain))
            }
            if s.dropped > 0 { segs.append(("dropped \(s.dropped)", style(.red))) }
            var hx = 1
            for (i, seg) in segs.enumerated() {
                let start = hx + (i > 0 ? 2 : 0)
                guard start + seg.0.count <= f.width else { break }
                hx = f.put(seg.0, x: start, y: 1, style: seg.1)
            }
        }

        static let footerKeys: [(String, String)] = [
            ("q", "quit"), ("space", "pause"), ("w/W", "+1/+10 users"), ("s/S", "-1/-10"), ("+/-", "rate"),
            ("e", "engine"), ("b", "batching"), ("[/]", "delay"), ("{/}", "max batch"), ("t", "window"), ("r", "reset"), ("?", "help"),
        ]
        /// The keys that do something in this run (users in the closed model, rate in the
        /// open one, engine keys with the engine), shortened to `compact` if asked.
        func relevantKeys(compact: Bool) -> [(String, String)] {
            var keys: [(String, String)] = [("q", "quit"), (compact ? "spc" : "space", "pause")]
            if s.targetRate == nil { keys += compact ? [("w/W s/S", "users")] : [("w/W", "+1/+10 users"), ("s/S", "-1/-10")] }
            if s.targetRate != nil { keys.append(("+/-", "rate")) }
            if m.engine != nil {
                keys += compact ? [("e b [/] {/}", "engine")] : [("e", "engine"), ("b", "batching"), ("[/]", "delay"), ("{/}", "max batch")]
            }
            if !m.variants.isEmpty { keys.append(("tab", "focus")) }
            return keys + [("t", "window"), ("r", "reset"), ("?", "help")]
        }

        /// Every key when it fits; else the keys that apply to this run; else those, shortened.
        func footer(_ f: inout Frame, y: Int) {
            func length(_ k: [(String, String)]) -> Int { k.map { $0.0.count + 1 + $0.1.count }.reduce(0, +) + 2 * (k.count - 1) }
            var keys = Self.footerKeys
            if !m.variants.isEmpty { keys.insert(("tab", "focus"), at: keys.count - 3) }
            if length(keys) > f.width { keys = relevantKeys(compact: false) }
            if length(keys) > f.width { keys = relevantKeys(compact: true) }
            var x = 0
            for (i, (key, what)) in keys.enumerated() {
                if i > 0 { x += 2 }
                x = f.put(key, x: x, y: y, style: style(.cyan, bold: true))
                x = f.put(" " + what, x: x, y: y)
            }
        }

        static func clock(_ seconds: Double) -> String {
            let t = Int(max(0, seconds).rounded(.down))
            if t < 60 { return "\(t)s" }
            if t < 3600 { return "\(t / 60)m" + (t % 60 < 10 ? "0" : "") + "\(t % 60)s" }
            return "\(t / 3600)h" + ((t % 3600) / 60 < 10 ? "0" : "") + "\((t % 3600) / 60)m"
        }

        // MARK: Panel titles

        /// "─ Title ── extra ──────" across the rectangle's first row.
        func title(_ f: inout Frame, _ r: Rect, _ text: String, _ extra: [(String, Style)] = []) {
            let rule = style(dim: true)
            f.fill(x: r.x, y: r.y, width: r.w, height: 1, with: Cell(hline, style: rule))
            var x = f.put(String(hline) + " ", x: r.x, y: r.y, style: rule, maxWidth: r.w)
            x = f.put(text, x: x, y: r.y, style: style(.cyan, bold: true), maxWidth: r.maxX - x)
            for (t, st) in extra {
                // A figure is shown whole or not at all: a clipped number reads as a wrong one.
                guard x + 1 + t.count <= r.maxX else { break }
                x = f.put(" ", x: x, y: r.y, maxWidth: r.maxX - x)
                x = f.put(t, x: x, y: r.y, style: st, maxWidth: r.maxX - x)
            }
            if x < r.maxX { f.put(" ", x: x, y: r.y) }
        }

        // MARK: Charts

        func charts(_ f: inout Frame, _ r: Rect) {
            guard r.h >= 3, r.w >= 20 else { return }
            if r.h < 7 { latency(&f, r); return }
            let latH = max(4, (r.h * 3 + 2) / 5)
            latency(&f, Rect(x: r.x, y: r.y, w: r.w, h: latH))
            throughput(&f, Rect(x: r.x, y: r.y + latH, w: r.w, h: r.h - latH))
        }

        var span: (start: Double, end: Double) {
            let end = max(s.elapsed.seconds, m.history.last?.t ?? 0, m.variants.compactMap { $0.history.last?.t }.max() ?? 0)
            return (end - Double(m.windowSeconds), end)
        }

        /// Each point's interval (previous point's time, its own time], so a halved timeline
        /// still covers its seconds, and a gap in the history stays a gap.
        func intervals(_ h: [TimelinePoint]) -> [(t0: Double, t1: Double, p: TimelinePoint)] {
            var step = Double.infinity
            for i in 1..<max(1, h.count) where h[i].t > h[i - 1].t { step = min(step, h[i].t - h[i - 1].t) }
            if !step.isFinite { step = 1 }
            let start = span.start
            var out: [(Double, Double, TimelinePoint)] = []
            for (i, p) in h.enumerated() where p.t > start {
                let prev = i > 0 ? h[i - 1].t : p.t - step
                out.append((max(prev, p.t - step), p.t, p))
            }
            return out
        }

        /// Values of one series in `n` equal time buckets over the span: the max (latency) or
        /// mean (rates) of the points overlapping each bucket; nil where no point has data.
        func buckets(_ value: (TimelinePoint) -> Double?, n: Int, mean: Bool, history: [TimelinePoint]? = nil) -> [Double?] {
            guard n > 0 else { return [] }
            let (start, end) = span
            let dt = (end - start) / Double(n)
            var acc = [Double?](repeating: nil, count: n)
            var counts = [Int](repeating: 0, count: n)
            for iv in intervals(history ?? m.history) {
                guard let v = value(iv.p), v.isFinite else { continue }
                let c0 = max(0, Int(((iv.t0 - start) / dt).rounded(.down)))
                let c1 = min(n - 1, Int(((iv.t1 - start) / dt).rounded(.up)) - 1)
                guard c0 <= c1 else { continue }
                for c in c0...c1 {
                    if mean { acc[c] = (acc[c] ?? 0) + v } else { acc[c] = max(acc[c] ?? v, v) }
                    counts[c] += 1
                }
            }
            if mean { for c in 0..<n where counts[c] > 0 { acc[c] = acc[c]! / Double(counts[c]) } }
            return acc
        }

        /// The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 x 10^k) at or above `v`,
        /// so a chart's top is close to its data.
        static func niceCeiling(_ v: Double) -> Double {
            guard v > 0, v.isFinite else { return 1 }
            var p = 1.0
            while p * 10 <= v { p *= 10 }
            while p > v { p /= 10 }
            for k in [1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where k * p >= v { return k * p }
            return 10 * p
        }

        /// An axis value in at most 5 characters.
        static func axis(_ v: Double) -> String {
            if v >= 100_000 { return Format.number(v / 1000, digits: 0) + "k" }
            if v >= 100 || v == v.rounded() { return Format.number(v, digits: 0) }
            if v >= 10 { return Format.number(v, digits: 1) }
            return Format.number(v, digits: v >= 1 ? 1 : 2)
        }

        /// A latency in at most 7 characters for titles: `0.052ms`, `12.3ms`, `480ms`, `1.99s`.
        static func short(_ micros: UInt64?) -> String {
            guard let us = micros else { return "-" }
            let ms = Double(us) / 1000
            if ms < 10 { return Format.number(ms, digits: ms < 1 ? 3 : 2) + "ms" }
            if ms < 100 { return Format.number(ms, digits: 1) + "ms" }
            if ms < 1000 { return Format.number(ms, digits: 0) + "ms" }
            return Format.number(ms / 1000, digits: ms < 10_000 ? 2 : 1) + "s"
        }

        static let labelWidth = 6

        /// Y labels at the top, bottom and any marked row; the axis line beside them.
        func yAxis(_ f: inout Frame, x: Int, y: Int, h: Int, max ymax: Double, bottom: Double = 0, marks: [(row: Int, value: Double, style: Style)]) {
            for row in 0..<h { f[x + Self.labelWidth - 1, y + row] = Cell(vline, style: style(dim: true)) }
            func label(_ row: Int, _ text: String, _ st: Style) {
                let t = String(text.prefix(Self.labelWidth - 1))
                f.fill(x: x, y: y + row, width: Self.labelWidth - 1, height: 1)
                f.put(t, x: x + Self.labelWidth - 1 - t.count, y: y + row, style: st)
            }
            label(0, Self.axis(ymax), style(dim: true))
            if h > 1 { label(h - 1, bottom == 0 ? "0" : Self.axis(bottom), style(dim: true)) }
            for mk in marks where mk.row >= 0 && mk.row < h { label(mk.row, Self.axis(mk.value), mk.style) }
        }

        /// Event markers (a vertical line through empty cells, a one-letter label on top).
        func events(_ f: inout Frame, x: Int, y: Int, w: Int, h: Int, emptyGlyph: Character) {
            let (start, end) = span
            for e in m.events where e.t > start && e.t <= end {
                let c = min(w - 1, Int((e.t - start) / (end - start) * Double(w)))
                let st = style(.cyan)
                for row in 0..<h where f[x + c, y + row].char == " " || f[x + c, y + row].char == emptyGlyph {
                    f[x + c, y + row] = Cell(u ? "▏" : "|", style: st)
                }
                let letter = e.kind.first.map { Character($0.lowercased()) } ?? "*"
                f[x + c, y] = Cell(letter, style: style(.cyan, bold: true))
            }
        }

        /// "-60s ... -30s ... now" under a plot.
        func xAxis(_ f: inout Frame, x: Int, y: Int, w: Int) {
            let st = style(dim: true)
            f.put("-\(m.windowSeconds)s", x: x, y: y, style: st)
            let mid = "-\(m.windowSeconds / 2)s"
            f.put(mid, x: x + w / 2 - mid.count / 2, y: y, style: st)
            f.put("now", x: x + w - 3, y: y, style: st)
        }

        /// Colours and ASCII glyphs of the variants' p99 lines in a comparison, by position.
        static let variantColors: [Color] = [.magenta, .cyan, .yellow, .green, .blue, .red]
        static let variantGlyphs: [Character] = ["*", "o", "+", "x", "#", "%"]

        func latency(_ f: inout Frame, _ r: Rect) {
            let win = window
            let h = win?.stats.total.corrected
            let comparing = !m.variants.isEmpty
            if comparing {
                // One p99 line per variant, overlaid; the label carries each line's colour (and glyph in ASCII).
                var extra: [(String, Style)] = m.variants.enumerated().map { i, v in
                    let k = i % Self.variantColors.count
                    return ((u ? "" : String(Self.variantGlyphs[k])) + v.name + " " + Self.short(v.p99), style(Self.variantColors[k], bold: i == m.focusedVariant))
                }
                extra.append(("(p99, last \(win?.seconds ?? m.windowSeconds)s, ms)", style(dim: true)))
                title(&f, r, "p99 latency", extra)
            } else {
                title(&f, r, "Latency", [
                    // In ASCII each label carries its series' glyph, the only legend there is.
                    ((u ? "" : ".") + "p50 " + Self.short(h?.percentile(50)), style(.green)),
                    ((u ? "" : ":") + "p95 " + Self.short(h?.percentile(95)), style(.yellow)),
                    ((u ? "" : "*") + "p99 " + Self.short(h?.percentile(99)), style(.magenta, bold: true)),
                    ("(last \(win?.seconds ?? m.windowSeconds)s, axis in ms)", style(dim: true)),
                ])
            }
            let hasXAxis = r.h >= 10
            let ch = r.h - 1 - (hasXAxis ? 1 : 0)
            let px = r.x + Self.labelWidth, py = r.y + 1, pw = r.w - Self.labelWidth
            guard ch >= 2, pw >= 8 else { return }
            let series: [Series]
            let histories: [[TimelinePoint]?]
            if comparing {
                series = m.variants.indices.map { i in
                    let k = i % Self.variantColors.count
                    return Series(value: { $0.p99Millis }, color: Self.variantColors[k], ascii: Self.variantGlyphs[k], bold: i == m.focusedVariant)
                }
                histories = m.variants.map(\.history)
            } else {
                series = [
                    Series(value: { $0.p50Millis }, color: .green, ascii: ".", bold: false),
                    Series(value: { $0.p95Millis }, color: .yellow, ascii: ":", bold: false),
                    Series(value: { $0.p99Millis }, color: .magenta, ascii: "*", bold: true),
                ]
                histories = [nil, nil, nil]
            }
            let sub = u ? 2 : 1
            let columns = zip(series, histories).map { buckets($0.value, n: pw * sub, mean: false, history: $1) }
            var top = columns.joined().compactMap { $0 }.max() ?? 0
            if let t = m.p99ThresholdMillis { top = max(top, t) }
            let ymax = Self.niceCeiling(top * 1.05)
            // Variants can differ a hundredfold (an overloaded one against a healthy one): then
            // the axis is logarithmic, from a power of ten under the lowest value, so every
            // line keeps its shape. A single run's axis stays linear from 0.
            let lowest = columns.joined().compactMap { $0 }.filter { $0 > 0 }.min()
            let ylo: Double? = comparing ? lowest.flatMap { lo in ymax / lo > 20 ? pow(10, (log10(lo)).rounded(.down)) : nil } : nil
            func frac(_ v: Double) -> Double {
                guard let ylo else { return v / ymax }
                return max(0, min(1, (log10(max(v, ylo)) - log10(ylo)) / (log10(ymax) - log10(ylo))))
            }
            var marks: [(Int, Double, Style)] = []
            var thresholdRow: Int?
            if let t = m.p99ThresholdMillis {
                let row = Int(((1 - frac(t)) * Double(ch - 1)).rounded())
                thresholdRow = row
                marks.append((row, t, style(.red, bold: true)))
            }
            if u {
                let dotsH = ch * 4
                var bits = [[UInt8]](repeating: [UInt8](repeating: 0, count: pw), count: ch)
                var owner = [[Int]](repeating: [Int](repeating: -1, count: pw), count: ch)
                let dot: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
                for (si, col) in columns.enumerated() {
                    var prev: Int?
                    for (c, v) in col.enumerated() {
                        guard let v else { prev = nil; continue }
                        let d = min(dotsH - 1, max(0, Int(((1 - frac(v)) * Double(dotsH - 1)).rounded())))
                        let (lo, hi) = prev.map { (min($0, d), max($0, d)) } ?? (d, d)
                        for dd in lo...hi {
                            bits[dd / 4][c / 2] |= dot[c % 2][dd % 4]
                            owner[dd / 4][c / 2] = si
                        }
                        prev = d
                    }
                }
                for row in 0..<ch {
                    for c in 0..<pw where bits[row][c] != 0 {
                        let sr = series[owner[row][c]]
                        f[px + c, py + row] = Cell(Character(Unicode.Scalar(0x2800 + UInt32(bits[row][c]))!), style: style(sr.color, bold: sr.bold))
                    }
                }
            } else {
                for (si, col) in columns.enumerated() {
                    for (c, v) in col.enumerated() {
                        guard let v else { continue }
                        let row = min(ch - 1, max(0, Int(((1 - frac(v)) * Double(ch - 1)).rounded())))
                        f[px + c, py + row] = Cell(series[si].ascii, style: style(series[si].color, bold: series[si].bold))
                    }
                }
            }
            if let row = thresholdRow, row >= 0, row < ch {
                for c in 0..<pw where f[px + c, py + row].char == " " { f[px + c, py + row] = Cell(hline, style: style(.red)) }
            }
            events(&f, x: px, y: py, w: pw, h: ch, emptyGlyph: hline)
            if columns.joined().allSatisfy({ $0 == nil }) {
                let t = " no data in the last \(m.windowSeconds)s "
                f.put(t, x: px + max(0, (pw - t.count) / 2), y: py + ch / 2, style: style(dim: true), maxWidth: pw)
            }
            yAxis(&f, x: r.x, y: py, h: ch, max: ymax, bottom: ylo ?? 0, marks: marks)
            if hasXAxis { xAxis(&f, x: px, y: py + ch, w: pw) }
        }

        func throughput(_ f: inout Frame, _ r: Rect) {
            let win = window
            var extra: [(String, Style)] = [((win?.stats.qps.map { Format.number($0, digits: 1) } ?? "-") + "/s", style(.blue, bold: true))]
            if let rate = s.targetRate { extra.append(("target \(Format.number(rate, digits: 1))/s", style(.yellow))) }
            let failNow = m.history.last?.failuresPerSecond
            extra.append(("fail " + (failNow.map { Format.number($0, digits: 1) } ?? "-") + "/s", (failNow ?? 0) > 0 ? style(.red, bold: true) : .plain))
            extra.append(("(req/s)", style(dim: true)))
            title(&f, r, "Throughput", extra)
            let hasXAxis = r.h >= 9
            let ch = r.h - 1 - (hasXAxis ? 1 : 0)
            let px = r.x + Self.labelWidth, py = r.y + 1, pw = r.w - Self.labelWidth
            guard ch >= 1, pw >= 8 else { return }
            let failRow = ch >= 3
            let bh = ch - (failRow ? 1 : 0)
            let qps = buckets({ $0.qps }, n: pw, mean: true)
            var top = qps.compactMap { $0 }.max() ?? 0
            if let t = s.targetRate { top = max(top, t) }
            let ymax = Self.niceCeiling(top * 1.05)
            let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
            let bar = style(.blue)
            for (c, v) in qps.enumerated() {
                guard let v else { continue }
                if v <= 0 { f[px + c, py + bh - 1] = Cell(u ? "▁" : "_", style: style(dim: true)); continue }
                if u {
                    let eighths = max(1, Int((v / ymax * Double(bh * 8)).rounded()))
                    for row in 0..<bh {
                        let fill = eighths - row * 8
                        guard fill > 0 else { break }
                        f[px + c, py + bh - 1 - row] = Cell(blocks[min(8, fill) - 1], style: bar)
                    }
                } else {
                    let rows = max(1, Int((v / ymax * Double(bh)).rounded()))
                    for row in 0..<min(rows, bh) { f[px + c, py + bh - 1 - row] = Cell("#", style: bar) }
                }
            }
            var marks: [(Int, Double, Style)] = []
            if let t = s.targetRate {
                let row = Int(((1 - t / ymax) * Double(bh - 1)).rounded())
                marks.append((row, t, style(.yellow, bold: true)))
                if row >= 0, row < bh {
                    for c in 0..<pw where f[px + c, py + row].char == " " { f[px + c, py + row] = Cell(hline, style: style(.yellow)) }
                }
            }
            events(&f, x: px, y: py, w: pw, h: bh, emptyGlyph: hline)
            yAxis(&f, x: r.x, y: py, h: bh, max: ymax, marks: marks)
            if failRow {
                let fy = py + bh
                let fails = buckets({ $0.failuresPerSecond }, n: pw, mean: true)
                let fmax = max(1, fails.compactMap { $0 }.max() ?? 0)
                f.put("fail", x: r.x + 1, y: fy, style: style(.red))
                f[r.x + Self.labelWidth - 1, fy] = Cell(vline, style: style(dim: true))
                for (c, v) in fails.enumerated() {
                    guard let v else { continue }
                    if v <= 0 { f[px + c, fy] = Cell(u ? "·" : ".", style: style(dim: true)); continue }
                    let glyph: Character = u ? blocks[max(0, min(7, Int((v / fmax * 8).rounded()) - 1))] : (v / fmax >= 0.5 ? "#" : ":")
                    f[px + c, fy] = Cell(glyph, style: style(.red, bold: true))
                }
            }
            if hasXAxis { xAxis(&f, x: px, y: py + ch, w: pw) }
        }

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

        // MARK: Side panels

        func sidePanels(_ f: inout Frame, _ r: Rect) {
            var panels: [(natural: Int, draw: (inout Frame, Rect) -> Void)] = []
            panels.append((gpuHeight, gpu))
            if !m.thresholds.isEmpty { panels.append((1 + m.thresholds.count, thresholds)) }
            if m.engine != nil { panels.append((5, engine)) }
            if s.total.llm != nil { panels.append((4, llm)) }
            panels.append((2 + min(12, s.errors.entries.count), status))
            if !m.events.isEmpty { panels.append((1 + min(12, m.events.count), eventList)) }
            var y = r.y
            for p in panels {
                let left = r.y + r.h - y
                guard left >= 2 else { break }
                let h = min(p.natural, left)
                p.draw(&f, Rect(x: r.x, y: y, w: r.w, h: h))
                y += h
            }
        }

        var gpuHeight: Int {
            let t = s.telemetry
            return 1 + max(1, t?.gpus.count ?? 0) + (t?.kvCachePeak != nil || t?.queueWaitingPeak != nil ? 1 : 0)
        }

        static func gib(_ bytes: UInt64) -> String { Format.number(Double(bytes) / 1_073_741_824, digits: 1) }

        func gpu(_ f: inout Frame, _ r: Rect) {
            guard let t = s.telemetry, !t.gpus.isEmpty else {
                title(&f, r, "GPU memory")
                f.put("no GPU telemetry", x: r.x + 1, y: r.y + 1, style: style(dim: true), maxWidth: r.w - 1)
                return
            }
            var sources: [String] = []
            for g in t.gpus {
                let name = g.source + (g.modelled ? " (modelled)" : "")
                if !sources.contains(name) { sources.append(name) }
            }
            title(&f, r, "GPU memory", [(sources.joined(separator: ", "), style(dim: true))])
            // On a narrow column the vendor prefix goes: "H200" says as much as "NVIDIA H200".
            func shown(_ name: String) -> String {
                guard r.w < 50 else { return name }
                for p in ["NVIDIA ", "Tesla "] where name.hasPrefix(p) { return String(name.dropFirst(p.count)) }
                return name
            }
            let nameW = min(14, t.gpus.map { shown($0.name).count }.max() ?? 0) + 1
            var y = r.y + 1
            for g in t.gpus where y < r.y + r.h {
                defer { y += 1 }
                f.put(shown(g.name), x: r.x + 1, y: y, maxWidth: nameW - 1)
                let x0 = r.x + 1 + nameW
                guard let frac = g.usedFraction, let used = g.usedBytes, let total = g.totalBytes else {
                    f.put("no memory reading", x: x0, y: y, style: style(dim: true), maxWidth: r.maxX - x0)
                    continue
                }
                var tail = " \(Format.number(frac * 100, digits: 0))% \(Self.gib(used))/\(Self.gib(total))" + (r.w >= 50 ? " GiB" : "G")
                if g.stale { tail += " stale" }
                let barW = max(4, r.maxX - x0 - tail.count - 2)
                let filled = min(barW, Int((frac * Double(barW)).rounded()))
                let color: Color = frac >= 0.9 ? .red : (frac >= 0.7 ? .yellow : .green)
                var x = f.put(u ? "▕" : "[", x: x0, y: y, style: style(dim: true))
                x = f.put(String(repeating: u ? "█" : "#", count: filled), x: x, y: y, style: style(color))
                x = f.put(String(repeating: u ? "░" : ".", count: barW - filled), x: x, y: y, style: style(dim: true))
                x = f.put(u ? "▏" : "]", x: x, y: y, style: style(dim: true))
                f.put(tail, x: x, y: y, style: g.stale ? style(.yellow) : .plain, maxWidth: r.maxX - x)
            }
            if y < r.y + r.h, t.kvCachePeak != nil || t.queueWaitingPeak != nil {
                var parts: [String] = []
                if let kv = t.kvCachePeak { parts.append((r.w < 50 ? "KV peak " : "KV cache peak ") + "\(Format.number(kv * 100, digits: 1))%") }
                if let q = t.queueWaitingPeak { parts.append("queue peak \(Format.number(q, digits: 0))") }
                f.put(parts.joined(separator: "  "), x: r.x + 1, y: y, maxWidth: r.w - 1)
            }
        }

        func thresholds(_ f: inout Frame, _ r: Rect) {
            let passed = m.thresholds.filter(\.passed).count
            title(&f, r, "Thresholds", [("\(passed)/\(m.thresholds.count) pass", passed == m.thresholds.count ? style(.green) : style(.red, bold: true))])
            var y = r.y + 1
            for t in m.thresholds where y < r.y + r.h {
                let mark = t.passed ? (u ? "✓" : "PASS") : (u ? "✗" : "FAIL")
                var x = f.put(mark, x: r.x + 1, y: y, style: t.passed ? style(.green, bold: true) : style(.red, bold: true))
                x += 1
                let measured = t.measuredText
                let mx = max(x + 6, r.maxX - measured.count)
                f.put(t.threshold.spec.expression, x: x, y: y, maxWidth: mx - 1 - x)
                f.put(measured, x: mx, y: y, style: t.passed ? .plain : style(.red), maxWidth: r.maxX - mx)
                y += 1
            }
        }

        static func delay(_ micros: UInt64, unicode: Bool) -> String {
            micros < 1000 ? "\(micros)\(unicode ? "µs" : "us")" : Format.millis(Double(micros) / 1000)
        }

        func engine(_ f: inout Frame, _ r: Rect) {
            guard let e = m.engine else { return }
            title(&f, r, "Engine", [("preset " + e.presetName, style(.yellow, bold: true))])
            let pref = e.preferredBatchSizes.isEmpty ? "-" : e.preferredBatchSizes.map(String.init).joined(separator: ",")
            let narrow = r.w < 45
            let delay = Self.delay(e.maxQueueDelayMicros, unicode: u)
            let avg = e.averageBatchSize.map { Format.number($0, digits: 1) } ?? "-"
            let hit = e.cacheHitRate.map { Format.number($0 * 100, digits: 1) + "%" } ?? "-"
            let lines: [[(String, Style)]] = [
                [(narrow ? "max \(e.maxBatchSize)  pref \(pref)  delay \(delay)" : "max batch \(e.maxBatchSize)  preferred \(pref)  delay \(delay)", .plain)],
                [(narrow ? "queue \(e.queueSize)  avg \(avg)  hit \(hit)" : "queue \(e.queueSize)  avg batch \(avg)  cache hit \(hit)", .plain)],
                batchLine(e),
                [(e.label, style(.magenta, dim: true))],
            ]
            for (i, segs) in lines.enumerated() where i + 1 < r.h {
                var x = r.x + 1
                for (t, st) in segs { x = f.put(t, x: x, y: r.y + 1 + i, style: st, maxWidth: r.maxX - x) }
            }
        }

        /// "batches 1▂ 2▁ 4▅ 8█": each batch size run so far with a bar of its share.
        func batchLine(_ e: EngineLine) -> [(String, Style)] {
            guard let top = e.batchSizes.values.max(), top > 0 else { return [("batches -", .plain)] }
            let blocks: [Character] = u ? ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : [".", ".", ":", ":", "*", "*", "#", "#"]
            var segs: [(String, Style)] = [("batches", .plain)]
            for (size, n) in e.batchSizes.sorted(by: { $0.key < $1.key }) where n > 0 {
                let level = max(0, min(7, Int((Double(n) / Double(top) * 8).rounded(.up)) - 1))
                segs.append((" \(size)", .plain))
                segs.append((String(blocks[level]), style(.blue, bold: true)))
            }
            return segs
        }

        func llm(_ f: inout Frame, _ r: Rect) {
            guard let total = s.total.llm else { return }
            let w = window
            let (l, seconds, label): (LLMStats, Double, String) =
                if let wl = w?.stats.total.llm, let ww = w { (wl, ww.stats.span.seconds, "last \(ww.seconds)s") } else { (total, s.measuredSeconds, "whole run") }
            title(&f, r, "LLM", [(label, style(dim: true))])
            let lines = [
                "TTFT p50 \(Format.micros(l.ttft.percentile(50)))  p99 \(Format.micros(l.ttft.percentile(99)))",
                "TPOT p50 \(Format.micros(l.tpot.percentile(50)))  p99 \(Format.micros(l.tpot.percentile(99)))",
                (r.w < 45 ? "out " : "output ") + "\(seconds > 0 ? Format.number(Double(l.outputTokens) / seconds, digits: 1) : "-") tok/s  streams \(l.streams)",
            ]
            for (i, t) in lines.enumerated() where i + 1 < r.h { f.put(t, x: r.x + 1, y: r.y + 1 + i, maxWidth: r.w - 1) }
        }

        func status(_ f: inout Frame, _ r: Rect) {
            title(&f, r, "Status codes & errors")
            guard r.h >= 2 else { return }
            var x = r.x + 1
            let y = r.y + 1
            var any = false
            for (code, n) in s.total.statusCodes.sorted(by: { $0.key < $1.key }) {
                let color: Color = code >= 500 ? .red : (code >= 400 ? .yellow : (code >= 200 && code < 300 ? .green : .default))
                x = f.put("\(code)", x: x, y: y, style: style(color, bold: true), maxWidth: r.maxX - x)
                x = f.put("×\(n)  ".replacingTimes(u), x: x, y: y, maxWidth: r.maxX - x)
                any = true
            }
            for kind in [FailureKind.rateLimited, .timeout, .connectionRefused, .connectionReset, .protocolError, .connection, .check, .streamError] {
                guard let n = s.total.failuresByKind[kind], n > 0 else { continue }
                x = f.put(kind.rawValue, x: x, y: y, style: style(.red, bold: true), maxWidth: r.maxX - x)
                x = f.put("×\(n)  ".replacingTimes(u), x: x, y: y, maxWidth: r.maxX - x)
                any = true
            }
            if !any { f.put("no responses yet", x: r.x + 1, y: y, style: style(dim: true), maxWidth: r.w - 1) }
            var ey = y + 1
            for e in s.errors.sorted where ey < r.y + r.h {
                let n = String(e.stat.occurrences)
                let nx = f.put(String(repeating: " ", count: max(0, 6 - n.count)) + n, x: r.x + 1, y: ey, style: style(.red, bold: true), maxWidth: r.w - 1)
                f.put("  \(e.key.method) \(e.key.name): \(e.key.message)", x: nx, y: ey, maxWidth: r.maxX - nx)
                ey += 1
            }
        }

        /// The legend of the chart markers: time, letter, what happened (latest last).
        func eventList(_ f: inout Frame, _ r: Rect) {
            title(&f, r, "Events")
            let shown = m.events.suffix(r.h - 1)
            for (i, e) in shown.enumerated() {
                let y = r.y + 1 + i
                var x = f.put(Self.clock(e.t), x: r.x + 1, y: y, style: style(dim: true))
                let letter = e.kind.first.map { $0.lowercased() } ?? "*"
                x = f.put(" " + letter, x: x, y: y, style: style(.cyan, bold: true))
                f.put(" \(e.kind): \(e.detail)", x: x, y: y, maxWidth: r.maxX - x)
            }
        }

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
}

private extension String {
    /// ASCII stand-ins for the few non-ASCII characters in labels.
    func replacingEllipsis(_ unicode: Bool) -> String { unicode ? self : split(separator: "…", omittingEmptySubsequences: false).joined(separator: "...") }
    func replacingDelta(_ unicode: Bool) -> String { unicode ? self : split(separator: "Δ", omittingEmptySubsequences: false).joined(separator: "d") }
    func replacingTimes(_ unicode: Bool) -> String { unicode ? self : split(separator: "×", omittingEmptySubsequences: false).joined(separator: " x") }
}
