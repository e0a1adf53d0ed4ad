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
    }
    public var rows: [Row]
    public var baseName: String
    public var newName: String

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
                rows.append(Row(task: task.isEmpty ? "Aggregated" : task, figure: figure, base: bv, new: nv, bound: bound?.description,
                                regressed: bound.map { Self.breaks($0, base: bv, new: nv) } ?? false))
            }
        }
        self.rows = rows
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
            t.add([r.task, r.figure, Self.value(r.figure, r.base), Self.value(r.figure, r.new), Self.change(r), mark + (r.bound ?? "")])
        }
        var out = "cicada diff: \(baseName)\n" + t.lines(indent: "  ").joined(separator: "\n") + "\n"
        let broken = rows.filter(\.regressed)
        out += broken.isEmpty ? "\nNo bound broken.\n" : "\nREGRESSED: " + broken.map { "\($0.task) \($0.bound ?? $0.figure)" }.joined(separator: "; ") + "\n"
        return out
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
