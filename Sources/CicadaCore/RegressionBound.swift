import Foundation

/// A bound on how much one figure may get worse from a baseline run to a new one
/// (`cicada diff --max-regression`, a scenario's `baseline.max_regression`).
///
/// Written `[task:] figure=+N%` or `[task:] figure=+Nms` (latency), `error_rate=+N%` (N
/// percentage points), `qps=-N%` (throughput may fall by N %). Figures: `p(50)` ... `p(99.99)`,
/// `mean`, `max` (corrected latency), `raw.p(99)` etc. (raw latency), `error_rate`, `qps`.
public struct RegressionBound: Sendable, Equatable, CustomStringConvertible {
    /// The task the bound is about; nil for the whole run (the aggregated figures).
    public var task: String?
    /// The figure's key, as the bound names it (`p(99)`, `raw.p(99)`, `mean`, `error_rate`, `qps`).
    public var figure: String
    /// How much worse it may get.
    public enum Limit: Sendable, Equatable {
        /// Relative, in percent of the baseline value.
        case percent(Double)
        /// Absolute, in milliseconds (latency).
        case millis(Double)
        /// Absolute, in percentage points (error rate).
        case points(Double)
    }
    public var limit: Limit
    /// The text as written.
    public var description: String

    /// The percentiles a bound may name (those the JSON report carries).
    public static let percentiles = ["50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99"]

    /// Whether `figure` is one a bound may name.
    public static func known(_ figure: String) -> Bool {
        let base = figure.hasPrefix("raw.") ? String(figure.dropFirst(4)) : figure
        if ["error_rate", "qps"].contains(figure) { return true }
        if ["mean", "max"].contains(base) { return true }
        return percentiles.contains { "p(\($0))" == base }
    }

    /// Parses `[task:] figure=±N(%|ms)`; the error says what is wrong.
    public init(parsing text: String) throws(RunDiffError) {
        description = text
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        task = nil
        if let colon = body.firstIndex(of: ":"), !body[..<colon].contains("("), !body[..<colon].contains("=") {
            task = body[..<colon].trimmingCharacters(in: .whitespaces)
            body = body[body.index(after: colon)...]
        }
        let parts = body.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { throw RunDiffError("--max-regression '\(text)': expected figure=+N% (e.g. p(99)=+10%, qps=-5%, error_rate=+0.5%)") }
        figure = parts[0]
        guard Self.known(figure) else {
            throw RunDiffError("--max-regression '\(text)': unknown figure '\(figure)' (p(50)..p(99.99), mean, max, raw.p(99), error_rate, qps)")
        }
        var v = parts[1]
        let worse: Character = figure == "qps" ? "-" : "+"
        guard let sign = v.first, sign == worse || sign == "+" || sign == "-" else {
            throw RunDiffError("--max-regression '\(text)': give the allowed change with its sign, e.g. \(figure)=\(worse)10%")
        }
        guard sign == worse else { throw RunDiffError("--max-regression '\(text)': \(figure) gets worse when it \(worse == "+" ? "rises" : "falls"); write \(figure)=\(worse)N") }
        v.removeFirst()
        if v.hasSuffix("ms"), figure != "qps", figure != "error_rate", let n = Double(v.dropLast(2)), n >= 0 {
            limit = .millis(n)
        } else if v.hasSuffix("%"), let n = Double(v.dropLast()), n >= 0 {
            limit = figure == "error_rate" ? .points(n) : .percent(n)
        } else {
            throw RunDiffError("--max-regression '\(text)': '\(parts[1])' is not a change such as +10% or +5ms")
        }
    }
}

/// A problem with a diff's input: exit code 2.
public struct RunDiffError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}


/// A scenario's stored baseline (`baseline: {file, max_regression}`): `cicada run` compares its
/// result against the baseline's JSON report and fails (exit 99) past any bound.
public struct BaselineSpec: Sendable, Equatable {
    /// The baseline's JSON report, resolved against the scenario's folder.
    public var file: String
    /// The bounds; at least one.
    public var bounds: [RegressionBound]
    public init(file: String, bounds: [RegressionBound]) { self.file = file; self.bounds = bounds }
}
