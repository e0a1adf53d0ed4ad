import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// The latency and throughput charts: time buckets over the span, scales, axes and event marks.
extension DashboardRenderer.Drawer {
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

    /// The warm-up and cool-down shaded: the empty cells of their columns drawn with a dim
    /// shade, and the span labelled ("warm-up", "cool-down") on its top row when it fits.
    func phases(_ f: inout Frame, x: Int, y: Int, w: Int, h: Int, emptyGlyph: Character) {
        guard w > 0, h > 0 else { return }
        let (start, end) = span
        guard end > start else { return }
        var columns: [MeasurementPhase?] = Array(repeating: nil, count: w)
        for iv in intervals(m.history) where iv.p.phase != .measured {
            let c0 = max(0, Int(((iv.t0 - start) / (end - start) * Double(w)).rounded(.down)))
            let c1 = min(w - 1, Int(((iv.t1 - start) / (end - start) * Double(w)).rounded(.up)) - 1)
            guard c0 <= c1 else { continue }
            for c in c0...c1 { columns[c] = iv.p.phase }
        }
        let shade: Character = u ? "░" : ":"
        let st = style(dim: true)
        var c = 0
        while c < w {
            guard let phase = columns[c] else { c += 1; continue }
            var e = c
            while e + 1 < w, columns[e + 1] == phase { e += 1 }
            for col in c...e {
                for row in 0..<h where f[x + col, y + row].char == " " || f[x + col, y + row].char == emptyGlyph {
                    f[x + col, y + row] = Cell(shade, style: st)
                }
            }
            let label = phase == .warmup ? "warm-up" : "cool-down"
            if e - c + 1 >= label.count { f.put(label, x: x + c, y: y, style: style(.yellow, dim: true)) }
            c = e + 1
        }
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
        phases(&f, x: px, y: py, w: pw, h: ch, emptyGlyph: hline)
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
        phases(&f, x: px, y: py, w: pw, h: bh, emptyGlyph: hline)
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
}
