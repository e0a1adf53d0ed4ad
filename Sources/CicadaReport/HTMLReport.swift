import CicadaCore
import Foundation

/// Why a JSON report could not be made into HTML.
public struct HTMLReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A self-contained HTML report built from a JSON report (`cicada.report/v1`).
///
/// One file, no network: inline CSS, SVG charts drawn here, light and dark themes through
/// `prefers-color-scheme`, a print layout, and a data table under every chart. The JSON report
/// itself is embedded in a `<script type="application/json" id="cicada-report">` block, so the
/// page is also the data. Being a function of the JSON, the same code serves `--html` and
/// `cicada report RUN.json --html FILE`. Long series are downsampled for drawing (each drawn
/// point keeps the highest value of the seconds it stands for); percentiles are the report's own.
public enum HTMLReport {
    /// The most points a chart draws.
    public static let maxChartPoints = 600

    /// The page for `json`, the text of a JSON report.
    public static func render(json: String) throws(HTMLReportError) -> String {
        guard let doc = JSONValue.parse(Array(json.utf8)) else { throw HTMLReportError("not a JSON document") }
        guard case .object = doc else { throw HTMLReportError("not a JSON object") }
        let schema = doc["schema"]?.string ?? "(none)"
        switch schema {
        case "cicada.report/v1": return Page(doc: doc, json: json).html()
        case "cicada.compare/v1": return ComparePage(doc: doc, json: json).html()
        case "cicada.sweep/v1": return SweepPage(doc: doc, json: json).html()
        default:
            throw HTMLReportError("schema \(schema) is not supported (HTML is made from cicada.report/v1, cicada.compare/v1 and cicada.sweep/v1)")
        }
    }

    struct Page {
        let doc: JSONValue
        let json: String

        func html() -> String {
            let name = doc["scenario"]?.string ?? "run"
            var body = ""
            body += verdict()
            body += diagnoses()
            body += facts()
            body += kpis()
            body += confidence()
            body += timeSeries()
            body += distributions()
            body += tasks()
            body += breakdown()
            body += split()
            body += statusAndErrors()
            body += validity()
            return HTMLReport.shell(title: name, heading: "cicada: \(esc(name))",
                                    sub: "\(esc(doc["target"]?.string ?? "")) · \(esc(doc["model"]?.string ?? "")) · \(esc(doc["started_at"]?.string ?? ""))",
                                    body: body, footer: "Made by cicada from its JSON report, which is embedded in this page (<code>#cicada-report</code>). Latency is timed from each request's intended start (corrected for coordinated omission) unless marked raw.",
                                    json: json)
        }

        // MARK: Sections

        func section(_ id: String, _ title: String, _ content: String) -> String {
            "<section id=\"\(id)\"><h2>\(esc(title))</h2>\n\(content)\n</section>\n"
        }

        func verdict() -> String {
            let passed = doc["passed"]?.bool ?? false
            let stop = doc["stop_reason"]?.string ?? "completed"
            let ok = passed && stop == "completed"
            var s = "<div class=\"verdict \(ok ? "pass" : "fail")\">\(ok ? "PASSED" : "FAILED")"
            s += stop == "completed" ? "" : " <span>(\(esc(stop))\(doc["abort_threshold"]?.string.map { ": \(esc($0))" } ?? ""))</span>"
            s += "</div>\n"
            let thresholds = doc["thresholds"]?.array ?? []
            if thresholds.isEmpty { return section("verdict", "Verdict", s + "<p class=\"dim\">No thresholds.</p>") }
            var rows = ""
            for t in thresholds {
                let expr = t["expression"]?.string ?? ""
                let pass = t["passed"]?.bool ?? false
                let limit = Self.limit(of: expr)
                let measured = t["measured"]?.double
                let unit = t["unit"]?.string ?? ""
                var margin = "-"
                if let m = measured, let l = limit?.value, l != 0 {
                    let rel = (l - m) / abs(l) * 100
                    margin = String(format: "%+.1f%%", limit?.below == true ? rel : -rel)
                }
                rows += "<tr class=\"\(pass ? "pass" : "fail")\"><td>\(pass ? "✓" : "✗")</td><td><code>\(esc(expr))</code></td><td>\(esc(t["measured_text"]?.string ?? "no data"))</td><td>\(limit.map { unit == "ratio" ? Self.number($0.value * 100) + "%" : esc(Self.number($0.value)) + " " + esc(unit) } ?? "-")</td><td>\(margin)</td></tr>\n"
            }
            let table = "<table><thead><tr><th></th><th>Rule</th><th>Measured</th><th>Limit</th><th>Margin</th></tr></thead><tbody>\n\(rows)</tbody></table>"
            return section("verdict", "Verdict and thresholds", s + table + "<p class=\"dim\">Margin: how far the measured value is inside its limit (negative: past it).</p>")
        }

