import CicadaCore
import Foundation

/// The figures of one task (or the whole run) read from a JSON report.
struct RunFigures {
    var values: [String: Double]

    static let percentiles = RegressionBound.percentiles

    /// From a report's `latency_ms` object and its request/failure counts.
    init(latency: JSONValue?, requests: Double?, failures: Double?, qps: Double?) {
        values = [:]
        for (prefix, key) in [("", "corrected"), ("raw.", "raw")] {
            guard let h = latency?[key] else { continue }
            for p in Self.percentiles {
                let jsonKey = "p" + p.replacingOccurrences(of: ".", with: "_")
                if let v = h[jsonKey]?.double { values["\(prefix)p(\(p))"] = v }
            }
            if let v = h["mean"]?.double { values[prefix + "mean"] = v }
            if let v = h["max"]?.double { values[prefix + "max"] = v }
        }
        if let r = requests, r > 0, let f = failures { values["error_rate"] = f / r }
        if let q = qps { values["qps"] = q }
    }
}

/// Two runs of the same scenario side by side, and whether the new one regressed past bounds.
public struct RunDiff: Sendable {
    /// One compared figure.
    public struct Row: Sendable, Equatable {
        public var task: String
        public var figure: String
        public var base: Double?
        public var new: Double?
        /// The bound that applies, and whether the change broke it.
        public var bound: String?
        public var regressed: Bool
        /// The figure's confidence intervals, when the report carries them (the run's
        /// `confidence` or, for a task, `tasks[i].confidence`).
        public var baseInterval: ConfidenceInterval? = nil
        public var newInterval: ConfidenceInterval? = nil
        /// Whether the verdict compared intervals (both present) rather than single numbers.
        public var byInterval: Bool { baseInterval != nil && newInterval != nil }
    }
    public var rows: [Row]
    public var baseName: String
    public var newName: String
    /// Whether each report carries confidence intervals (`confidence` in its JSON).
    public var baseHasIntervals: Bool = false
    public var newHasIntervals: Bool = false

    /// Whether any bound was broken.
    public var regressed: Bool { rows.contains { $0.regressed } }

    /// Figures shown for each task (bounds may name any known figure).
    static let shown = ["p(50)", "p(95)", "p(99)", "p(99.9)", "max", "raw.p(99)", "error_rate", "qps"]

    /// Compares two JSON reports (`cicada.report/v1`) of the same scenario under `bounds`.
    public init(base baseText: String, new newText: String, bounds: [RegressionBound]) throws(RunDiffError) {
        func load(_ text: String, _ which: String) throws(RunDiffError) -> JSONValue {
            guard let v = JSONValue.parse(Array(text.utf8)), case .object = v else { throw RunDiffError("\(which): not a JSON document") }
            let schema = v["schema"]?.string ?? "(none)"
            guard schema == "cicada.report/v1" else { throw RunDiffError("\(which): schema \(schema); cicada diff compares cicada.report/v1 reports") }
            return v
        }
        let base = try load(baseText, "the baseline"), new = try load(newText, "the new report")
        baseName = base["scenario"]?.string ?? ""
        newName = new["scenario"]?.string ?? ""
        guard baseName == newName else {
            throw RunDiffError("the reports are of different scenarios ('\(baseName)' and '\(newName)'): a diff compares two runs of one scenario")
        }
        func figures(_ doc: JSONValue) -> [String: RunFigures] {
            var out: [String: RunFigures] = [:]
            let totals = doc["totals"]
            out[""] = RunFigures(latency: doc["latency_ms"], requests: totals?["requests"]?.double, failures: totals?["failures"]?.double, qps: totals?["qps"]?.double)
            for t in doc["tasks"]?.array ?? [] {
                guard let name = t["name"]?.string else { continue }
                out[name] = RunFigures(latency: t["latency_ms"], requests: t["requests"]?.double, failures: t["failures"]?.double, qps: t["qps"]?.double)
            }
            return out
        }
        let b = figures(base), n = figures(new)
        // Intervals by task ("" for the whole run): the run's `confidence` and each task's.
        func intervals(_ doc: JSONValue) -> [String: [String: ConfidenceInterval]] {
            var out = ["": ConfidenceReport.intervals(in: doc)]
            for t in doc["tasks"]?.array ?? [] {
                guard let name = t["name"]?.string else { continue }
                out[name] = ConfidenceReport.intervals(in: t)
            }
            return out
        }
        let baseCI = intervals(base), newCI = intervals(new)
        baseHasIntervals = baseCI.values.contains { !$0.isEmpty }; newHasIntervals = newCI.values.contains { !$0.isEmpty }
        for bound in bounds where bound.task != nil && b[bound.task!] == nil && n[bound.task!] == nil {
            throw RunDiffError("--max-regression '\(bound)': neither report has a task '\(bound.task!)'")
        }
        var rows: [Row] = []
        let tasks = [""] + (base["tasks"]?.array ?? []).compactMap { $0["name"]?.string }
            + (new["tasks"]?.array ?? []).compactMap { $0["name"]?.string }.filter { name in !(base["tasks"]?.array ?? []).contains { $0["name"]?.string == name } }
        for task in tasks {
            let applicable = bounds.filter { ($0.task ?? "") == task }
            var figuresHere = Self.shown
            for bound in applicable where !figuresHere.contains(bound.figure) { figuresHere.append(bound.figure) }
            for figure in figuresHere {
                let bv = b[task]?.values[figure], nv = n[task]?.values[figure]
                let bound = applicable.first { $0.figure == figure }
                // An interval that does not hold its report's own figure (a report edited by
                // hand, or figures from another run) is not trusted: single numbers then.
                func trusted(_ i: ConfidenceInterval?, _ v: Double?) -> ConfidenceInterval? {
                    guard let i, let v else { return nil }
                    let slack = 1e-6 * Swift.max(1, abs(v))
                    return i.lower - slack <= v && v <= i.upper + slack ? i : nil
                }
                // The same rule for the whole run and for a task: intervals when both sides carry them.
                let bi = trusted(baseCI[task]?[figure], bv), ni = trusted(newCI[task]?[figure], nv)
                rows.append(Row(task: task.isEmpty ? "Aggregated" : task, figure: figure, base: bv, new: nv, bound: bound?.description,
                                regressed: bound.map { Self.breaks($0, base: bv, new: nv, baseInterval: bi, newInterval: ni) } ?? false,
                                baseInterval: bi, newInterval: ni))
            }
        }
        self.rows = rows
    }

