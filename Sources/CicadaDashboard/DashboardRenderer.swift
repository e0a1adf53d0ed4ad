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
/// requests table across the bottom (a comparison's variants, a distributed run's shards and a
/// split's targets take full-width rows under the header first); from 140 columns the table moves under the charts and the
/// right column runs the full height. Panels that do not fit are shortened or left out, in
/// that order of priority; below 80x24 only a "terminal too small" notice is drawn (with the
/// size, the run's clock and how to quit, word-wrapped to what fits, down to 1x1).
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
            tooSmall(m, into: &f)
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
        if !m.shards.isEmpty {
            // A distributed run's dashboard: the shard table across the full width, under the header.
            let shardsH = min(2 + m.shards.count, max(3, body.h / 3))
            d.shardTable(&f, Rect(x: 0, y: body.y, w: width, h: shardsH))
            body = Rect(x: 0, y: body.y + shardsH, w: width, h: body.h - shardsH)
        }
        if let split = m.split {
            // A canary roll-out: one line per target and the step's verdict, under the header.
            let splitH = min(3 + split.rows.count, max(4, body.h / 3))
            d.splitTable(&f, Rect(x: 0, y: body.y, w: width, h: splitH))
            body = Rect(x: 0, y: body.y + splitH, w: width, h: body.h - splitH)
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

    /// Below the minimum size: "terminal too small: WxH, need 80x24", the run's clock and "q
    /// quits", each word-wrapped to the width (a word longer than the width is cut), as many
    /// rows as fit. The run goes on meanwhile; the dashboard comes back when the terminal grows.
    func tooSmall(_ m: DashboardModel, into f: inout Frame) {
        var clock = Drawer.clock(m.snapshot.elapsed.seconds)
        if let rt = m.runTime { clock += " / " + Drawer.clock(rt.seconds) }
        if m.paused { clock += " PAUSED" }
        let paragraphs: [(String, Style)] = [
            ("terminal too small: \(f.width)x\(f.height), need \(Self.minimumWidth)x\(Self.minimumHeight)", Style(bold: true)),
            (clock, .plain), ("q quits", .plain),
        ]
        var y = 0
        for (text, style) in paragraphs {
            for line in Self.wrap(text, width: f.width) where y < f.height {
                f.put(line, x: 0, y: y, style: style)
                y += 1
            }
        }
    }

    /// `text` broken into lines of at most `width` characters at spaces; a longer word is cut.
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            var w = Substring(word)
            if !line.isEmpty && line.count + 1 + w.count <= width {
                line += " " + w
                continue
            }
            if !line.isEmpty { lines.append(line); line = "" }
            while w.count > width { lines.append(String(w.prefix(width))); w = w.dropFirst(width) }
            line = String(w)
        }
        if !line.isEmpty { lines.append(line) }
        return lines
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
        // The outer type's helpers, named as in the extensions' scope (DashboardRenderer+*.swift).
        typealias Rect = DashboardRenderer.Rect
        typealias Series = DashboardRenderer.Series

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
            if s.phase == .warmup { segs.append((" warm-up (not measured) ", style(.yellow, bold: true))) }
            if s.phase == .cooldown { segs.append((" cool-down (not measured) ", style(.yellow, bold: true))) }
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
            if m.split != nil { keys.append(("c/C", "canary")) }
            return keys + [("t", "window"), ("r", "reset"), ("?", "help")]
        }

        /// Every key when it fits; else the keys that apply to this run; else those, shortened.
        func footer(_ f: inout Frame, y: Int) {
            func length(_ k: [(String, String)]) -> Int { k.map { $0.0.count + 1 + $0.1.count }.reduce(0, +) + 2 * (k.count - 1) }
            var keys = Self.footerKeys
            if !m.variants.isEmpty { keys.insert(("tab", "focus"), at: keys.count - 3) }
            if m.split != nil { keys.insert(("c/C", "canary"), at: keys.count - 3) }
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
    }
}

/// ASCII stand-ins for the few non-ASCII characters in labels.
extension String {
    func replacingEllipsis(_ unicode: Bool) -> String { unicode ? self : split(separator: "…", omittingEmptySubsequences: false).joined(separator: "...") }
    func replacingDelta(_ unicode: Bool) -> String { unicode ? self : split(separator: "Δ", omittingEmptySubsequences: false).joined(separator: "d") }
    func replacingTimes(_ unicode: Bool) -> String { unicode ? self : split(separator: "×", omittingEmptySubsequences: false).joined(separator: " x") }
}
