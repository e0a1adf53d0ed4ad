import CicadaCore
import CicadaEngine
import CicadaReport

/// A sweep's text, JSON (`cicada.sweep/v1`) and CSV, from its points and analysis. Pure.
public enum SweepReport {
    /// The progress line for one measured point.
    public static func pointLine(_ p: SweepPoint, spec: SweepSpec) -> String {
        let level = spec.axis == .rate ? "\(Format.number(p.rate, digits: 0))/s" : "\(Format.number(p.rate, digits: 0)) users"
        var stable = p.stable.map { $0 ? ", stable over its last \(Format.number(p.measuredSeconds ?? 0, digits: 1))s" : ", not stable by the time limit" } ?? ""
        if p.skipped { stable = ", partial: cut short after \(Format.number(p.measuredSeconds ?? 0, digits: 1))s" }
        return "sweep: \(p.preset) @ \(level) -> \(Format.number(p.achievedQPS, digits: 1))/s, p99 \(p.p99Millis.map(Format.millis) ?? "-"), \(p.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate).rawValue)\(stable)"
            + (p.consistency.map { ", " + probeText($0) } ?? "")
    }

    /// The consistency probe at one point: `inconsistent 3/9 (first at character 61)`, or why
    /// there is no figure (absent, never 0).
    public static func probeText(_ c: ConsistencySummary) -> String {
        let failed = c.failed > 0 ? ", \(c.failed) probes failed" : ""
        guard c.compared > 0 else { return "inconsistent - (\(c.answered) probe answers, none to compare\(failed))" }
        let first = c.samples.map(\.position).min().map { " (first at character \($0))" } ?? ""
        return "inconsistent \(c.differing)/\(c.compared)\(first)\(failed)"
    }

    /// The table cell: `differing/compared`, or `-` with no answer to compare.
    static func probeCell(_ c: ConsistencySummary) -> String { c.compared > 0 ? "\(c.differing)/\(c.compared)" : "-" }

    /// What was swept (the modelled engine, the named targets, the stability rule), then the
    /// analysis: the text printed at the end of a sweep.
    public static func text(_ a: SweepAnalysis, spec: SweepSpec, engine: EngineConfig) -> String {
        var s = ""
        if spec.usesEngine { s += "engine: \(engine.gpu) / \(engine.model) / \(engine.precision) (modelled)\n" }
        for c in spec.configurations { if case .target(let url) = c.kind { s += "target \(c.name): \(url)\n" } }
        if let rule = spec.stability {
            s += "points stop when \(rule.windows) consecutive \(Format.number(rule.window.seconds, digits: 0))s windows agree within \(Format.number(rule.tolerance * 100, digits: 0))% (throughput and mean latency), else after \(DurationText.format(spec.measure))\n"
        }
        return s + a.text()
    }

