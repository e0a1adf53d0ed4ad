import CicadaCore

/// What a sweep concludes: each configuration's sustainable throughput, the Pareto front of
/// latency against throughput, and a recommendation with its reason. Pure: computed from points.
public struct SweepAnalysis: Sendable {
    /// The highest load level a configuration held its objectives at (nil when it held none).
    public struct Sustainable: Sendable, Equatable {
        public var preset: String
        /// The level: an arrival rate, or a user count for a concurrency sweep.
        public var rate: Double?
        public var p99Millis: Double?
        /// Requests per second at that level: the offered rate (held, so served) for an
        /// arrival-rate sweep, the achieved rate for a concurrency sweep.
        public var throughput: Double?
    }

    public let points: [SweepPoint]
    public let p99SLOMillis: Double
    public let maxErrorRate: Double
    public let sustainable: [Sustainable]
    /// Points no other point beats on both throughput (higher) and p99 (lower), among those that
    /// answered (out-of-memory and error points excluded), by ascending throughput.
    public let paretoFront: [SweepPoint]
    /// The preset to use, or nil when none held the objectives.
    public let recommendation: String?
    /// Why, in one sentence.
    public let reason: String

    public init(points: [SweepPoint], p99SLOMillis: Double, maxErrorRate: Double) {
        self.points = points
        self.p99SLOMillis = p99SLOMillis
        self.maxErrorRate = maxErrorRate
        var order: [String] = []
        for p in points where !order.contains(p.preset) { order.append(p.preset) }
        let sus = order.map { preset -> Sustainable in
            let held = points.filter { $0.preset == preset && $0.verdict(p99Millis: p99SLOMillis, maxErrorRate: maxErrorRate) == .holds }
            let best = held.max { $0.rate < $1.rate }
            return Sustainable(preset: preset, rate: best?.rate, p99Millis: best?.p99Millis,
                               throughput: best.map { $0.axis == .rate ? $0.rate : $0.achievedQPS })
        }
        sustainable = sus
        let answered = points.filter {
            let v = $0.verdict(p99Millis: p99SLOMillis, maxErrorRate: maxErrorRate)
            return (v == .holds || v == .slow) && $0.p99Millis != nil
        }
        paretoFront = answered.filter { p in
            !answered.contains { q in
                q.achievedQPS >= p.achievedQPS && q.p99Millis! <= p.p99Millis! && (q.achievedQPS > p.achievedQPS || q.p99Millis! < p.p99Millis!)
            }
        }.sorted { $0.achievedQPS < $1.achievedQPS }
        // The highest sustainable throughput wins; ties go to the lower p99 there.
        let ranked = sus.filter { $0.throughput != nil }.sorted {
            $0.throughput! != $1.throughput! ? $0.throughput! > $1.throughput! : ($0.p99Millis ?? .infinity) < ($1.p99Millis ?? .infinity)
        }
        let concurrency = points.first?.axis == .concurrency
        func at(_ s: Sustainable) -> String {
            concurrency ? "\(Format.number(s.throughput!, digits: 0)) req/s (at \(Format.number(s.rate!, digits: 0)) users)" : "\(Format.number(s.throughput!, digits: 0)) req/s"
        }
        if let best = ranked.first {
            recommendation = best.preset
            let slo = Format.number(p99SLOMillis, digits: 0)
            if ranked.count > 1, let second = ranked.dropFirst().first, let r2 = second.throughput, r2 == best.throughput! {
                reason = "\(best.preset) and \(second.preset) both sustain \(at(second)) under the \(Format.number(p99SLOMillis, digits: 0)) ms objective; \(best.preset) does it with the lower p99 (\(Format.millis(best.p99Millis ?? 0)) against \(Format.millis(second.p99Millis ?? 0)))"
            } else if ranked.count > 1, let second = ranked.dropFirst().first, let r2 = second.throughput {
                reason = "\(best.preset) sustains \(at(best)) with p99 \(Format.millis(best.p99Millis ?? 0)) under the \(slo) ms objective, \(Format.number(best.throughput! / r2, digits: 2))x the next best (\(second.preset), \(at(second)))"
            } else {
                reason = "\(best.preset) is the only configuration that held p99 < \(slo) ms (\(at(best)))"
            }
        } else {
            recommendation = nil
            reason = "no configuration held p99 < \(Format.number(p99SLOMillis, digits: 0)) ms and errors <= \(Format.number(maxErrorRate * 100, digits: 1))% at any level tried; try lower ones"
        }
    }