        func diagnoses() -> String {
            let ds = doc["diagnoses"]?.array ?? []
            guard !ds.isEmpty else { return "" }
            var s = "<ul class=\"diagnoses\">\n"
            for d in ds {
                let critical = d["severity"]?.string == "critical"
                s += "<li class=\"\(critical ? "critical" : "warning")\"><b>\(esc(d["rule"]?.string ?? ""))</b>: \(esc(d["symptom"]?.string ?? ""))"
                s += "<dl><dt>Evidence</dt><dd>\((d["evidence"]?.array ?? []).compactMap(\.string).map(esc).joined(separator: "<br>"))</dd>"
                s += "<dt>Likely cause</dt><dd>\(esc(d["cause"]?.string ?? ""))</dd><dt>Fix</dt><dd>\(esc(d["action"]?.string ?? ""))</dd></dl></li>\n"
            }
            return section("diagnoses", "Diagnoses", s + "</ul>")
        }

        func facts() -> String {
            var rows: [(String, String)] = [
                ("Scenario", doc["scenario"]?.string ?? ""), ("Target", doc["target"]?.string ?? ""), ("Load", doc["model"]?.string ?? ""),
                ("Started", doc["started_at"]?.string ?? ""), ("Duration", (doc["duration_s"]?.double).map { String(format: "%.1f s", $0) } ?? "-"),
                ("Stop", doc["stop_reason"]?.string ?? ""), ("Workers", Self.int(doc["workers"])),
                ("Generator CPU", (doc["generator_cpu_s"]?.double).map { String(format: "%.1f s", $0) } ?? "-"),
            ]
            if let t = doc["telemetry"], case .object = t {
                for g in t["gpus"]?.array ?? [] where g["modelled"]?.bool == true {
                    rows.append(("GPU (modelled)", g["name"]?.string ?? ""))
                }
            }
            let tr = rows.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined(separator: "\n")
            return section("facts", "Run", "<table class=\"facts\">\n\(tr)\n</table>")
        }

        func kpis() -> String {
            let totals = doc["totals"]
            let corrected = doc["latency_ms"]?["corrected"], raw = doc["latency_ms"]?["raw"]
            var cards: [(String, String)] = [
                ("Requests/s", totals?["qps"]?.double.map { String(format: "%.1f", $0) } ?? "-"),
                ("Error rate", totals?["error_rate"]?.double.map { String(format: "%.2f%%", $0 * 100) } ?? "-"),
                ("p50", Self.ms(corrected?["p50"]?.double)), ("p99", Self.ms(corrected?["p99"]?.double)),
                ("p50 raw", Self.ms(raw?["p50"]?.double)), ("p99 raw", Self.ms(raw?["p99"]?.double)),
            ]
            if let llm = doc["llm"], case .object = llm {
                cards.append(("Output tokens/s", llm["output_throughput"]?.double.map { String(format: "%.1f", $0) } ?? "-"))
                if let g = llm["request_goodput"]?.double { cards.append(("Goodput req/s", String(format: "%.2f", g))) }
            }
            // With intervals, a card's value carries its interval: `41.2 ms [39.8, 43.0]`.
            let intervals = ConfidenceReport.intervals(in: doc)
            let figureOf = ["Requests/s": "qps", "Error rate": "error_rate", "p50": "p(50)", "p99": "p(99)", "p50 raw": "raw.p(50)", "p99 raw": "raw.p(99)"]
            cards = cards.map { card in
                guard let name = figureOf[card.0], let i = intervals[name] else { return card }
                let scale = name == "error_rate" ? 100.0 : 1
                return (card.0, card.1 + " [\(ConfidenceReport.number(i.lower * scale)), \(ConfidenceReport.number(i.upper * scale))]")
            }
            let html = cards.map { "<div class=\"card\"><div class=\"v\">\(esc($0.1))</div><div class=\"k\">\(esc($0.0))</div></div>" }.joined()
            return section("kpis", "Key figures", "<div class=\"cards\">\(html)</div>")
        }

        /// The confidence intervals and repetitions, when the report carries them (`--repeat`).
        func confidence() -> String {
            guard let c = doc["confidence"], case .object = c else { return "" }
            let intervals = ConfidenceReport.intervals(in: doc)
            var rows = ""
            for name in FigureIntervals.figureOrder {
                guard let i = intervals[name], let p = c["figures"]?[name]?["point"]?.double else { continue }
                let text = ConfidenceReport.figure(name, point: p, interval: i)
                rows += "<tr><td><code>\(esc(name))</code></td><td>\(esc(String(text.dropFirst(ConfidenceReport.label(name).count + 1))))</td></tr>\n"
            }
            let level = Self.int(.number((c["level"]?.double ?? 0.95) * 100))
            var s = "<p class=\"dim\">\(level)% intervals: \(esc(c["method"]?.string ?? "")) over \(Self.int(c["windows"])) windows of \(Self.int(c["seconds_per_window"])) s (blocks of \(Self.int(c["block_windows"]))), \(Self.int(c["repetitions"])) repetition(s), \(Self.int(c["resamples"])) resamples, seed \(Self.int(c["seed"])).</p>"
            s += "<table><thead><tr><th>Figure</th><th>Value [interval]</th></tr></thead><tbody>\n\(rows)</tbody></table>"
            let reps = doc["repetitions"]?.array ?? []
            if !reps.isEmpty {
                var r = ""
                for x in reps {
                    let lat = x["latency_ms"]
                    r += "<tr><td>\(Self.int(x["index"]))</td><td>\(Self.int(x["requests"]))</td><td>\(x["qps"]?.double.map { String(format: "%.1f", $0) } ?? "-")</td><td>\(x["error_rate"]?.double.map { String(format: "%.2f%%", $0 * 100) } ?? "-")</td><td>\(Self.ms(lat?["p50"]?.double))</td><td>\(Self.ms(lat?["p99"]?.double))</td></tr>\n"
                }
                s += "<table><thead><tr><th>Repetition</th><th>Requests</th><th>Req/s</th><th>Errors</th><th>p50</th><th>p99</th></tr></thead><tbody>\n\(r)</tbody></table>"
            }
            return section("confidence", "Confidence intervals", s)
        }