    /// Every point as CSV, one row each, with a header; `probes_compared` and `probes_differing`
    /// close each row when the scenario has a consistency probe.
    public static func csv(_ points: [SweepPoint], spec: SweepSpec) -> String {
        // The probe's columns only when the scenario has one (its points all carry findings).
        let probed = points.contains { $0.consistency != nil }
        var out = "preset,\(spec.axis == .rate ? "rate" : "concurrency"),achieved_qps,p50_ms,p99_ms,error_rate,out_of_memory,avg_batch,memory_fraction,stable,measured_s,verdict,skipped,output_tok_s\(probed ? ",probes_compared,probes_differing" : "")\n"
        func opt(_ v: Double?, _ digits: Int) -> String { v.map { Format.number($0, digits: digits) } ?? "" }
        for p in points {
            var fields: [String] = [CSVReport.escape(p.preset), Format.number(p.rate, digits: 3), Format.number(p.achievedQPS, digits: 3)]
            fields += [opt(p.p50Millis, 3), opt(p.p99Millis, 3), opt(p.errorRate, 5), String(p.outOfMemory)]
            fields += [opt(p.averageBatchSize, 3), opt(p.memoryFraction, 4), p.stable.map { String($0) } ?? "", opt(p.measuredSeconds, 3)]
            fields.append(p.verdict(p99Millis: spec.p99.milliseconds, maxErrorRate: spec.maxErrorRate).rawValue)
            fields.append(String(p.skipped))
            fields.append(opt(p.outputTokensPerSecond, 3))
            if probed {
                // Compared 0 leaves the differing count empty (no figure, not 0).
                fields.append(p.consistency.map { String($0.compared) } ?? "")
                fields.append(p.consistency.flatMap { $0.compared > 0 ? String($0.differing) : nil } ?? "")
            }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// A point's probe findings: null without `consistency:`; `differing` is null when no answer
    /// was compared, and the first differing position null when none differed.
    static func consistencyJSON(_ c: ConsistencySummary?) -> String {
        guard let c else { return "null" }
        let first = c.samples.min(by: { $0.position < $1.position })
        return "{\"answered\":\(c.answered),\"compared\":\(c.compared),\"differing\":\(c.compared > 0 ? String(c.differing) : "null"),\"failed\":\(c.failed),"
            + "\"first_position\":\(first.map { String($0.position) } ?? "null"),\"first_word\":\(first.map { String($0.word) } ?? "null")}"
    }

    /// Every point and the conclusions as one JSON document (`cicada.sweep/v1`), with a newline.
    public static func json(_ a: SweepAnalysis, spec: SweepSpec, engine: EngineConfig?) -> String {
        func num(_ v: Double?) -> String { v.map { Format.number($0, digits: 3) } ?? "null" }
        let levelKey = spec.axis == .rate ? "rate" : "concurrency"
        let points = a.points.map { p in
            "{\"preset\":\(JSONText.quoted(p.preset)),\"\(levelKey)\":\(num(p.rate)),\"achieved_qps\":\(num(p.achievedQPS)),\"p50_ms\":\(num(p.p50Millis)),\"p99_ms\":\(num(p.p99Millis)),\"error_rate\":\(p.errorRate.map { Format.number($0, digits: 5) } ?? "null"),\"out_of_memory\":\(p.outOfMemory),\"avg_batch\":\(num(p.averageBatchSize)),\"memory_fraction\":\(p.memoryFraction.map { Format.number($0, digits: 4) } ?? "null"),\"stable\":\(p.stable.map(String.init) ?? "null"),\"skipped\":\(p.skipped),\"output_tokens_per_s\":\(num(p.outputTokensPerSecond)),\"measured_s\":\(num(p.measuredSeconds)),\"consistency\":\(consistencyJSON(p.consistency)),\"verdict\":\(JSONText.quoted(p.verdict(p99Millis: a.p99SLOMillis, maxErrorRate: a.maxErrorRate).rawValue))}"
        }
        let sustainable = a.sustainable.map { "{\"preset\":\(JSONText.quoted($0.preset)),\"\(levelKey)\":\(num($0.rate)),\"throughput\":\(num($0.throughput)),\"p99_ms\":\(num($0.p99Millis))}" }
        let pareto = a.paretoFront.map { "{\"preset\":\(JSONText.quoted($0.preset)),\"\(levelKey)\":\(num($0.rate))}" }
        let engineJSON = engine.map { "{\"gpu\":\(JSONText.quoted($0.gpu)),\"model\":\(JSONText.quoted($0.model)),\"precision\":\(JSONText.quoted($0.precision.rawValue)),\"modelled\":true}" } ?? "null"
        let stability = spec.stability.map { "{\"windows\":\($0.windows),\"window_s\":\(num($0.window.seconds)),\"tolerance\":\(num($0.tolerance)),\"time_limit_s\":\(num(spec.measure.seconds))}" } ?? "null"
        return "{\"schema\":\"cicada.sweep/v1\",\"engine\":\(engineJSON),\"axis\":\(JSONText.quoted(spec.axis.rawValue)),\"stability\":\(stability),"
            + "\"slo\":{\"p99_ms\":\(num(a.p99SLOMillis)),\"error_rate\":\(Format.number(a.maxErrorRate, digits: 4))},"
            + "\"points\":[\(points.joined(separator: ","))],\"sustainable\":[\(sustainable.joined(separator: ","))],"
            + "\"pareto_front\":[\(pareto.joined(separator: ","))],\"recommendation\":\(a.recommendation.map(JSONText.quoted) ?? "null"),\"reason\":\(JSONText.quoted(a.reason))}\n"
    }
}
