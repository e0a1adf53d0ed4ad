import CicadaCore

/// Threshold verdicts as JUnit XML, the format every CI system shows as test results.
///
/// Each threshold is one test case, failed with the measured value when it did not hold, so a
/// CI page lists exactly which service-level objective broke and by how much. A run with no
/// thresholds gets a single `run completed` case that fails when the run was interrupted or
/// aborted, so the report is never an empty (and thus green) suite. A `split:` run with bounds
/// adds one case per step window's canary verdict (``SplitReport/junitCases(_:)``).
public enum JUnitReport {
    /// The test case class name of every threshold case.
    public static let className = "cicada.thresholds"

    /// The report as text, ending with a newline.
    public static func render(_ result: RunResult) -> String {
        var s = ""
        write(result, to: &s)
        return s
    }

    /// Writes the report to `out`.
    public static func write(_ result: RunResult, to out: inout some TextOutputStream) {
        write(suites: [("cicada thresholds: " + result.scenarioName, result)], to: &out)
    }

    /// Several runs in one document, one test suite each (a comparison: one suite per variant).
    public static func render(suites: [(name: String, result: RunResult)]) -> String {
        var s = ""
        write(suites: suites, to: &s)
        return s
    }

    /// Writes one `<testsuite>` per run, inside one `<testsuites>`, to `out`.
    public static func write(suites: [(name: String, result: RunResult)], to out: inout some TextOutputStream) {
        let all = suites.map { (name: $0.name, result: $0.result, cases: cases($0.result)) }
        let tests = all.map(\.cases.count).reduce(0, +)
        let failures = all.map { $0.cases.filter { $0.failure != nil }.count }.reduce(0, +)
        let seconds = ReportNumber.decimal(suites.map(\.result.snapshot.measuredSeconds).max() ?? 0) ?? "0"
        out.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        out.write("<testsuites tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" time=\"\(seconds)\">\n")
        for suite in all {
            let result = suite.result
            let n = suite.cases.filter { $0.failure != nil }.count
            let secs = ReportNumber.decimal(result.snapshot.measuredSeconds) ?? "0"
            out.write("  <testsuite name=\"\(escape(suite.name))\" tests=\"\(suite.cases.count)\" failures=\"\(n)\" errors=\"0\" skipped=\"0\" time=\"\(secs)\" timestamp=\"\(escape(String(ReportText.iso8601(unix: result.startedAtUnix).dropLast(5))))\">\n")
            for c in suite.cases {
                let open = "    <testcase classname=\"\(className)\" name=\"\(escape(c.name))\""
                if let f = c.failure {
                    out.write(open + ">\n")
                    out.write("      <failure message=\"\(escape(f.message))\" type=\"threshold\">\(escape(f.detail))</failure>\n")
                    out.write("    </testcase>\n")
                } else {
                    out.write(open + "/>\n")
                }
            }
            // Diagnoses gate nothing (thresholds do), so they are the suite's output, not cases.
            if !result.diagnoses.isEmpty {
                let text = SummaryPrinter.diagnosisLines(result.diagnoses, plain: true).joined(separator: "\n")
                out.write("    <system-out>\(escape("DIAGNOSES\n" + text))</system-out>\n")
            }
            out.write("  </testsuite>\n")
        }
        out.write("</testsuites>\n")
    }

    /// One case per threshold, or a single `run completed` case when there are none.
    static func cases(_ result: RunResult) -> [(name: String, failure: (message: String, detail: String)?)] {
        var cases: [(name: String, failure: (message: String, detail: String)?)] = []
        if result.thresholds.isEmpty {
            let failure: (String, String)? = result.stopReason == .completed
                ? nil : ("stopped: \(ReportText.human(result.stopReason))", "the run did not complete: \(ReportText.human(result.stopReason))")
            cases.append(("run completed", failure))
        } else {
            for t in result.thresholds {
                let expr = t.threshold.spec.expression
                cases.append((expr, t.passed ? nil : ("measured \(t.measuredText)", "threshold \(expr) failed: measured \(t.measuredText)")))
            }
        }
        // A split run's canary verdict: one case per step window, so CI shows which step failed.
        cases += SplitReport.junitCases(result)
        return cases
    }

    /// `s` escaped for XML text and attribute values. Characters XML 1.0 cannot carry
    /// (most control characters) become U+FFFD; tab, LF and CR become character references so
    /// they survive in attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default:
                if c.value < 0x20 || c.value == 0xFFFE || c.value == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