        func timeSeries() -> String {
            let points = doc["timeline"]?.array ?? []
            guard !points.isEmpty else { return section("series", "Over time", "<p class=\"dim\">No timeline (the run ended within its first second).</p>") }
            func series(_ key: String) -> [(Double, Double?)] { points.map { ($0["t"]?.double ?? 0, $0[key]?.double) } }
            let marks = (doc["events"]?.array ?? []).map { ($0["t"]?.double ?? 0, ($0["kind"]?.string ?? "") + " " + ($0["detail"]?.string ?? "")) }
            // The warm-up and cool-down, shaded: each point covers the second before its time.
            var shaded: [(from: Double, to: Double, label: String)] = []
            var prevT = 0.0
            for p in points {
                let t = p["t"]?.double ?? 0
                if let w = p["window"]?.string, w != "measured" {
                    let label = w == "warmup" ? "warm-up (not measured)" : "cool-down (not measured)"
                    if let last = shaded.last, last.label == label, abs(last.to - prevT) < 1e-9 { shaded[shaded.count - 1].to = t }
                    else { shaded.append((prevT, t, label)) }
                }
                prevT = t
            }
            var throughput = Chart(title: "Throughput", unit: "req/s", series: [("achieved req/s", "s1", series("qps")), ("failures/s", "bad", series("failures_per_s"))], marks: marks)
            throughput.shaded = shaded
            var latency = Chart(title: "Latency (corrected, sliding window)", unit: "ms", series: [("p50", "s1", series("p50_ms")), ("p95", "s2", series("p95_ms")), ("p99", "s3", series("p99_ms"))], marks: marks)
            latency.shaded = shaded
            var s = throughput.svg() + latency.svg()
            if points.contains(where: { ($0["users"]?.double ?? 0) > 0 }) {
                var users = Chart(title: "Users", unit: "users", series: [("users", "s2", series("users"))], marks: marks)
                users.shaded = shaded
                s += users.svg()
            }
            let tele = doc["telemetry"]?["series"]?.array ?? []
            let mem = tele.compactMap { p -> (Double, Double?)? in
                guard let u = p["used_bytes"]?.double, let t = p["total_bytes"]?.double, t > 0 else { return nil }
                return (p["t"]?.double ?? 0, u / t * 100)
            }
            if !mem.isEmpty {
                let modelled = (doc["telemetry"]?["gpus"]?.array ?? []).contains { $0["modelled"]?.bool == true }
                s += Chart(title: "GPU memory" + (modelled ? " (modelled)" : ""), unit: "%", series: [("used", "s3", mem)], marks: marks).svg()
            }
            return section("series", "Over time", s)
        }

        func distributions() -> String {
            let keys: [(String, Double)] = [("p50", 50), ("p66", 66), ("p75", 75), ("p80", 80), ("p90", 90), ("p95", 95), ("p98", 98), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99)]
            func nines(_ h: JSONValue?) -> [(Double, Double?)] {
                keys.map { (-log10(1 - $0.1 / 100), h?[$0.0]?.double) }
            }
            let lat = doc["latency_ms"]
            var s = Chart(title: "Latency by percentile (corrected vs raw)", unit: "ms",
                          series: [("corrected", "s3", nines(lat?["corrected"])), ("raw", "s1", nines(lat?["raw"]))], marks: [],
                          xLabels: [(0.301, "50%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%")]).svg()
            if let llm = doc["llm"], case .object = llm {
                var rows = ""
                for (name, key) in [("TTFT", "ttft"), ("TPOT", "tpot"), ("ITL", "itl"), ("E2EL", "e2el")] {
                    let cells = ["mean", "median", "p99"].map { Self.ms(llm["\($0)_\(key)_ms"]?.double) }
                    rows += "<tr><th>\(name)</th>" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
                }
                s += "<h3>Per token</h3><table><thead><tr><th></th><th>mean</th><th>median</th><th>p99</th></tr></thead><tbody>\n\(rows)</tbody></table>"
            }
            return section("distributions", "Distributions", s)
        }

        func tasks() -> String {
            var rows = ""
            for t in doc["tasks"]?.array ?? [] {
                let l = t["latency_ms"]?["corrected"]
                let cells = [t["method"]?.string ?? "", t["name"]?.string ?? "", Self.int(t["requests"]), Self.int(t["failures"]),
                             t["qps"]?.double.map { String(format: "%.1f", $0) } ?? "-",
                             Self.ms(l?["p50"]?.double), Self.ms(l?["p95"]?.double), Self.ms(l?["p99"]?.double), Self.ms(l?["max"]?.double)]
                rows += "<tr>" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
            }
            return section("tasks", "Tasks", "<table><thead><tr><th>Method</th><th>Name</th><th>Requests</th><th>Failures</th><th>Req/s</th><th>p50</th><th>p95</th><th>p99</th><th>Max</th></tr></thead><tbody>\n\(rows)</tbody></table>")
        }

