import CicadaCore

/// The machine-readable report of a run: one versioned JSON document (`cicada.report/v1`).
///
/// Meant for CI pipelines and dashboards (the counterpart of k6's `--summary-export` and
/// Locust's `--json`). Keys always appear, in a fixed order, whatever the run measured;
/// a value that was not measured (an empty histogram, a rate over no requests) is `null`,
/// never `0`, so a consumer can tell "fast" from "absent". Latencies are milliseconds with at
/// most three decimals: min, max and mean are exact to the recorded microsecond, percentiles
/// are HdrHistogram's (three significant digits, clamped to [min, max]). Rates are per second;
/// `duration_s` is the measured span (since the last stats reset, if any).
/// Written by hand rather than with `JSONEncoder` so the key order is stable and documented.
public struct JSONReport: Sendable {
    /// The value of the document's `schema` key; changes only when a key is removed or its
    /// meaning changes (adding keys keeps the version).
    public static let schema = "cicada.report/v1"

    /// The run's start on the monotonic clock (the ``TimeSource`` reading the aggregator was
    /// started with). When given, each error's first and last sighting is reported in seconds
    /// since the start; without it they are `null` (raw monotonic readings mean nothing).
    public var startNanos: UInt64?

    /// - Parameter startNanos: the run's start on the monotonic clock, to place errors in time.
    public init(startNanos: UInt64? = nil) { self.startNanos = startNanos }

    /// The report as text, ending with a newline.
    public func render(_ result: RunResult) -> String {
        var s = ""
        write(result, to: &s)
        return s
    }

    /// Writes the report to `out`.
    public func write(_ result: RunResult, to out: inout some TextOutputStream) {
        document(result).write(to: &out)
        out.write("\n")
    }

    func document(_ r: RunResult) -> JSONOut {
        let snap = r.snapshot
        let total = snap.total
        let lag = snap.scheduleLag
        return .object([
            ("schema", .string(Self.schema)),
            ("scenario", .string(r.scenarioName)),
            ("target", .string(r.target)),
            ("model", .string(r.modelDescription)),
            ("started_at", .string(ReportText.iso8601(unix: r.startedAtUnix))),
            ("duration_s", .number(snap.measuredSeconds)),
            ("stop_reason", .string(ReportText.code(r.stopReason))),
            ("abort_threshold", .string(ReportText.abortThreshold(r.stopReason))),
            ("passed", .bool(r.passed)),
            ("workers", .integer(UInt64(max(0, r.workers)))),
            ("transport", .string(r.transport)),
            ("generator_cpu_s", .number(r.cpuSeconds)),
            ("totals", .object([
                ("requests", .integer(total.requests)),
                ("failures", .integer(total.failures)),
                ("error_rate", .number(total.errorRate)),
                ("qps", .number(snap.qps)),
                ("bytes_in", .integer(total.bytesIn)),
                ("bytes_out", .integer(total.bytesOut)),
                ("failures_by_kind", .object(FailureKind.allCases.map { ($0.rawValue, .integer(total.failuresByKind[$0] ?? 0)) })),
                ("status_codes", .object(total.statusCodes.sorted { $0.key < $1.key }.map { (String($0.key), .integer($0.value)) })),
            ])),
            ("latency_ms", Self.latencies(total)),
            ("schedule_lag_ms", .object([
                ("p50", .millis(lag.percentile(50))),
                ("p99", .millis(lag.percentile(99))),
                ("max", .millis(lag.max)),
            ])),
            ("dropped", .integer(snap.dropped)),
            ("cut_off", .integer(snap.cutOff)),
            ("measurement_window", MeasurementReport.json(r)),
            ("requests_out", MeasurementReport.requestsOutJSON(r)),
            ("tasks", .array(snap.perStat.indices.map { i in
                let s = snap.perStat[i]
                return .object([
                    ("name", .string(i < snap.names.count ? snap.names[i] : "#\(i)")),
                    ("method", .string(i < snap.methods.count ? snap.methods[i] : "")),
                    ("requests", .integer(s.requests)),
                    ("failures", .integer(s.failures)),
                    ("qps", .number(snap.qps(of: i))),
                    ("latency_ms", Self.latencies(s)),
                    ("confidence", ConfidenceReport.taskJSON(r, index: i)),
                ])
            })),
            ("thresholds", .array(r.thresholds.map { t in
                .object([
                    ("expression", .string(t.threshold.spec.expression)),
                    ("passed", .bool(t.passed)),
                    ("measured", .number(t.measured)),
                    ("measured_text", .string(t.measuredText)),
                    ("abort_on_fail", .bool(t.threshold.spec.abortOnFail)),
                    ("unit", .string(Self.unit(t.threshold))),
                ])
            })),
            ("diagnoses", .array(r.diagnoses.map { d in
                .object([
                    ("rule", .string(d.rule)),
                    ("severity", .string(d.severity.rawValue)),
                    ("symptom", .string(d.symptom)),
                    ("cause", .string(d.cause)),
                    ("evidence", .array(d.evidence.map { .string($0) })),
                    ("action", .string(d.action)),
                    ("fired_at_s", .number(d.firedAtSeconds)),
                ])
            })),
            ("consistency", ConsistencyReport.json(r.consistency)),
            ("errors", .array(snap.errors.sorted.map { e in
                .object([
                    ("method", .string(e.key.method)),
                    ("name", .string(e.key.name)),
                    ("message", .string(e.key.message)),
                    ("occurrences", .integer(e.stat.occurrences)),
                    ("first_seen_s", .number(relative(e.stat.firstSeenNanos))),
                    ("last_seen_s", .number(relative(e.stat.lastSeenNanos))),
                ])
            })),
            ("timeline", .array(r.timeline.points.map { p in
                .object([
                    ("t", .number(p.t)),
                    ("users", .integer(UInt64(max(0, p.users)))),
                    ("qps", .number(p.qps)),
                    ("failures_per_s", .number(p.failuresPerSecond)),
                    ("p50_ms", .number(p.p50Millis)),
                    ("p95_ms", .number(p.p95Millis)),
                    ("p99_ms", .number(p.p99Millis)),
                    ("window", .string(p.phase.rawValue)),
                ])
            })),
            ("events", .array(r.events.map { e in
                .object([("t", .number(e.t)), ("kind", .string(e.kind)), ("detail", .string(e.detail))])
            })),
            ("llm", LLMReport.json(r, goodputConfigured: r.goodputConfigured)),
            ("telemetry", TelemetryReport.json(snap.telemetry)),
            ("breakdown", BreakdownReport.json(r)),
            ("split", SplitReport.json(r)),
            ("confidence", ConfidenceReport.json(r)),
            ("repetitions", ConfidenceReport.repetitionsJSON(r)),
        ])
    }

