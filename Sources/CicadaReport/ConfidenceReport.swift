import CicadaCore
import Foundation

/// The confidence intervals and per-repetition figures of a run (`--repeat K`): summary lines,
/// Markdown, the JSON report's `confidence` and `repetitions`, and the HTML section.
///
/// A figure reads `p99 41.2 ms [39.8, 43.0]`: the run's own value, then the interval's bounds
/// in the same unit.
public enum ConfidenceReport {
    /// `41.2 ms [39.8, 43.0]` style text for one figure's value and interval.
    public static func figure(_ name: String, point: Double, interval: ConfidenceInterval) -> String {
        let shown = label(name)
        switch name {
        case "qps": return "\(shown) \(number(point))/s [\(number(interval.lower)), \(number(interval.upper))]"
        case "error_rate": return "\(shown) \(number(point * 100))% [\(number(interval.lower * 100)), \(number(interval.upper * 100))]"
        default: return "\(shown) \(number(point)) ms [\(number(interval.lower)), \(number(interval.upper))]"
        }
    }

    /// A figure's name as the summary shows it: `p(99)` as `p99`, `raw.p(99)` as `raw.p99`.
    public static func label(_ name: String) -> String {
        name.replacingOccurrences(of: "p(", with: "p").replacingOccurrences(of: ")", with: "")
    }

