import CicadaCore
#if canImport(Glibc)
import Glibc
#endif

/// The right-hand column: GPU memory, thresholds, engine, LLM, status codes and errors, events.
extension DashboardRenderer.Drawer {
    // MARK: Side panels

    func sidePanels(_ f: inout Frame, _ r: Rect) {
        var panels: [(natural: Int, draw: (inout Frame, Rect) -> Void)] = []
        if !m.diagnoses.isEmpty { panels.append((1 + min(6, m.diagnoses.map { diagnosisRows($0, width: r.w).rest == nil ? 1 : 2 }.reduce(0, +)), diagnoses)) }
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

    /// One line per diagnosis, newest first: when its rule first fired, severity, rule, symptom;
    /// a symptom too long for the line goes on in a second one (cut there), so figures at its
    /// end (`inconsistent_outputs`' count and where the answers part) show.
    func diagnoses(_ f: inout Frame, _ r: Rect) {
        title(&f, r, "Diagnoses", [("details in the summary", style(dim: true))])
        var y = r.y + 1
        for d in m.diagnoses where y < r.y + r.h {
            defer { y += 1 }
            let at = d.firedAtSeconds.map { "\(Int($0))s " } ?? ""
            var x = f.put(at, x: r.x + 1, y: y, style: style(dim: true), maxWidth: r.w - 1)
            let critical = d.severity == .critical
            x = f.put(critical ? (u ? "✗ " : "x ") : (u ? "⚠ " : "! "), x: x, y: y, style: style(critical ? .red : .yellow, bold: true), maxWidth: r.maxX - x)
            x = f.put(d.rule, x: x, y: y, style: style(critical ? .red : .yellow, bold: true), maxWidth: r.maxX - x)
            let rows = diagnosisRows(d, width: r.w)
            f.put(": " + rows.first, x: x, y: y, maxWidth: r.maxX - x)
            if let rest = rows.rest, y + 1 < r.y + r.h {
                y += 1
                f.put(rest, x: r.x + 3, y: y, maxWidth: r.w - 3)
            }
        }
    }

    /// A diagnosis's symptom split at a word for a panel `width` wide: what fits on its first
    /// line after the time, mark and rule, and the rest (nil when it all fits).
    func diagnosisRows(_ d: Diagnosis, width: Int) -> (first: String, rest: String?) {
        let at = d.firedAtSeconds.map { "\(Int($0))s " } ?? ""
        let room = width - 1 - at.count - 2 - d.rule.count - 2
        guard room > 0, d.symptom.count > room else { return (d.symptom, nil) }
        let lines = DashboardRenderer.wrap(d.symptom, width: room)
        guard let first = lines.first, lines.count > 1 else { return (d.symptom, nil) }
        return (first, lines.dropFirst().joined(separator: " "))
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
            // A threshold judged on part of the shards has no verdict: neither a pass nor a fail.
            let mark = t.noVerdict != nil ? (u ? "?" : "N/A") : t.passed ? (u ? "✓" : "PASS") : (u ? "✗" : "FAIL")
            var x = f.put(mark, x: r.x + 1, y: y, style: t.noVerdict != nil ? style(.yellow, bold: true) : t.passed ? style(.green, bold: true) : style(.red, bold: true))
            x += 1
            let measured = t.measuredText
            let mx = max(x + 6, r.maxX - measured.count)
            f.put(t.threshold.spec.expression, x: x, y: y, maxWidth: mx - 1 - x)
            f.put(measured, x: mx, y: y, style: t.passed || t.noVerdict != nil ? .plain : style(.red), maxWidth: r.maxX - mx)
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
        let kv = e.kvCacheUsage.map { Format.number($0 * 100, digits: 1) + "%" } ?? "-"
        let first: [(String, Style)] = e.maxNumSeqs.map { seqs in
            [(narrow ? "seqs \(seqs)  KV \(kv)" : "continuous: max_num_seqs \(seqs)  KV cache \(kv)", .plain)]
        } ?? [(narrow ? "max \(e.maxBatchSize)  pref \(pref)  delay \(delay)" : "max batch \(e.maxBatchSize)  preferred \(pref)  delay \(delay)", .plain)]
        var caches = narrow ? "queue \(e.queueSize)  avg \(avg)  hit \(hit)" : "queue \(e.queueSize)  avg batch \(avg)  cache hit \(hit)"
        if let l2 = e.l2HitRate { caches += "  L2 " + Format.number(l2 * 100, digits: 1) + "%" }
        if let p = e.prefixHitRate { caches += (narrow ? "  prefix " : "  prefix cache ") + Format.number(p * 100, digits: 1) + "%" }
        let lines: [[(String, Style)]] = [
            first,
            [(caches, .plain)],
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
        // Every kind the status codes above do not already show (so a new kind is never hidden).
        for kind in FailureKind.allCases where ![.http4xx, .http5xx, .httpOther].contains(kind) {
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
}