        /// Per conversation turn and per model (the JSON's `breakdown`), when the run had them.
        func breakdown() -> String {
            var out = ""
            for (key, id, title, label) in [("turns", "turns", "Per conversation turn", "Turn"), ("models", "models", "Per model", "Model")] {
                let items = doc["breakdown"]?[key]?.array ?? []
                if items.isEmpty { continue }
                var rows = ""
                for t in items {
                    let name = key == "turns" ? Self.int(t["turn"]) : (t["model"]?.string ?? "")
                    let cells = [name, Self.int(t["requests"]), Self.int(t["failures"]), Self.ms(t["p50_ms"]?.double), Self.ms(t["p99_ms"]?.double),
                                 Self.ms(t["median_ttft_ms"]?.double), Self.ms(t["p99_ttft_ms"]?.double), Self.int(t["output_tokens"])]
                    rows += "<tr>" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
                }
                out += section(id, title, "<table><thead><tr><th>\(label)</th><th>Requests</th><th>Failures</th><th>p50</th><th>p99</th><th>TTFT p50</th><th>TTFT p99</th><th>Output tokens</th></tr></thead><tbody>\n\(rows)</tbody></table>"
                               + (key == "turns" ? "<p class=\"dim\">Turn N carries turns 1..N-1 and the server's real answers: TTFT that rises with the turn points at the prefill of the growing history.</p>" : ""))
            }
            return out
        }

        func statusAndErrors() -> String {
            var s = ""
            if case .object(let codes)? = doc["totals"]?["status_codes"], !codes.isEmpty {
                s += "<p>" + codes.keys.sorted().map { "<span class=\"code\">\(esc($0))</span> ×\(Self.int(codes[$0]))" }.joined(separator: " · ") + "</p>"
            }
            if case .object(let kinds)? = doc["totals"]?["failures_by_kind"] {
                let nonzero = kinds.filter { ($0.value.double ?? 0) > 0 }.sorted { $0.key < $1.key }
                if !nonzero.isEmpty { s += "<p>Failures by kind: " + nonzero.map { "\(esc($0.key)) ×\(Self.int($0.value))" }.joined(separator: " · ") + "</p>" }
            }
            let errors = doc["errors"]?.array ?? []
            if errors.isEmpty { s += "<p class=\"dim\">No errors.</p>" } else {
                var rows = ""
                for e in errors.prefix(50) {
                    rows += "<tr><td>\(Self.int(e["occurrences"]))</td><td>\(esc(e["method"]?.string ?? ""))</td><td>\(esc(e["name"]?.string ?? ""))</td><td>\(esc(e["message"]?.string ?? ""))</td></tr>\n"
                }
                s += "<table><thead><tr><th>Count</th><th>Method</th><th>Name</th><th>Message</th></tr></thead><tbody>\n\(rows)</tbody></table>"
            }
            return section("errors", "Status codes and errors", s)
        }

        func validity() -> String {
            let lag = doc["schedule_lag_ms"]
            let behind = (doc["diagnoses"]?.array ?? []).contains { ["generator_behind", "generator_cpu"].contains($0["rule"]?.string ?? "") }
            var s = behind ? "<div class=\"banner\">The load generator was saturated: some figures may measure the client, not only the server (see Diagnoses).</div>" : ""
            let rows: [(String, String)] = [
                ("Schedule lag p50 / p99 / max", [Self.ms(lag?["p50"]?.double), Self.ms(lag?["p99"]?.double), Self.ms(lag?["max"]?.double)].joined(separator: " / ")),
                ("Generator CPU", (doc["generator_cpu_s"]?.double).map { String(format: "%.1f s over %.1f s", $0, doc["duration_s"]?.double ?? 0) } ?? "-"),
                ("Dropped arrivals", Self.int(doc["dropped"])), ("Cut off at the end", Self.int(doc["cut_off"])),
            ]
            s += "<table class=\"facts\">" + rows.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined() + "</table>"
            return section("validity", "Validity of the measurement", s)
        }

        // MARK: Helpers

        /// A threshold expression's limit and whether it must stay below it.
        static func limit(of expression: String) -> (value: Double, below: Bool)? {
            guard let t = try? Threshold(ThresholdSpec(expression)) else { return nil }
            switch t.op {
            case .lt, .le: return (t.bound, true)
            case .gt, .ge: return (t.bound, false)
            default: return nil
            }
        }

