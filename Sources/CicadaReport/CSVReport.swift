import CicadaCore

/// Locust-compatible CSV files: `_stats.csv`, `_stats_history.csv` and `_failures.csv`.
///
/// The headers are Locust's, byte for byte, so existing spreadsheets and scripts keep working.
/// Three things differ on purpose, each a Locust fault users have reported:
/// - Response times are milliseconds with up to three decimals: min, max and average exact to
///   the recorded microsecond, percentiles at HdrHistogram's three significant digits and never
///   above the max. Locust rounds them to about two significant digits (so 123.456 ms prints as
///   120 and p99 can exceed the max: issues #255, #331, #777, #1563); we do not.
/// - History rows take percentiles and rates from the sliding window, so each row describes
///   the last few seconds. Locust's history percentiles are silently cumulative since the start
///   (issue #2377), so a late slowdown barely moves them.
/// - A value that was not measured (no requests yet) is `N/A` (Locust's word for absent
///   percentiles) in every column, never `0`.
/// Latencies are the coordinated-omission-corrected ones (from each request's intended start).
/// Lines end with `\n`.
public enum CSVReport {
    /// The `_stats.csv` header.
    public static let statsHeader = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"

    /// The `_stats_history.csv` header.
    public static let historyHeader = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size"

    /// The `_failures.csv` header.
    public static let failuresHeader = "Method,Name,Error,Occurrences,First Seen,Last Seen"

    /// The text for an absent value.
    public static let absent = "N/A"