    /// Three significant digits at most, never fewer than one decimal below 100.
    static func number(_ v: Double) -> String {
        let a = abs(v)
        if a >= 100 { return String(format: "%.1f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        if a >= 1 { return String(format: "%.2f", v) }
        return String(format: "%.3f", v)
    }

    /// How the intervals were made, in one sentence.
    public static func method(_ c: FigureIntervals) -> String {
        let level = Int((c.level * 100).rounded())
        let windows = "\(c.windows) \(c.secondsPerWindow == 1 ? "one-second" : "\(c.secondsPerWindow)-second") windows"
        let how = c.method == "two-stage-bootstrap"
            ? "two-stage bootstrap (\(c.repetitions) repetitions drawn with replacement, then each one's windows in moving blocks of \(c.blockWindows)) over \(windows)"
            : "moving block bootstrap (blocks of \(c.blockWindows)) over \(windows)"
        return "\(level)% intervals: \(how), \(c.resamples) resamples, seed \(c.seed)"
    }

    /// The figures with intervals, in report order, with their point values.
    static func rows(_ r: RunResult) -> [(name: String, point: Double, interval: ConfidenceInterval)] {
        rows(r.intervals, points: FigureIntervals.points(of: r.snapshot))
    }

    /// Task `index`'s figures with intervals, in report order, with their point values.
    static func taskRows(_ r: RunResult, index i: Int) -> [(name: String, point: Double, interval: ConfidenceInterval)] {
        let snap = r.snapshot
        guard snap.perStat.indices.contains(i) else { return [] }
        return rows(r.taskInterval(i), points: FigureIntervals.points(of: snap.perStat[i], qps: snap.qps(of: i)))
    }

    static func rows(_ c: FigureIntervals?, points: [String: Double]) -> [(name: String, point: Double, interval: ConfidenceInterval)] {
        guard let c else { return [] }
        return FigureIntervals.figureOrder.compactMap { name in
            guard let i = c.figures[name], let p = points[name] else { return nil }
            return (name, p, i)
        }
    }

    /// Summary lines (with a trailing newline), or nil when the run has no intervals.
    public static func text(_ r: RunResult) -> String? {
        guard let c = r.intervals else { return nil }
        var s = ""
        if !r.repetitions.isEmpty {
            s += "Repetitions (\(r.repetitions.count), seed \(r.repetitions[0].seed) each; the figures above pool them):\n"
            var t = TextTable([.right, .right, .right, .right, .right, .right, .right, .left])
            t.add(["#", "Requests", "Req/s", "Errors", "p50", "p99", "raw p99", "Stop"])
            for x in r.repetitions {
                t.add([String(x.index), String(x.requests), x.qps.map { Format.number($0, digits: 1) } ?? "-",
                       x.errorRate.map { Format.number($0 * 100, digits: 2) + "%" } ?? "-",
                       ms(x.p50Millis), ms(x.p99Millis), ms(x.rawP99Millis), ReportText.code(x.stopReason)])
            }
            s += t.lines(indent: "  ").joined(separator: "\n") + "\n\n"
        }
        s += "Confidence (\(method(c))):\n"
        let rows = rows(r)
        if rows.isEmpty { s += "  no figure had enough data for an interval\n" }
        var line = "", count = 0
        for row in rows {
            line += (count == 0 ? "  " : "   ") + figure(row.name, point: row.point, interval: row.interval)
            count += 1
            if count == 3 { s += line + "\n"; line = ""; count = 0 }
        }
        if !line.isEmpty { s += line + "\n" }
        // Per task, when there are several (with one, its figures are the run's): the figures
        // a task-level bound is most often about.
        let snap = r.snapshot
        if snap.perStat.count > 1 {
            var t = TextTable([.left, .left, .left, .left])
            for i in snap.perStat.indices {
                let rows = taskRows(r, index: i)
                guard !rows.isEmpty else { continue }
                let name = i < snap.names.count ? snap.names[i] : "#\(i)"
                func cell(_ figure: String) -> String {
                    guard let row = rows.first(where: { $0.name == figure }) else { return "-" }
                    return self.figure(row.name, point: row.point, interval: row.interval)
                }
                t.add([name, cell("p(99)"), cell("qps"), cell("error_rate")])
            }
            let lines = t.lines(indent: "    ")
            if !lines.isEmpty { s += "  per task:\n" + lines.joined(separator: "\n") + "\n" }
        }
        return s
    }

    static func ms(_ v: Double?) -> String { v.map { number($0) + " ms" } ?? "-" }

    /// Markdown lines for the CI summary, or empty when the run has no intervals.
    public static func markdown(_ r: RunResult) -> [String] {
        guard let c = r.intervals else { return [] }
        var lines = ["", "**Confidence** (\(method(c)))", "", "| Figure | Value [interval] |", "|---|--:|"]
        for row in rows(r) {
            let text = figure(row.name, point: row.point, interval: row.interval)
            lines.append("| `\(row.name)` | \(text.dropFirst(label(row.name).count + 1)) |")
        }
        if !r.repetitions.isEmpty {
            lines += ["", "| Repetition | Requests | Req/s | Errors | p50 | p99 |", "|--:|--:|--:|--:|--:|--:|"]
            for x in r.repetitions {
                lines.append("| \(x.index) | \(x.requests) | \(x.qps.map { Format.number($0, digits: 1) } ?? "-") | \(x.errorRate.map { Format.number($0 * 100, digits: 2) + "%" } ?? "-") | \(ms(x.p50Millis)) | \(ms(x.p99Millis)) |")
            }
        }
        return lines
    }

    /// The JSON report's `confidence`: null without intervals.
    static func json(_ r: RunResult) -> JSONOut {
        guard let c = r.intervals else { return .null }
        return .object([
            ("level", .number(c.level)),
            ("method", .string(c.method)),
            ("resamples", .integer(UInt64(max(0, c.resamples)))),
            ("seed", .integer(c.seed)),
            ("repetitions", .integer(UInt64(max(0, c.repetitions)))),
            ("windows", .integer(UInt64(max(0, c.windows)))),
            ("seconds_per_window", .integer(UInt64(max(0, c.secondsPerWindow)))),
            ("block_windows", .integer(UInt64(max(0, c.blockWindows)))),
            ("figures", figuresJSON(rows(r))),
        ])
    }

    /// A task's `confidence` in the JSON report (`tasks[i].confidence`): `windows` and
    /// `figures` as the run's (the method, level, resamples and seed are the run's); null when
    /// the task has no intervals.
    static func taskJSON(_ r: RunResult, index i: Int) -> JSONOut {
        guard let c = r.taskInterval(i) else { return .null }
        return .object([
            ("windows", .integer(UInt64(max(0, c.windows)))),
            ("figures", figuresJSON(taskRows(r, index: i))),
        ])
    }

    static func figuresJSON(_ rows: [(name: String, point: Double, interval: ConfidenceInterval)]) -> JSONOut {
        .object(rows.map { row in
            (row.name, .object([("point", .precise(row.point)), ("lower", .precise(row.interval.lower)), ("upper", .precise(row.interval.upper))]))
        })
    }

    /// The JSON report's `repetitions`: empty for a single run.
    static func repetitionsJSON(_ r: RunResult) -> JSONOut {
        .array(r.repetitions.map { x in
            .object([
                ("index", .integer(UInt64(max(0, x.index)))),
                ("seed", .integer(x.seed)),
                ("requests", .integer(x.requests)),
                ("failures", .integer(x.failures)),
                ("duration_s", .number(x.measuredSeconds)),
                ("qps", .number(x.qps)),
                ("error_rate", .precise(x.errorRate)),
                ("latency_ms", .object([
                    ("p50", .number(x.p50Millis)), ("p90", .number(x.p90Millis)), ("p95", .number(x.p95Millis)),
                    ("p99", .number(x.p99Millis)), ("mean", .number(x.meanMillis)), ("raw_p99", .number(x.rawP99Millis)),
                ])),
                ("stop_reason", .string(ReportText.code(x.stopReason))),
            ])
        })
    }

    /// A report's intervals read back from its JSON (`confidence.figures`); empty when it has
    /// none. Given a `tasks[]` element, that task's (`tasks[i].confidence.figures`).
    public static func intervals(in doc: JSONValue) -> [String: ConfidenceInterval] {
        guard case .object(let pairs)? = doc["confidence"]?["figures"] else { return [:] }
        var out: [String: ConfidenceInterval] = [:]
        for (name, v) in pairs {
            guard let lo = v["lower"]?.double, let hi = v["upper"]?.double else { continue }
            out[name] = ConfidenceInterval(lower: lo, upper: hi)
        }
        return out
    }
}