        static func ms(_ v: Double?) -> String { v.map { $0 >= 100 ? String(format: "%.0f ms", $0) : String(format: "%.2f ms", $0) } ?? "-" }
        /// A whole number read back from the JSON; "-" when absent. Beyond Int64 (a `--seed` above
        /// 2^63) it prints the double's digits instead of trapping.
        static func int(_ v: JSONValue?) -> String {
            guard let d = v?.double, d.isFinite else { return "-" }
            if let i = Int64(exactly: d.rounded()) { return String(i) }
            return String(format: "%.0f", d)
        }
        static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%g", v) }
    }

    /// A comparison (`cicada.compare/v1`): every variant overlaid, changes from the baseline.
    struct ComparePage {
        let doc: JSONValue
        let json: String

        static let classes = ["s1", "s3", "s2", "bad", "s4", "s5"]

        func html() -> String {
            let variants = doc["variants"]?.array ?? []
            let baseline = doc["baseline"]?.string ?? ""
            let passed = doc["passed"]?.bool ?? false
            let names = variants.compactMap { $0["name"]?.string }
            var body = "<section id=\"verdict\"><h2>Verdict</h2><div class=\"verdict \(passed ? "pass" : "fail")\">\(passed ? "ALL PASSED" : "A VARIANT FAILED")</div>"
            body += "<p>Baseline: <b>\(esc(baseline))</b>. Lowest p99: \(esc(doc["lowest_p99"]?.string ?? "-")); highest req/s: \(esc(doc["highest_qps"]?.string ?? "-")).</p></section>\n"
            var rows = ""
            for v in variants {
                let l = v["latency_ms"], c = v["change"], e = v["engine"]
                func pct(_ x: Double?) -> String { x.map { String(format: "%+.1f%%", $0 * 100) } ?? "" }
                func fmt(_ x: Double?, _ f: String, _ scale: Double = 1) -> String { x.map { String(format: f, $0 * scale) } ?? "-" }
                let name: String = (v["name"]?.string ?? "") + (v["baseline"]?.bool == true ? " (baseline)" : "")
                var cells: [String] = [name, v["config"]?.string ?? "", (v["passed"]?.bool ?? false) ? "✓" : "✗"]
                cells += [fmt(v["qps"]?.double, "%.1f"), pct(c?["qps"]?.double)]
                cells += [Page.ms(l?["p50"]?.double), pct(c?["p50"]?.double), Page.ms(l?["p99"]?.double), pct(c?["p99"]?.double)]
                cells += [fmt(v["error_rate"]?.double, "%.2f%%", 100), fmt(e?["avg_batch_size"]?.double, "%.1f"), fmt(e?["peak_memory_fraction"]?.double, "%.0f%%", 100)]
                rows += "<tr>" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
            }
            body += "<section id=\"variants\"><h2>Variants</h2><table><thead><tr><th>Variant</th><th>Config</th><th></th><th>Req/s</th><th>Δ</th><th>p50</th><th>Δ</th><th>p99</th><th>Δ</th><th>Errors</th><th>Avg batch*</th><th>Peak memory*</th></tr></thead><tbody>\n\(rows)</tbody></table><p class=\"dim\">Δ: change from the baseline. * modelled by the embedded engine.</p></section>\n"
            // Overlaid series.
            func series(_ key: String) -> [(name: String, cls: String, points: [(Double, Double?)])] {
                variants.enumerated().map { i, v in
                    let pts = (v["report"]?["timeline"]?.array ?? []).map { ($0["t"]?.double ?? 0, $0[key]?.double) }
                    return (v["name"]?.string ?? "#\(i)", Self.classes[i % Self.classes.count], pts)
                }
            }
            var charts = Chart(title: "Throughput by variant", unit: "req/s", series: series("qps"), marks: []).svg()
            charts += Chart(title: "p99 latency by variant (corrected, sliding window)", unit: "ms", series: series("p99_ms"), marks: []).svg()
            let keys: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99)]
            let nines = variants.enumerated().map { i, v in
                (v["name"]?.string ?? "#\(i)", Self.classes[i % Self.classes.count],
                 keys.map { (-log10(1 - $0.1 / 100), v["report"]?["latency_ms"]?["corrected"]?[$0.0]?.double) })
            }
            charts += Chart(title: "Latency by percentile (corrected)", unit: "ms", series: nines.map { (name: $0.0, cls: $0.1, points: $0.2) }, marks: [],
                            xLabels: [(0.301, "50%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%")]).svg()
            body += "<section id=\"series\"><h2>Overlaid</h2>\n\(charts)</section>\n"
            var diag = ""
            for v in variants {
                for d in v["report"]?["diagnoses"]?.array ?? [] {
                    diag += "<li class=\"\(d["severity"]?.string == "critical" ? "critical" : "warning")\"><b>\(esc(v["name"]?.string ?? "")): \(esc(d["rule"]?.string ?? ""))</b>: \(esc(d["symptom"]?.string ?? "")). Fix: \(esc(d["action"]?.string ?? ""))</li>\n"
                }
            }
            if !diag.isEmpty { body += "<section id=\"diagnoses\"><h2>Diagnoses</h2><ul class=\"diagnoses\">\n\(diag)</ul></section>\n" }
            let title = "compare " + names.joined(separator: " vs ")
            return HTMLReport.shell(title: title, heading: "cicada: \(esc(title))",
                                    sub: "\(esc(variants.first?["report"]?["scenario"]?.string ?? "")) · same load and seed for every variant",
                                    body: body, footer: "Made by cicada from its comparison report, which is embedded in this page (<code>#cicada-report</code>), each variant's full run report inside it.",
                                    json: json)
        }
    }

    /// A batching sweep (`cicada.sweep/v1`): latency against throughput per configuration, the
    /// Pareto front, the SLO, and the recommendation with its reason.
    struct SweepPage {
        let doc: JSONValue
        let json: String

        func html() -> String {
            let points = doc["points"]?.array ?? []
            let level = doc["axis"]?.string == "concurrency" ? "concurrency" : "rate"
            var presets: [String] = []
            for p in points { if let n = p["preset"]?.string, !presets.contains(n) { presets.append(n) } }
            let slo = doc["slo"]?["p99_ms"]?.double
            var series: [(name: String, cls: String, points: [(Double, Double?)])] = presets.enumerated().map { i, name in
                let pts = points.filter { $0["preset"]?.string == name }.compactMap { p -> (Double, Double?)? in
                    guard let q = p["achieved_qps"]?.double else { return nil }
                    return (q, p["p99_ms"]?.double)
                }
                return (name, ComparePage.classes[i % ComparePage.classes.count], pts)
            }
            let front = (doc["pareto_front"]?.array ?? []).compactMap { f -> (Double, Double?)? in
                guard let p = points.first(where: { $0["preset"]?.string == f["preset"]?.string && $0[level]?.double == f[level]?.double }),
                      let q = p["achieved_qps"]?.double else { return nil }
                return (q, p["p99_ms"]?.double)
            }.sorted { $0.0 < $1.0 }
            if front.count >= 2 { series.append(("Pareto front", "s5", front)) }
            let xs = series.flatMap { $0.points.map(\.0) }
            if let slo, let lo = xs.min(), let hi = xs.max() { series.append(("p99 SLO", "bad", [(lo, slo), (hi, slo)])) }
            let modelled = doc["engine"]?["modelled"]?.bool == true
            var body = "<section id=\"verdict\"><h2>Recommendation</h2><div class=\"verdict \(doc["recommendation"]?.string == nil ? "fail" : "pass")\">\(esc(doc["recommendation"]?.string ?? "none"))</div><p>\(esc(doc["reason"]?.string ?? ""))</p>"
            if let e = doc["engine"], case .object = e {
                body += "<p class=\"dim\">Engine: \(esc(e["gpu"]?.string ?? "")) / \(esc(e["model"]?.string ?? "")) / \(esc(e["precision"]?.string ?? ""))\(modelled ? " (modelled)" : "").</p>"
            }
            body += "</section>\n"
            body += "<section id=\"series\"><h2>Latency against throughput</h2>\n" + Chart(title: "p99 latency by achieved throughput, per configuration", unit: "ms", series: series, marks: [], xUnit: "req/s").svg() + "</section>\n"
            var rows = ""
            for p in points {
                func fmt(_ x: Double?, _ f: String, _ scale: Double = 1) -> String { x.map { String(format: f, $0 * scale) } ?? "-" }
                var cells: [String] = [p["preset"]?.string ?? "", fmt(p[level]?.double, "%g"), fmt(p["achieved_qps"]?.double, "%.1f")]
                cells += [Page.ms(p["p50_ms"]?.double), Page.ms(p["p99_ms"]?.double), fmt(p["error_rate"]?.double, "%.2f%%", 100)]
                cells += [fmt(p["avg_batch"]?.double, "%.1f"), fmt(p["memory_fraction"]?.double, "%.0f%%", 100), p["verdict"]?.string ?? ""]
                rows += "<tr>" + cells.map { "<td>\(esc($0))</td>" }.joined() + "</tr>\n"
            }
            body += "<section id=\"points\"><h2>Points</h2><table><thead><tr><th>Configuration</th><th>\(level == "rate" ? "Offered req/s" : "Concurrency")</th><th>Achieved req/s</th><th>p50</th><th>p99</th><th>Errors</th><th>Avg batch*</th><th>Memory*</th><th>Verdict</th></tr></thead><tbody>\n\(rows)</tbody></table><p class=\"dim\">* modelled by the embedded engine.</p></section>\n"
            return HTMLReport.shell(title: "sweep \(presets.joined(separator: ", "))", heading: "cicada: batching sweep",
                                    sub: "\(esc(presets.joined(separator: ", "))) · \(points.count) points",
                                    body: body, footer: "Made by cicada from its sweep report, which is embedded in this page (<code>#cicada-report</code>).",
                                    json: json)
        }
    }

    /// An SVG line chart with axes, a legend, event marks and the data as a table beneath.
    struct Chart {
        var title: String
        var unit: String
        var series: [(name: String, cls: String, points: [(Double, Double?)])]
        var marks: [(Double, String)]
        var xLabels: [(Double, String)]? = nil
        /// The x axis's unit (seconds for time series).
        var xUnit = "s"
        /// Spans shaded behind the lines (the warm-up and cool-down), with their labels.
        var shaded: [(from: Double, to: Double, label: String)] = []

        static let w = 720.0, h = 230.0, left = 56.0, right = 24.0, top = 22.0, bottom = 28.0

        func svg() -> String {
            let drawn = series.map { (name: $0.name, cls: $0.cls, points: HTMLReport.downsample($0.points, to: HTMLReport.maxChartPoints)) }
            let xs = drawn.flatMap { $0.points.map(\.0) }
            let ys = drawn.flatMap { $0.points.compactMap(\.1) }
            // A shaded span starts where its first point's second began, so it widens the x range.
            guard let x0 = (xs + shaded.map(\.from)).min(), let x1 = xs.max(), let yMax = ys.max() else {
                return "<figure><figcaption>\(esc(title))</figcaption><p class=\"dim\">No data.</p></figure>"
            }
            let top = HTMLReport.niceCeiling(yMax)
            let pw = Self.w - Self.left - Self.right, ph = Self.h - Self.top - Self.bottom
            func X(_ x: Double) -> Double { Self.left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * pw }
            func Y(_ y: Double) -> Double { Self.top + ph - (top > 0 ? y / top : 0) * ph }
            var s = "<figure><figcaption>\(esc(title))</figcaption>"
            s += "<svg class=\"chart\" viewBox=\"0 0 \(Int(Self.w)) \(Int(Self.h))\" width=\"\(Int(Self.w))\" height=\"\(Int(Self.h))\" role=\"img\" aria-label=\"\(esc(title))\">"
            for i in 0...4 {
                let v = top * Double(i) / 4
                s += "<line class=\"grid\" x1=\"\(f(Self.left))\" x2=\"\(f(Self.w - Self.right))\" y1=\"\(f(Y(v)))\" y2=\"\(f(Y(v)))\"/>"
                s += "<text class=\"axis\" x=\"\(f(Self.left - 6))\" y=\"\(f(Y(v) + 4))\" text-anchor=\"end\">\(esc(HTMLReport.tick(v)))</text>"
            }
            let labels = xLabels ?? (0...4).map { i in let x = x0 + (x1 - x0) * Double(i) / 4; return (x, HTMLReport.tick(x) + (xUnit == "s" ? "s" : "")) }
            for (x, label) in labels {
                s += "<text class=\"axis\" x=\"\(f(X(x)))\" y=\"\(f(Self.h - 8))\" text-anchor=\"middle\">\(esc(label))</text>"
            }
            s += "<text class=\"axis\" x=\"4\" y=\"12\">\(esc(unit))</text>"
            for sp in shaded where sp.to > x0 && sp.from < x1 {
                let a = X(max(sp.from, x0)), b = X(min(sp.to, x1))
                s += "<rect class=\"phase\" x=\"\(f(a))\" y=\"\(f(Self.top))\" width=\"\(f(max(0, b - a)))\" height=\"\(f(ph))\"><title>\(esc(sp.label))</title></rect>"
                s += "<text class=\"axis\" x=\"\(f(a + 3))\" y=\"\(f(Self.top + 11))\">\(esc(sp.label))</text>"
            }
            for (t, label) in marks where t >= x0 && t <= x1 {
                s += "<line class=\"mark\" x1=\"\(f(X(t)))\" x2=\"\(f(X(t)))\" y1=\"\(f(Self.top))\" y2=\"\(f(Self.top + ph))\"><title>\(esc(label))</title></line>"
            }
            for ser in drawn {
                // Gaps (absent values) break the line rather than drawing a zero.
                var path = "", pen = false
                for (x, y) in ser.points {
                    guard let y else { pen = false; continue }
                    path += "\(pen ? "L" : "M")\(f(X(x))),\(f(Y(y)))"
                    pen = true
                }
                s += "<path class=\"line \(ser.cls)\" d=\"\(path)\"><title>\(esc(ser.name))</title></path>"
            }
            s += "</svg>"
            s += "<div class=\"legend\">" + drawn.map { "<span class=\"key \($0.cls)\"></span>\(esc($0.name))" }.joined(separator: " ") + "</div>"
            // The data under the chart, for a reader that cannot see it and for copying: one row
            // per x when the series share their x values, else one row per point.
            let sharedX = series.allSatisfy { $0.points.map(\.0) == series[0].points.map(\.0) }
            if !sharedX {
                let rows = series.flatMap { ser in ser.points.prefix(HTMLReport.maxChartPoints).map { "<tr><td>\(esc(ser.name))</td><td>\(HTMLReport.tick($0.0))</td><td>\($0.1.map(HTMLReport.tick) ?? "-")</td></tr>" } }
                s += "<details><summary>Data</summary><table><thead><tr><th>series</th><th>\(esc(xUnit))</th><th>\(esc(unit))</th></tr></thead><tbody>\n\(rows.joined(separator: "\n"))\n</tbody></table></details>"
                return s + "</figure>\n"
            }
            let rows = series[0].points.indices.prefix(HTMLReport.maxChartPoints).map { i -> String in
                "<tr><td>\(esc(xLabels == nil ? HTMLReport.tick(series[0].points[i].0) : (xLabels?.first { abs($0.0 - series[0].points[i].0) < 0.01 }?.1 ?? HTMLReport.tick(series[0].points[i].0))))</td>"
                    + series.map { "<td>\($0.points.indices.contains(i) ? ($0.points[i].1.map(HTMLReport.tick) ?? "-") : "-")</td>" }.joined() + "</tr>"
            }.joined(separator: "\n")
            s += "<details><summary>Data</summary><table><thead><tr><th>\(xLabels == nil ? (xUnit == "s" ? "t (s)" : xUnit) : "percentile")</th>"
                + series.map { "<th>\(esc($0.name)) (\(esc(unit)))</th>" }.joined() + "</tr></thead><tbody>\n\(rows)\n</tbody></table></details>"
            return s + "</figure>\n"
        }

        func f(_ v: Double) -> String { String(format: "%.1f", v) }
    }

    /// The page around a report's sections: head with the inline style, heading, footer, the
    /// report's JSON embedded as data, and the render self-check. `title` is plain text; `heading`,
    /// `sub`, `body` and `footer` are HTML.
    static func shell(title: String, heading: String, sub: String, body: String, footer: String, json: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="cicada">
        <title>cicada: \(esc(title))</title>
        <style>\(css)</style>
        </head>
        <body>
        <header><h1>\(heading)</h1><p class="sub">\(sub)</p></header>
        <main>
        \(body)
        </main>
        <footer>\(footer)</footer>
        <script type="application/json" id="cicada-report">\(embeddable(json))</script>
        <script>\(selfCheck)</script>
        </body>
        </html>

        """
    }

    /// JSON text safe inside a `<script>` block: every `<` (it can only stand in a string) as
    /// `\u003c`, so no `</script>` or `<!--` in the data can end or confuse the block. Parsing
    /// the block gives the same JSON.
    static func embeddable(_ json: String) -> String { json.replacingOccurrences(of: "<", with: "\\u003c") }

    /// At most `n` points: consecutive points merged, each keeping its first x and the highest y.
    static func downsample(_ points: [(Double, Double?)], to n: Int) -> [(Double, Double?)] {
        guard points.count > n, n > 0 else { return points }
        let k = Int((Double(points.count) / Double(n)).rounded(.up))
        return stride(from: 0, to: points.count, by: k).map { i in
            let chunk = points[i..<min(i + k, points.count)]
            return (chunk.first!.0, chunk.compactMap(\.1).max())
        }
    }

    /// A round number at or above `v` (1, 2, 2.5, 5 x 10^n).
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func tick(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int64(v)) }
        return abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    /// After load, records on `<body data-rendered>` how many charts drew with a size, so a
    /// headless browser's DOM dump shows whether the page rendered.
    static let selfCheck = """
    addEventListener("load",function(){var s=document.querySelectorAll("svg.chart"),n=0;for(var i=0;i<s.length;i++){var r=s[i].getBoundingClientRect();if(r.width>0&&r.height>0)n++}document.body.setAttribute("data-rendered","charts="+s.length+" sized="+n)});
    """

    static let css = """
    :root{--bg:#fff;--fg:#1b1f24;--dim:#6a737d;--line:#d0d7de;--card:#f6f8fa;--s1:#0969da;--s2:#8250df;--s3:#cf222e;--bad:#bf8700;--s4:#1a7f37;--s5:#57606a;--pass:#1a7f37;--fail:#cf222e}
    @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--dim:#8b949e;--line:#30363d;--card:#161b22;--s1:#4493f8;--s2:#a371f7;--s3:#f85149;--bad:#d29922;--s4:#3fb950;--s5:#8b949e;--pass:#3fb950;--fail:#f85149}}
    body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1000px;padding:16px}
    h1{font-size:22px;margin:0}h2{font-size:17px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:28px}h3{font-size:15px}
    .sub,.dim,footer{color:var(--dim)}footer{margin-top:32px;font-size:12px}
    table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:left;vertical-align:top}
    td{font-variant-numeric:tabular-nums}.facts th{color:var(--dim);font-weight:normal}
    .verdict{font-size:20px;font-weight:700;padding:8px 12px;border-radius:6px;display:inline-block}.verdict span{font-size:14px;font-weight:400}
    .verdict.pass{background:var(--pass);color:#fff}.verdict.fail{background:var(--fail);color:#fff}
    tr.fail td{color:var(--fail)}tr.pass td:first-child{color:var(--pass)}
    .cards{display:flex;flex-wrap:wrap;gap:8px}.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:110px}
    .card .v{font-size:20px;font-weight:600}.card .k{color:var(--dim);font-size:12px}
    figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}svg.chart{max-width:100%;height:auto;display:block}.phase{fill:#8884}
    .grid{stroke:var(--line);stroke-width:1}.axis{fill:var(--dim);font-size:11px}.mark{stroke:var(--dim);stroke-dasharray:3 3}
    .line{fill:none;stroke-width:1.6}.line.s1{stroke:var(--s1)}.line.s2{stroke:var(--s2)}.line.s3{stroke:var(--s3)}.line.bad{stroke:var(--bad)}.line.s4{stroke:var(--s4)}.line.s5{stroke:var(--s5)}
    .legend{font-size:12px;color:var(--dim)}.key{display:inline-block;width:14px;height:3px;margin:0 4px 3px 8px;vertical-align:middle}
    .key.s1{background:var(--s1)}.key.s2{background:var(--s2)}.key.s3{background:var(--s3)}.key.bad{background:var(--bad)}.key.s4{background:var(--s4)}.key.s5{background:var(--s5)}
    .diagnoses li{margin-bottom:10px}.diagnoses li.critical b{color:var(--fail)}.diagnoses li.warning b{color:var(--bad)}
    dl{margin:4px 0 0 0}dt{color:var(--dim);font-size:12px}dd{margin:0 0 4px 0}
    .banner{background:var(--bad);color:#000;padding:8px 12px;border-radius:6px;margin:8px 0}
    .code{font-weight:600}details summary{cursor:pointer;color:var(--dim);font-size:12px}
    @media print{body{max-width:none}details{display:none}.verdict{border:2px solid #000;color:#000;background:none}section{break-inside:avoid}}
    """
}

func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var double: Double? { if case .number(let d) = self { return d }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
}