    /// Whether going from `base` to `new` breaks `bound`, comparing intervals when both are given.
    ///
    /// With both intervals, the new run is judged by its most favourable edge against the
    /// baseline's least favourable one: a figure that is worse when higher (latency, error rate)
    /// regresses only when NEW's lower bound exceeds BASE's upper bound by more than the bound
    /// (a percentage of BASE's upper bound, or milliseconds, or percentage points); `qps` mirrors
    /// it: NEW's upper bound below BASE's lower bound by more than the bound (a percentage of
    /// BASE's lower bound). Overlapping intervals never regress. Without both intervals, the
    /// single numbers are compared as ``breaks(_:base:new:)`` does.
    static func breaks(_ bound: RegressionBound, base: Double?, new: Double?, baseInterval: ConfidenceInterval?, newInterval: ConfidenceInterval?) -> Bool {
        guard base != nil, new != nil, let bi = baseInterval, let ni = newInterval else { return breaks(bound, base: base, new: new) }
        return bound.figure == "qps" ? breaks(bound, base: bi.lower, new: ni.upper) : breaks(bound, base: bi.upper, new: ni.lower)
    }

    /// Whether going from `base` to `new` breaks `bound`. A figure absent from either report
    /// breaks no bound (nothing measured to compare), but shows as absent.
    static func breaks(_ bound: RegressionBound, base: Double?, new: Double?) -> Bool {
        guard let b = base, let n = new else { return false }
        switch bound.limit {
        case .percent(let p):
            if bound.figure == "qps" { return b > 0 && (b - n) / b * 100 > p }
            return b > 0 ? (n - b) / b * 100 > p : n > 0
        case .millis(let ms): return n - b > ms
        case .points(let pts): return (n - b) * 100 > pts
        }
    }

    /// The side-by-side table: every task's figures, the change, and the verdict of each bound.
    public func text(plain: Bool = false) -> String {
        var t = TextTable([.left, .left, .right, .right, .right, .left])
        t.add(["Task", "Figure", "Baseline", "New", "Change", "Bound"])
        for r in rows {
            let mark = r.bound == nil ? "" : (r.regressed ? (plain ? "FAIL " : "✗ ") : (plain ? "PASS " : "✓ "))
            t.add([r.task, r.figure, Self.value(r.figure, r.base, r.baseInterval), Self.value(r.figure, r.new, r.newInterval), Self.change(r),
                   mark + (r.bound ?? "") + (r.bound != nil && r.byInterval ? " (intervals)" : "")])
        }
        var out = "cicada diff: \(baseName)\n" + t.lines(indent: "  ").joined(separator: "\n") + "\n"
        out += "\n" + basis + "\n"
        let broken = rows.filter(\.regressed)
        out += broken.isEmpty ? "\nNo bound broken.\n" : "\nREGRESSED: " + broken.map { "\($0.task) \($0.bound ?? $0.figure)" }.joined(separator: "; ") + "\n"
        return out
    }

    /// What the verdicts compared: intervals, or single numbers and why.
    public var basis: String {
        switch (baseHasIntervals, newHasIntervals) {
        case (true, true):
            return "Compared by confidence intervals where both reports have them (whole-run and task figures, marked (intervals)): a figure regresses only when the new interval's lower bound is past the baseline's upper bound by more than its bound (qps: the new upper bound below the baseline's lower bound); other figures compared as single numbers."
        case (false, false): return "Neither report carries confidence intervals: single numbers compared."
        case (false, true): return "The baseline carries no confidence intervals: single numbers compared."
        case (true, false): return "The new report carries no confidence intervals: single numbers compared."
        }
    }

    static func value(_ figure: String, _ v: Double?, _ i: ConfidenceInterval?) -> String {
        guard let v else { return "-" }
        guard let i else { return value(figure, v) }
        switch figure {
        case "error_rate": return value(figure, v) + String(format: " [%.2f, %.2f]", i.lower * 100, i.upper * 100)
        case "qps": return value(figure, v) + String(format: " [%.1f, %.1f]", i.lower, i.upper)
        default: return value(figure, v) + " [\(ConfidenceReport.number(i.lower)), \(ConfidenceReport.number(i.upper))]"
        }
    }

    static func value(_ figure: String, _ v: Double?) -> String {
        guard let v else { return "-" }
        switch figure {
        case "error_rate": return String(format: "%.2f%%", v * 100)
        case "qps": return String(format: "%.1f/s", v)
        default: return String(format: v >= 100 ? "%.1fms" : "%.2fms", v)
        }
    }

    static func change(_ r: Row) -> String {
        guard let b = r.base, let n = r.new else { return "-" }
        if r.figure == "error_rate" { return String(format: "%+.2f pt", (n - b) * 100) }
        guard b != 0 else { return n == 0 ? "0%" : "new" }
        return String(format: "%+.1f%%", (n - b) / b * 100)
    }
}
