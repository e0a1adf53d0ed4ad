import CicadaCore
import CicadaReport
import Foundation

/// One report format: what it writes, where, when.
///
/// A sink may stream during the run (``prepare(_:comparing:)`` opens its files and hooks the
/// runs, as the CSV history does) and writes its files when the run ends, each atomically. A
/// file it cannot write is a ``ReportFailure`` naming the path, never a thrown error: the other
/// reports are still written and the summary still printed.
public protocol ReportSink: AnyObject {
    /// Called before the load starts; a thrown error stops the session before any load.
    func prepare(_ lanes: [SessionLane], comparing: Bool) throws(SessionError)
    /// Writes the sink's files for the finished run; the files it could not write.
    func write(_ outcome: SessionOutcome) -> [ReportFailure]
}

extension ReportSink {
    public func prepare(_ lanes: [SessionLane], comparing: Bool) throws(SessionError) {}
}

/// A report file that could not be written, and why.
public struct ReportFailure: Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// The system's reason.
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// What a finished session hands its sinks.
public struct SessionOutcome: Sendable {
    /// The scenario's name.
    public var scenarioName: String
    /// One result per lane: the run's, or each compared variant's.
    public var variants: [VariantResult]
    /// The comparison against the baseline; nil for a single run.
    public var comparison: Comparison?
    public init(scenarioName: String, variants: [VariantResult], comparison: Comparison?) {
        self.scenarioName = scenarioName; self.variants = variants; self.comparison = comparison
    }
}

/// Writes `text` to `path` atomically; the failure, if any.
func writeAtomically(_ text: String, to path: String) -> [ReportFailure] {
    do { try AtomicFile.write(text, to: path) } catch { return [ReportFailure(path: path, reason: "\(error)")] }
    return []
}

/// The JSON report: `cicada.report/v1` for a run, `cicada.compare/v1` for a comparison.
public final class JSONReportSink: ReportSink {
    let path: String
    public init(path: String) { self.path = path }
    public func write(_ outcome: SessionOutcome) -> [ReportFailure] {
        if let comparison = outcome.comparison { return writeAtomically(comparison.json(variants: outcome.variants), to: path) }
        let result = outcome.variants[0].result
        return writeAtomically(JSONReport(startNanos: result.startNanos).render(result), to: path)
    }
}

/// Locust-compatible CSV files: stats, failures, telemetry and the per-second history (streamed
/// during the run); a comparison gets each variant's files under `PREFIX_NAME` and `PREFIX_compare.csv`.
public final class CSVReportSink: ReportSink {
    let prefix: String
    let fullHistory: Bool
    private var histories: [StreamingFile] = []
    public init(prefix: String, fullHistory: Bool) { self.prefix = prefix; self.fullHistory = fullHistory }

    /// The prefix of one lane's files.
    func prefix(_ name: String, comparing: Bool) -> String { comparing ? "\(prefix)_\(Self.fileSafe(name))" : prefix }

    public func prepare(_ lanes: [SessionLane], comparing: Bool) throws(SessionError) {
        for lane in lanes {
            let path = prefix(lane.name, comparing: comparing) + "_stats_history.csv"
            let history: StreamingFile
            do { history = try StreamingFile(path: path) } catch { throw .tool("cannot write \(path): \(error)") }
            history.write(CSVReport.historyHeader + "\n")
            let full = fullHistory
            lane.run.onSecond = { snap in history.write(CSVReport.historyRows(snap, timestampUnix: Int(Date().timeIntervalSince1970), fullHistory: full)) }
            histories.append(history)
        }
    }

    public func write(_ outcome: SessionOutcome) -> [ReportFailure] {
        var failures: [ReportFailure] = []
        let comparing = outcome.comparison != nil
        for (i, v) in outcome.variants.enumerated() {
            let p = prefix(v.name, comparing: comparing)
            failures += writeAtomically(CSVReport.stats(v.result), to: p + "_stats.csv")
            failures += writeAtomically(CSVReport.failures(v.result, startNanos: v.result.startNanos, startUnix: v.result.startedAtUnix), to: p + "_failures.csv")
            if let t = CSVReport.telemetryHistory(v.result.snapshot.telemetry) { failures += writeAtomically(t, to: p + "_telemetry_history.csv") }
            if i < histories.count {
                do { try histories[i].finish() } catch { failures.append(ReportFailure(path: p + "_stats_history.csv", reason: "\(error)")) }
            }
        }
        if let comparison = outcome.comparison { failures += writeAtomically(CSVReport.comparison(comparison), to: prefix + "_compare.csv") }
        return failures
    }

    /// A variant name as part of a file name: letters, digits, `.`, `-` and `_` kept, the rest `_`.
    public static func fileSafe(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}

/// JUnit XML: one test suite per run or variant, one test case per threshold.
public final class JUnitReportSink: ReportSink {
    let path: String
    public init(path: String) { self.path = path }
    public func write(_ outcome: SessionOutcome) -> [ReportFailure] {
        if outcome.comparison != nil {
            return writeAtomically(JUnitReport.render(suites: outcome.variants.map { ("cicada thresholds: \(outcome.scenarioName) [\($0.name)]", $0.result) }), to: path)
        }
        return writeAtomically(JUnitReport.render(outcome.variants[0].result), to: path)
    }
}

/// A Markdown summary (for a CI job page); a comparison's table first, then each variant.
public final class MarkdownReportSink: ReportSink {
    let path: String
    public init(path: String) { self.path = path }
    public func write(_ outcome: SessionOutcome) -> [ReportFailure] {
        let parts = outcome.variants.map { MarkdownSummary.render($0.result) }
        if let comparison = outcome.comparison { return writeAtomically(comparison.markdown() + "\n" + parts.joined(separator: "\n"), to: path) }
        return writeAtomically(parts[0], to: path)
    }
}

/// The self-contained HTML report, made from the JSON report (a run's, or a comparison's).
public final class HTMLReportSink: ReportSink {
    let path: String
    public init(path: String) { self.path = path }

    public func write(_ outcome: SessionOutcome) -> [ReportFailure] {
        let result = outcome.variants[0].result
        let json = outcome.comparison.map { $0.json(variants: outcome.variants) } ?? JSONReport(startNanos: result.startNanos).render(result)
        do { return writeAtomically(try HTMLReport.render(json: json), to: path) } catch {
            return [ReportFailure(path: path, reason: error.description)]
        }
    }
}