    /// The sweep as a text table, the sustainable throughputs, the recommendation and an ASCII
    /// chart of p99 against offered rate per preset.
    public func text() -> String {
        var lines = ["SWEEP (p99 objective \(Format.number(p99SLOMillis, digits: 0)) ms, errors <= \(Format.number(maxErrorRate * 100, digits: 1))%)"]
        let levelHeader = points.first?.axis == .concurrency ? " users" : "rate/s"
        // The consistency probe's column only when the scenario has one.
        let probed = points.contains { $0.consistency != nil }
        lines.append("  configuration     " + levelHeader + "   achieved/s        p50         p99   errors  avg batch* memory*  stable"
            + (probed ? "  inconsistent" : "") + "   verdict")
        for p in points {
            let v = p.verdict(p99Millis: p99SLOMillis, maxErrorRate: maxErrorRate)
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
            let stable = p.stable.map { $0 ? "yes" : "no" } ?? "-"
            let name = p.preset.count > 16 ? String(p.preset.prefix(15)) + "…" : p.preset
            lines.append("  " + name.padding(toLength: 16, withPad: " ", startingAt: 0)
                + pad(Format.number(p.rate, digits: 0), 8) + pad(Format.number(p.achievedQPS, digits: 1), 13)
                + pad(p.p50Millis.map(Format.millis) ?? "-", 11) + pad(p.p99Millis.map(Format.millis) ?? "-", 12)
                + pad(p.errorRate.map { Format.number($0 * 100, digits: 1) + "%" } ?? "-", 9)
                + pad(p.averageBatchSize.map { Format.number($0, digits: 1) } ?? "-", 11)
                + pad(p.memoryFraction.map { Format.number($0 * 100, digits: 0) + "%" } ?? "-", 8) + pad(stable, 8)
                + (probed ? pad(p.consistency.map(SweepReport.probeCell) ?? "-", 14) : "") + "   " + v.rawValue)
        }
        if probed {
            lines.append("  inconsistent: probe answers that differed from the point's first / answers compared (the same request, `consistency:`)")
        }
        if points.contains(where: { $0.averageBatchSize != nil || $0.memoryFraction != nil }) {
            lines.append("  * modelled by the embedded engine's device model (mean batch size, peak device memory)")
        }
        lines.append("")
        lines.append("SUSTAINABLE THROUGHPUT (highest level holding the objectives)")
        let concurrency = points.first?.axis == .concurrency
        for s in sustainable {
            let held = s.throughput.map { t in
                (concurrency ? "\(Format.number(t, digits: 1)) req/s at \(Format.number(s.rate ?? 0, digits: 0)) users" : "\(Format.number(t, digits: 0)) req/s")
                    + " (p99 \(Format.millis(s.p99Millis ?? 0)))"
            }
            lines.append("  \(s.preset): " + (held ?? "none of the levels tried"))
        }
        lines.append("")
        lines.append("PARETO FRONT (throughput vs p99): " + paretoFront.map { "\($0.preset)@\(Format.number($0.rate, digits: 0))" }.joined(separator: ", "))
        lines.append("RECOMMENDATION: " + (recommendation ?? "none") + " — " + reason)
        lines.append("")
        lines += chart()
        return lines.joined(separator: "\n") + "\n"
    }

    /// p99 (log scale, rows) against load level (columns), one letter per configuration; `-` marks the
    /// objective; out-of-memory points are `!`.
    func chart(width: Int = 60, height: Int = 12) -> [String] {
        let rates = Array(Set(points.map(\.rate))).sorted()
        let p99s = points.compactMap(\.p99Millis).filter { $0 > 0 }
        guard !rates.isEmpty, let lo0 = p99s.min(), let hi0 = p99s.max() else { return ["(no latency to chart)"] }
        let lo = log10(min(lo0, p99SLOMillis) * 0.8), hi = log10(max(hi0, p99SLOMillis) * 1.25)
        var grid = Array(repeating: Array(repeating: Character(" "), count: width), count: height)
        func row(_ ms: Double) -> Int { height - 1 - Int(((log10(ms) - lo) / (hi - lo) * Double(height - 1)).rounded()) }
        func col(_ r: Double) -> Int { rates.count == 1 ? width / 2 : Int((Double(rates.firstIndex(of: r)!) / Double(rates.count - 1) * Double(width - 1)).rounded()) }
        let sloRow = row(p99SLOMillis)
        if (0..<height).contains(sloRow) { for x in 0..<width { grid[sloRow][x] = "-" } }
        var order: [String] = []
        for p in points where !order.contains(p.preset) { order.append(p.preset) }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for p in points {
            let letter = letters[(order.firstIndex(of: p.preset) ?? 0) % letters.count]
            if p.outOfMemory > 0 { grid[height - 1][col(p.rate)] = "!"; continue }
            guard let ms = p.p99Millis, ms > 0 else { continue }
            let y = max(0, min(height - 1, row(ms)))
            grid[y][col(p.rate)] = letter
        }
        let unit = points.first?.axis == .concurrency ? "users" : "req/s"
        var out = ["p99 (log) by \(unit == "users" ? "concurrency" : "offered rate"); '-' is the objective, '!' out of memory"]
        for (i, r) in grid.enumerated() {
            let label = i == 0 ? Format.millis(pow(10, hi)) : i == height - 1 ? Format.millis(pow(10, lo)) : ""
            out.append(label.padding(toLength: 10, withPad: " ", startingAt: 0) + "|" + String(r))
        }
        out.append(String(repeating: " ", count: 10) + "+" + String(repeating: "-", count: width))
        out.append(String(repeating: " ", count: 11) + "\(Format.number(rates.first!, digits: 0)) .. \(Format.number(rates.last!, digits: 0)) \(unit)")
        out.append("  " + order.enumerated().map { "\(letters[$0.offset % letters.count]) = \($0.element)" }.joined(separator: "  "))
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