    /// Seconds from the run's start to `nanos`, when the start is known.
    func relative(_ nanos: UInt64) -> Double? {
        startNanos.map { Double(nanos &- min($0, nanos)) / 1e9 }
    }

    /// The percentiles reported for every histogram, with their keys.
    static let percentiles: [(String, Double)] = [
        ("p50", 50), ("p66", 66), ("p75", 75), ("p80", 80), ("p90", 90), ("p95", 95),
        ("p98", 98), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99),
    ]

    static func latencies(_ s: RequestStats) -> JSONOut {
        .object([("corrected", histogram(s.corrected)), ("raw", histogram(s.raw)), ("ttfb", histogram(s.ttfb))])
    }

    static func histogram(_ h: LatencyHistogram) -> JSONOut {
        var pairs: [(String, JSONOut)] = [("min", .millis(h.min)), ("mean", .number(h.meanMicros.map { $0 / 1000 }))]
        for (k, p) in percentiles { pairs.append((k, .millis(h.percentile(p)))) }
        pairs.append(("max", .millis(h.max)))
        pairs.append(("count", .integer(h.count)))
        return .object(pairs)
    }

    /// The unit of a threshold's measured value: `ms`, `ratio`, `req/s` or `count`.
    static func unit(_ t: Threshold) -> String {
        switch t.metric {
        case .latency, .rawLatency, .ttfb, .ttft, .tpot, .itl, .e2el: return t.aggregate == .count ? "count" : "ms"
        case .errorRate: return "ratio"
        case .qps, .goodput: return "req/s"
        case .outputThroughput: return "tok/s"
        case .gpuMemory, .kvCache: return "ratio"
        case .queueWaiting: return "count"
        case .requests, .failures: return "count"
        }
    }
}
