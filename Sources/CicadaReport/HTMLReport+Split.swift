import CicadaCore
import Foundation

/// The HTML report's section for a `split:` run (the JSON's `split`): figures per target and
/// the canary verdict with its bounds.
extension HTMLReport.Page {
    func split() -> String {
        guard let sp = doc["split"], let members = sp["members"]?.array, !members.isEmpty else { return "" }
        var rows = ""
        for m in members {
            let weight = m["weight"]?.double == m["final_weight"]?.double ? Self.int(m["weight"]) : "\(Self.int(m["weight"])) → \(Self.int(m["final_weight"]))"
            let cells = [m["name"]?.string ?? "", (m["baseline"]?.bool ?? false) ? "baseline" : "canary", weight,
                         Self.int(m["requests"]), m["share"]?.double.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                         Self.int(m["failures"]), m["error_rate"]?.double.map { String(format: "%.2f%%", $0 * 100) } ?? "-",
                         Self.ms(m["p50_ms"]?.double), Self.ms(m["p99_ms"]?.double), m["engine"]?.string ?? m["target"]?.string ?? ""]
            rows += "<tr>" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
        }
        var s = "<table><thead><tr><th>Target</th><th>Role</th><th>Weight</th><th>Requests</th><th>Share</th><th>Failures</th><th>Error rate</th><th>p50</th><th>p99</th><th>What</th></tr></thead><tbody>\n\(rows)</tbody></table>"
        let checks = sp["verdict"]?["checks"]?.array ?? []
        if checks.isEmpty {
            s += "<p class=\"dim\">No canary bounds (split.verdict) set.</p>"
        } else {
            // The run's verdict: the whole run's and every step's (older reports: the whole run's).
            let passed = sp["passed"]?.bool ?? sp["verdict"]?["passed"]?.bool ?? false
            s += "<p>Canary verdict: <b class=\"\(passed ? "pass" : "fail")\">\(passed ? "passed" : "FAILED")</b></p>"
            var crow = ""
            for c in checks {
                let ratio = c["unit"]?.string == "ratio"
                func v(_ x: JSONValue?) -> String { x?.double.map { ratio ? String(format: "%.2f%%", $0 * 100) : Self.ms($0) } ?? "no data" }
                let ok = c["passed"]?.bool
                crow += "<tr class=\"\(ok == false ? "fail" : "pass")\"><td>\(ok == nil ? "–" : (ok! ? "✓" : "✗"))</td><td>\(esc(c["member"]?.string ?? ""))</td><td><code>\(esc(c["bound"]?.string ?? ""))</code></td><td>\(esc(v(c["value"])))</td><td>\(esc(v(c["baseline"])))</td><td>\(esc(v(c["limit"])))</td></tr>\n"
            }
            s += "<table><thead><tr><th></th><th>Target</th><th>Bound</th><th>Measured</th><th>Baseline</th><th>Limit</th></tr></thead><tbody>\n\(crow)</tbody></table>"
        }
        s += splitSteps(sp)
        s += "<p class=\"dim\">Each request's target is chosen from the seed (a Weyl sequence), so the same seed sends the same requests to the canary; weight changes made live are in the events.</p>"
        return section("split", "Split (canary roll-out)", s)
    }

    /// The step windows (the JSON's `split.windows`), when the weights moved: per step and
    /// target its weight, requests, p99 and error rate, and the step's verdict.
    func splitSteps(_ sp: JSONValue) -> String {
        guard let windows = sp["windows"]?.array, windows.count > 1 else { return "" }
        var rows = ""
        for w in windows {
            let members = w["members"]?.array ?? []
            let state = w["verdict"]?["state"]?.string ?? ""
            let label = ["passed": "pass", "failed": "FAIL", "not_enough_data": "not enough data", "no_bounds": "no bounds"][state] ?? state
            let span = "\(w["start_s"]?.double.map { String(format: "%.1f", $0) } ?? "-")–\(w["end_s"]?.double.map { String(format: "%.1f s", $0) } ?? "end")"
            for (i, m) in members.enumerated() {
                let first = i == 0
                let cells = [first ? Self.int(w["step"]) : "", first ? span : "", m["name"]?.string ?? "", Self.int(m["weight"]), Self.int(m["requests"]),
                             Self.ms(m["p99_ms"]?.double), m["error_rate"]?.double.map { String(format: "%.2f%%", $0 * 100) } ?? "-", first ? label : ""]
                rows += "<tr class=\"\(state == "failed" ? "fail" : "pass")\">" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
            }
        }
        let min = Self.int(sp["min_requests"])
        return "<p>Each step judged alone (a check needs \(esc(min)) requests on each side):</p>"
            + "<table><thead><tr><th>Step</th><th>Time</th><th>Target</th><th>Weight</th><th>Requests</th><th>p99</th><th>Error rate</th><th>Verdict</th></tr></thead><tbody>\n\(rows)</tbody></table>"
    }
}