    /// Locust's percentile columns, 50% .. 99.99% (100% is the exact maximum).
    static let percentiles: [Double] = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99]

    /// The whole `_stats.csv`: header, one row per request name (Type = HTTP method), then the
    /// `Aggregated` row with an empty Type.
    public static func stats(_ result: RunResult) -> String {
        let snap = result.snapshot
        var out = statsHeader + "\n"
        func row(_ type: String, _ name: String, _ s: RequestStats) {
            let secs = snap.measuredSeconds
            let h = s.corrected
            var cells = [escape(type), escape(name), String(s.requests), String(s.failures),
                         ms(h.percentile(50)), mean(h), ms(h.min), ms(h.max), contentSize(s),
                         perSecond(s.requests, secs), perSecond(s.failures, secs)]
            cells += percentileCells(h)
            out += cells.joined(separator: ",") + "\n"
        }
        for i in snap.perStat.indices { row(method(snap, i), name(snap, i), snap.perStat[i]) }
        row("", "Aggregated", snap.total)
        return out
    }

    /// The `_stats_history.csv` rows for one second (no header): with `fullHistory` one row per
    /// request name, then always the `Aggregated` row, as Locust's `--csv-full-history`.
    ///
    /// Requests/s, Failures/s and the percentile columns are over the default sliding window
    /// (`snapshot.window`), not cumulative (Locust issue #2377); the `Total ...` columns are
    /// cumulative since the start. User Count is the users running now.
    public static func historyRows(_ snapshot: Snapshot, timestampUnix: Int, fullHistory: Bool) -> String {
        let window = snapshot.window
        let span = window?.span.seconds ?? 0
        var out = ""
        func row(_ type: String, _ name: String, _ w: RequestStats?, _ t: RequestStats) {
            var cells = [String(timestampUnix), String(snapshot.gauges.users), escape(type), escape(name),
                         w.map { perSecond($0.requests, span) } ?? absent, w.map { perSecond($0.failures, span) } ?? absent]
            cells += percentileCells(w?.corrected ?? LatencyHistogram())
            cells += [String(t.requests), String(t.failures), ms(t.corrected.percentile(50)), mean(t.corrected),
                      ms(t.corrected.min), ms(t.corrected.max), contentSize(t)]
            out += cells.joined(separator: ",") + "\n"
        }
        if fullHistory {
            for i in snapshot.perStat.indices {
                let w = window.flatMap { i < $0.perStat.count ? $0.perStat[i] : nil }
                row(method(snapshot, i), name(snapshot, i), w, snapshot.perStat[i])
            }
        }
        row("", "Aggregated", window?.total, snapshot.total)
        return out
    }

    /// The whole `_failures.csv`, most frequent first. First/Last Seen are Unix timestamps in
    /// seconds (three decimals), converted from the run's monotonic clock: `startNanos` is the
    /// clock's reading at the wall-clock time `startUnix`.
    public static func failures(_ result: RunResult, startNanos: UInt64, startUnix: Double) -> String {
        var out = failuresHeader + "\n"
        func unix(_ nanos: UInt64) -> String {
            let offset = nanos >= startNanos ? Double(nanos - startNanos) / 1e9 : -Double(startNanos - nanos) / 1e9
            return ReportNumber.decimal(startUnix + offset) ?? absent
        }
        for e in result.snapshot.errors.sorted {
            out += [escape(e.key.method), escape(e.key.name), escape(e.key.message), String(e.stat.occurrences),
                    unix(e.stat.firstSeenNanos), unix(e.stat.lastSeenNanos)].joined(separator: ",") + "\n"
        }
        return out
    }

    /// One CSV field: quoted (with quotes doubled) when it holds a comma, a quote, CR or LF.
    public static func escape(_ field: String) -> String {
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        var out = "\""
        for c in field.unicodeScalars {
            if c == "\"" { out += "\"\"" } else { out.unicodeScalars.append(c) }
        }
        return out + "\""
    }

    static func ms(_ micros: UInt64?) -> String { micros.map(ReportNumber.millis) ?? absent }

    static func mean(_ h: LatencyHistogram) -> String {
        h.meanMicros.flatMap { ReportNumber.decimal($0 / 1000) } ?? absent
    }

    static func contentSize(_ s: RequestStats) -> String {
        s.requests > 0 ? ReportNumber.decimal(Double(s.bytesIn) / Double(s.requests)) ?? absent : absent
    }

    static func perSecond(_ n: UInt64, _ seconds: Double) -> String {
        seconds > 0 ? ReportNumber.decimal(Double(n) / seconds) ?? absent : absent
    }

    static func percentileCells(_ h: LatencyHistogram) -> [String] {
        percentiles.map { ms(h.percentile($0)) } + [ms(h.max)]
    }

    static func name(_ snap: Snapshot, _ i: Int) -> String { i < snap.names.count ? snap.names[i] : "#\(i)" }
    static func method(_ snap: Snapshot, _ i: Int) -> String { i < snap.methods.count ? snap.methods[i] : "" }

    /// Header of `_telemetry_history.csv` (Cicada's own file; Locust has none).
    public static let telemetryHeader = "Seconds,Source,GPU,Memory Used Bytes,Memory Total Bytes,KV Cache Usage,Requests Waiting"

    /// The telemetry gauge series (GPU memory per GPU, KV cache, waiting requests) as CSV, with
    /// absent values left empty; nil when the run polled no telemetry.
    public static func telemetryHistory(_ t: TelemetrySummary?) -> String? {
        guard let t else { return nil }
        var out = telemetryHeader + "\n"
        for p in t.series {
            let cells: [String] = [
                ReportNumber.decimal(p.t) ?? "", escape(p.source), escape(p.gpu ?? ""),
                p.usedBytes.map(String.init) ?? "", p.totalBytes.map(String.init) ?? "",
                p.kvCacheUsage.flatMap { ReportNumber.decimal($0) } ?? "", p.requestsWaiting.flatMap { ReportNumber.decimal($0) } ?? "",
            ]
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    /// The header of `PREFIX_compare.csv`: one row per variant of a comparison.
    public static let comparisonHeader = "Variant,Baseline,Configuration,Request Count,Requests/s,50%,95%,99%,99.9%,Error Rate,Requests/s Change,99% Change,Error Rate Change (pp),Passed,Average Batch Size (modelled),Peak Memory Fraction (modelled)"

    /// A comparison's table as CSV (latencies in ms, changes as fractions; absent is `N/A`).
    public static func comparison(_ c: Comparison) -> String {
        func ms(_ us: UInt64?) -> String { us.map { ReportNumber.millis($0) } ?? absent }
        func num(_ v: Double?) -> String { v.flatMap { ReportNumber.decimal($0) } ?? absent }
        var out = comparisonHeader + "\n"
        for (i, r) in c.rows.enumerated() {
            let fields = [r.name, String(i == c.baselineIndex), r.config, String(r.requests), num(r.qps), ms(r.p50), ms(r.p95), ms(r.p99), ms(r.p999),
                          num(r.errorRate), num(r.qpsChange), num(r.p99Change), num(r.errorRateDeltaPoints), String(r.passed),
                          num(r.engine?.averageBatchSize), num(r.engine?.peakMemoryFraction)]
            out += fields.map(escape).joined(separator: ",") + "\n"
        }
        return out
    }
}
