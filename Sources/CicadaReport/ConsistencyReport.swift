import CicadaCore
import Foundation

/// The consistency probe's findings in the summary and the JSON report (`consistency`).
///
/// Probes are counted apart from the load: the summary's request counts and latency figures
/// never include them. A run without `consistency:` prints nothing and writes `null`.
public enum ConsistencyReport {
    /// Summary lines, or nil when the scenario has no probe.
    public static func lines(_ c: ConsistencySummary?) -> [String]? {
        guard let c else { return nil }
        var out = ["CONSISTENCY (\(cadence(c.spec)), temperature \(ReportNumber.decimal(c.spec.temperature) ?? "0"); not in the figures above)"]
        if c.answered == 0 {
            out.append("  no probe answered\(c.failed > 0 ? " (\(c.failed) failed)" : "")")
        } else {
            out.append("  \(c.answered) answers: \(c.differing) of \(c.compared) differed from the first\(c.failed > 0 ? ", \(c.failed) probes failed" : "")")
        }
        for m in c.samples.prefix(3) {
            out.append("  at \(Format.number(m.atSeconds, digits: 1))s, from character \(m.position) (word \(m.word)):")
            out.append("    first: \(ReportText.oneLine(m.expected, limit: 140))")
            out.append("    this:  \(ReportText.oneLine(m.got, limit: 140))")
        }
        if let e = c.lastFailure { out.append("  last probe failure: \(ReportText.oneLine(e, limit: 160))") }
        return out
    }

    /// `every 100 requests` or `every 10s`.
    static func cadence(_ s: ConsistencySpec) -> String {
        switch s.cadence {
        case .everyRequests(let n): return "a probe every \(n) requests"
        case .interval(let d): return "a probe every \(String(format: "%g", d.seconds))s"
        }
    }

    /// The JSON report's `consistency` section; null when the scenario has no probe.
    static func json(_ c: ConsistencySummary?) -> JSONOut {
        guard let c else { return .null }
        var cadence: [(String, JSONOut)] = []
        switch c.spec.cadence {
        case .everyRequests(let n): cadence = [("every_requests", .integer(UInt64(n))), ("interval_s", .null)]
        case .interval(let d): cadence = [("every_requests", .null), ("interval_s", .number(d.seconds))]
        }
        return .object(cadence + [
            ("kind", .string(c.spec.kind.rawValue)),
            ("path", .string(c.spec.path)),
            ("model", .string(c.spec.model)),
            ("temperature", .number(c.spec.temperature)),
            ("max_tokens", .integer(UInt64(c.spec.maxTokens))),
            ("answered", .integer(UInt64(c.answered))),
            ("compared", .integer(UInt64(c.compared))),
            ("differing", .integer(UInt64(c.differing))),
            ("failed", .integer(UInt64(c.failed))),
            ("last_failure", .string(c.lastFailure)),
            ("reference", .string(c.reference)),
            ("samples", .array(c.samples.map { m in .object([
                ("t", .number(m.atSeconds)), ("position", .integer(UInt64(m.position))), ("word", .integer(UInt64(m.word))),
                ("expected", .string(m.expected)), ("got", .string(m.got)),
            ]) })),
        ])
    }
}
