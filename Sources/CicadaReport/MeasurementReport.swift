import CicadaCore

/// What the figures cover (the measured window between the warm-up and the cool-down, and the
/// requests left out) and what `--requests-out` wrote: the summary's lines and the JSON's
/// `measurement_window` and `requests_out` objects.
public enum MeasurementReport {
    /// Where the measured window starts and ends, in seconds from the test start (the end is
    /// the cool-down's start, else the end of the run's last request).
    static func bounds(_ snap: Snapshot) -> (from: Double?, to: Double) {
        let to = snap.measuredToSeconds.map { min($0, snap.elapsed.seconds) } ?? snap.elapsed.seconds
        return (snap.measuredFromSeconds, to)
    }

    /// The summary's lines; empty when the run measured every request and wrote no export.
    public static func lines(_ result: RunResult) -> [String] {
        let snap = result.snapshot
        var lines: [String] = []
        if !snap.measurement.isEmpty {
            let (from, to) = bounds(snap)
            let f = from.map { Format.number($0, digits: 1) + " s" } ?? "-"
            var parts: [String] = []
            if let w = snap.measurement.warmup { parts.append("warm-up \(w): \(snap.excludedWarmup) requests") }
            if let c = snap.measurement.cooldown { parts.append("cool-down \(DurationText.format(c)): \(snap.excludedCooldown) requests") }
            lines.append("Measured window: \(f) .. \(Format.number(to, digits: 1)) s of the run; excluded from every figure: "
                         + parts.joined(separator: ", ") + " (sent, not measured)")
        }
        if let log = result.requestLog {
            var line = "Requests out: \(log.written) lines in \(log.path)"
            if log.fraction < 1 { line += " (sample \(log.fraction))" }
            if log.dropped > 0 { line += "; \(log.dropped) requests DROPPED (the writer could not keep up)" }
            if let e = log.error { line += "; write failed: \(e)" }
            lines.append(line)
        }
        return lines
    }

    /// `measurement_window` in the JSON report.
    static func json(_ result: RunResult) -> JSONOut {
        let snap = result.snapshot
        let (from, to) = bounds(snap)
        func unix(_ s: Double?) -> JSONOut { s.map { .string(ReportText.iso8601(unix: result.startedAtUnix + $0)) } ?? .null }
        var warmup: JSONOut = .null
        switch snap.measurement.warmup {
        case .duration(let d)?: warmup = .object([("seconds", .number(d.seconds))])
        case .requests(let n)?: warmup = .object([("requests", .integer(UInt64(max(0, n))))])
        case nil: break
        }
        return .object([
            ("start_s", .number(from)),
            ("end_s", .number(to)),
            ("start_at", unix(from)),
            ("end_at", unix(to)),
            ("warmup", warmup),
            ("cooldown", snap.measurement.cooldown.map { .object([("seconds", .number($0.seconds))]) } ?? .null),
            ("excluded_warmup", .integer(snap.excludedWarmup)),
            ("excluded_cooldown", .integer(snap.excludedCooldown)),
        ])
    }

    /// `requests_out` in the JSON report (null when not asked for).
    static func requestsOutJSON(_ result: RunResult) -> JSONOut {
        guard let log = result.requestLog else { return .null }
        return .object([
            ("path", .string(log.path)),
            ("lines", .integer(log.written)),
            ("dropped", .integer(log.dropped)),
            ("sample", .number(log.fraction)),
            ("error", .string(log.error)),
        ])
    }
}
