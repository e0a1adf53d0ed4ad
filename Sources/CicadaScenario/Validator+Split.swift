import CicadaCore
import CicadaEngine
import Foundation
import Yams

/// The `split:` block (a canary roll-out), read into CicadaCore's `SplitSpec`; embedded-engine
/// members' configurations go to ``Validator/splitEngines``.
extension Validator {
    static let splitKeys = ["targets", "verdict", "steps", "min_requests"]
    static let splitMemberKeys = ["name", "weight", "baseline", "target", "engine"]
    /// The figures a verdict may bound, with the ``RegressionBound`` figure each names.
    static let splitVerdictFigures: [(key: String, figure: String)] = [
        ("p50", "p(50)"), ("p90", "p(90)"), ("p95", "p(95)"), ("p99", "p(99)"), ("p99_9", "p(99.9)"),
        ("mean", "mean"), ("max", "max"), ("error_rate", "error_rate"),
    ]

    /// `split: {targets: [...], verdict: {...}, steps: [...]}`. `others` are the top-level keys
    /// present, since a split excludes `target`, `compare` and `sweep`.
    func splitSpec(_ key: Node, _ n: Node, others: [String: (key: Node, value: Node)]) -> SplitSpec? {
        guard let m = mapping(n, "split", allowed: Self.splitKeys) else { return nil }
        if let t = others["target"] {
            fail(t.key, "target", "a scenario with 'split' names its targets in split.targets; remove the top-level 'target'")
        }
        if let c = others["compare"] { fail(c.key, "compare", "'split' and 'compare' cannot be combined: a split divides one load between targets, a comparison gives each variant the whole load") }
        if let s = others["sweep"] { fail(s.key, "sweep", "'split' and 'sweep' cannot be combined: a sweep point is one configuration under load") }
        guard let tn = m["targets"] else {
            fail(n, "split.targets", "missing 'targets' (two or more, e.g. {name: stable, weight: 90, baseline: true, target: URL})"); return nil
        }
        guard let items = list(tn.value, "split.targets") else { return nil }
        var members: [SplitSpec.Member] = []
        var names = Set<String>()
        var baselines: [Node] = []
        for (i, item) in items.enumerated() {
            let ip = "split.targets[\(i)]"
            guard let mm = mapping(item, ip, allowed: Self.splitMemberKeys) else { continue }
            guard let nameNode = mm["name"], let name = string(nameNode.value, "\(ip).name") else { fail(item, ip, "a split target needs a 'name'"); continue }
            guard names.insert(name).inserted else { fail(nameNode.value, "\(ip).name", "duplicate split target name '\(name)'"); continue }
            var weight = 0
            if let w = mm["weight"] {
                if let s = w.value.scalar?.string, let v = Int(s), v > 0, v <= Self.maxWeight { weight = v } else {
                    fail(w.value, "\(ip).weight", "weight must be a whole number from 1 to \(Self.maxWeight) (its share of the load), found \(w.value.scalar.map { "'\($0.string)'" } ?? kind(w.value))")
                }
            } else {
                fail(item, "\(ip).weight", "a split target needs a 'weight' (its share of the load, e.g. 90 and 10)")
            }
            var isBaseline = false
            if let b = mm["baseline"], let v = bool(b.value, "\(ip).baseline") {
                isBaseline = v
                if v { baselines.append(b.value) }
            }
            var target: String?
            var summary: String?
            switch (mm["target"], mm["engine"]) {
            case (let t?, _?):
                fail(t.key, "\(ip).target", "a split target is either a 'target' URL or an 'engine' configuration, not both")
            case (let t?, nil):
                if let url = string(t.value, "\(ip).target") {
                    if let u = URL(string: url), let scheme = u.scheme, ["http", "https"].contains(scheme.lowercased()), u.host != nil {
                        target = url
                    } else {
                        fail(t.value, "\(ip).target", "'\(url)' is not an http:// or https:// URL")
                    }
                }
            case (nil, let e?):
                if let config = engineConfig(e.value, path: "\(ip).engine", base: engine ?? EngineConfig()) {
                    splitEngines[name] = config
                    target = Self.embeddedPlaceholder
                    summary = CompareSpec.Variant(name: name, kind: .engine(config)).summary
                }
            case (nil, nil):
                fail(item, ip, "a split target needs a 'target' URL or an 'engine' configuration (an embedded engine of its own)")
            }
            guard let target, weight > 0 else { continue }
            members.append(SplitSpec.Member(name: name, target: target, weight: weight, baseline: isBaseline, engineSummary: summary))
        }
        if items.count < 2 { fail(tn.value, "split.targets", "give at least two targets to split the load between (found \(items.count))") }
        if baselines.isEmpty, items.count >= 2 {
            fail(tn.value, "split.targets", "mark exactly one target 'baseline: true' (the stable release the others are judged against)")
        }
        for extra in baselines.dropFirst() {
            fail(extra, "split.targets", "more than one target has 'baseline: true'; mark exactly one (the stable release)")
        }

        var bounds: [RegressionBound] = []
        if let v = m["verdict"], let vm = mapping(v.value, "split.verdict", allowed: Self.splitVerdictFigures.map(\.key)) {
            for (key, figure) in Self.splitVerdictFigures {
                guard let node = vm[key] else { continue }
                let p = "split.verdict.\(key)"
                guard let text = string(node.value, p) else { continue }
                let t = text.trimmingCharacters(in: .whitespaces)
                let unitOK = key == "error_rate" ? t.hasSuffix("%") : (t.hasSuffix("%") || t.hasSuffix("ms"))
                guard t.hasPrefix("+"), unitOK, let bound = try? RegressionBound(parsing: "\(figure)=\(t)") else {
                    fail(node.value, p, key == "error_rate"
                         ? "expected how many percentage points the canary's error rate may exceed the baseline's, e.g. \"+1%\", found '\(text)'"
                         : "expected how much the canary's \(key) may exceed the baseline's, e.g. \"+10%\" or \"+20ms\", found '\(text)'")
                    continue
                }
                bounds.append(bound)
            }
        }

        var steps: [Int] = []
        if let s = m["steps"], let list = list(s.value, "split.steps") {
            for (i, item) in list.enumerated() {
                guard let v = int(item, "split.steps[\(i)]", min: 1) else { continue }
                if v > 100 { fail(item, "split.steps[\(i)]", "a step is the canary's share in percent (1..100), found \(v)"); continue }
                if let last = steps.last, v <= last { fail(item, "split.steps[\(i)]", "steps must rise (\(v) after \(last))"); continue }
                steps.append(v)
            }
            if list.isEmpty { fail(s.value, "split.steps", "give the canary's share at each step, e.g. [10, 25, 50, 100]") }
            if items.count != 2 { fail(s.key, "split.steps", "steps move one canary's weight; they need exactly two targets (found \(items.count))") }
        }
        var minRequests = SplitSpec.defaultMinRequests
        if let n = m["min_requests"], let v = int(n.value, "split.min_requests", min: 1) { minRequests = v }
        guard members.count == items.count, members.count >= 2, baselines.count == 1 else { return nil }
        return SplitSpec(members: members, bounds: bounds, steps: steps, minRequests: minRequests)
    }
}
