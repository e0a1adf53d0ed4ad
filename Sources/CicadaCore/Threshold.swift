import Foundation

/// A pass/fail criterion as written in a scenario or on the command line.
public struct ThresholdSpec: Sendable, Equatable {
    /// The expression, e.g. `p(99)<100ms`, `predict: p(95)<80ms over 30s`, `error_rate<1%`.
    public var expression: String
    /// Stop the run as soon as this threshold fails (k6 `abortOnFail`).
    public var abortOnFail: Bool
    /// Do not abort before this much of the run has passed (k6 `delayAbortEval`).
    public var delayAbortEval: Duration
    public init(_ expression: String, abortOnFail: Bool = false, delayAbortEval: Duration = .zero) {
        self.expression = expression; self.abortOnFail = abortOnFail; self.delayAbortEval = delayAbortEval
    }

    /// Ready threshold sets a scenario names with `thresholds: [{preset: NAME}]`. `seed`: the
    /// seed service's targets (p99 under 100 ms, at least 500 req/s, GPU memory under 90 %).
    public static let presets: [String: [String]] = [
        "seed": ["p(99)<100ms", "qps>=500", "gpu_memory<90%"],
    ]
}

/// A parsed threshold: `[task:] [metric.]aggregate op value [over window]`.
///
/// The grammar is k6's (`avg min max med p(N) count rate`, `< <= > >= == !=`, values in ms
/// for latencies unless a unit is given) plus Cicada's `qps`, `error_rate`, per-task prefixes
/// and sliding windows. Latency metrics: `latency` (default; corrected for coordinated
/// omission; k6 alias `http_req_duration`), `raw_latency`, `ttfb` (alias `http_req_waiting`).
/// Rates: `error_rate` (alias `http_req_failed`, also `rate` after a latency-less name), and
/// `qps` (alias `rps`, `http_reqs.rate`). A threshold with no data to judge fails.
public struct Threshold: Sendable, Equatable {
    /// What is measured.
    public enum Metric: String, Sendable, Equatable {
        case latency, rawLatency = "raw_latency", ttfb, errorRate = "error_rate", qps, requests, failures
        /// Streamed responses (vLLM's definitions): time to first token, time per output token,
        /// inter-token latency, end-to-end latency.
        case ttft, tpot, itl, e2el
        /// Successful streams meeting the goodput SLOs, per second.
        case goodput
        /// Output tokens per second.
        case outputThroughput = "output_throughput"
        /// The highest GPU memory used/total of any GPU over the run (telemetry).
        case gpuMemory = "gpu_memory"
        /// The highest KV-cache fill a server reported over the run (0..1).
        case kvCache = "kv_cache"
        /// The most requests a server reported waiting in its queue over the run.
        case queueWaiting = "queue_waiting"
        /// Whether the figure comes from telemetry (and so "no data" means "no GPU telemetry").
        public var isTelemetry: Bool { self == .gpuMemory || self == .kvCache || self == .queueWaiting }
        var isLatency: Bool { [.latency, .rawLatency, .ttfb, .ttft, .tpot, .itl, .e2el].contains(self) }
    }

    /// How the measurements are reduced to one number.
    public enum Aggregate: Sendable, Equatable {
        case avg, min, max, med, percentile(Double), count, value
    }

    /// The comparison.
    public enum Op: String, Sendable, Equatable, CaseIterable {
        case le = "<=", ge = ">=", eq = "==", ne = "!=", lt = "<", gt = ">"
        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .lt: return a < b
            case .le: return a <= b
            case .gt: return a > b
            case .ge: return a >= b
            case .eq: return a == b
            case .ne: return a != b
            }
        }
    }

    public var spec: ThresholdSpec
    /// Restricts the threshold to one task name; nil = all requests.
    public var task: String?
    public var metric: Metric
    public var aggregate: Aggregate
    public var op: Op
    /// The bound, in milliseconds for latencies, a fraction for rates, req/s for qps.
    public var bound: Double
    /// Judge over this trailing window instead of the whole run.
    public var windowSeconds: Int?

    /// A threshold that could not be parsed, with why.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses a threshold expression.
    public init(_ spec: ThresholdSpec) throws(ParseError) {
        self.spec = spec
        var text = Substring(spec.expression.trimmingCharacters(in: .whitespaces))
        func fail(_ m: String) -> ParseError { ParseError(message: "threshold \"\(spec.expression)\": \(m)") }

        // Trailing window: "... over 30s".
        windowSeconds = nil
        // (A search of the UTF-8 bytes, as templates do: Foundation's bridged to NSString on
        // every call, and a search by Character would let a neighbouring mark hide an operator.)
        if let r = text.utf8.firstRange(of: " over ".utf8) {
            let w = text[r.upperBound...].trimmingCharacters(in: .whitespaces)
            guard let d = DurationText.parse(w), d >= .seconds(1) else { throw fail("window \"\(w)\" is not a duration of at least 1s") }
            windowSeconds = Int(d.seconds.rounded(.up))
            text = text[..<r.lowerBound]
        }

        // Comparison operator: the first one found, two-character ones before one-character.
        var found: (Op, Range<Substring.Index>)?
        for op in Op.allCases {
            if let r = text.utf8.firstRange(of: op.rawValue.utf8), found == nil || r.lowerBound < found!.1.lowerBound { found = (op, r) }
        }
        guard let (op, opRange) = found else { throw fail("no comparison (one of < <= > >= == !=)") }
        self.op = op
        var lhs = text[..<opRange.lowerBound].trimmingCharacters(in: .whitespaces)
        let rhs = text[opRange.upperBound...].trimmingCharacters(in: .whitespaces)

        // Task prefix: "predict: p(95)".
        task = nil
        if let colon = lhs.firstIndex(of: ":") {
            let name = lhs[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw fail("empty task name before ':'") }
            task = name
            lhs = lhs[lhs.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }

        // Metric and aggregate: "ttfb.p(95)", "p(99)", "qps", "error_rate", "http_req_failed.rate".
        var metricName: String? = nil
        var aggName = lhs
        if let dot = lhs.firstIndex(of: "."), !lhs[..<dot].contains("(") {
            metricName = String(lhs[..<dot])
            aggName = String(lhs[lhs.index(after: dot)...])
        }
        let standalone: [String: Metric] = [
            "qps": .qps, "rps": .qps, "error_rate": .errorRate, "http_req_failed": .errorRate,
            "requests": .requests, "http_reqs": .requests, "failures": .failures,
            "goodput": .goodput, "request_goodput": .goodput, "output_throughput": .outputThroughput,
            "gpu_memory": .gpuMemory, "kv_cache": .kvCache, "queue_waiting": .queueWaiting,
        ]
        let latencyNames: [String: Metric] = [
            "latency": .latency, "http_req_duration": .latency, "raw_latency": .rawLatency,
            "ttfb": .ttfb, "http_req_waiting": .ttfb,
            "ttft": .ttft, "tpot": .tpot, "itl": .itl, "e2el": .e2el,
        ]
        if metricName == nil, let m = standalone[aggName] {
            metric = m
            aggregate = m == .requests || m == .failures ? .count : .value
        } else if let mn = metricName, let m = standalone[mn] {
            // "http_req_failed.rate", "http_reqs.count", "http_reqs.rate" (k6's request rate is qps).
            switch (m, aggName) {
            case (.errorRate, "rate"), (.errorRate, "value"): metric = .errorRate; aggregate = .value
            case (.requests, "count"), (.failures, "count"): metric = m; aggregate = .count
            case (.requests, "rate"): metric = .qps; aggregate = .value
            default: throw fail("'\(aggName)' does not apply to \(mn)")
            }
        } else {
            if let mn = metricName {
                guard let m = latencyNames[mn] else {
                    let all = Array(latencyNames.keys) + Array(standalone.keys)
                    let hint = Suggest.closest(mn, in: all).map { " (did you mean '\($0)'?)" } ?? ""
                    throw fail("unknown metric '\(mn)'\(hint)")
                }
                metric = m
            } else {
                metric = .latency
            }
            switch aggName {
            case "avg": aggregate = .avg
            case "min": aggregate = .min
            case "max": aggregate = .max
            case "med": aggregate = .med
            case "count": aggregate = .count
            case "rate":
                // k6's bare "rate" is the failure rate of http_req_failed.
                guard metricName == nil else { throw fail("'rate' does not apply to a latency; use error_rate or qps") }
                metric = .errorRate; aggregate = .value
            default:
                if aggName.hasPrefix("p("), aggName.hasSuffix(")"), let p = Double(aggName.dropFirst(2).dropLast()), p > 0, p <= 100 {
                    aggregate = .percentile(p)
                } else {
                    let known = ["avg", "min", "max", "med", "p(N)", "count", "rate", "qps", "error_rate"]
                    var hint = Suggest.closest(aggName, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                    if aggName.hasPrefix("p"), Double(aggName.dropFirst()) != nil {
                        hint = " (did you mean 'p(\(aggName.dropFirst()))'?)"
                    }
                    throw fail("unknown aggregate '\(aggName)'\(hint); use avg, min, max, med, p(N) with 0<N<=100, count, qps or error_rate")
                }
            }
        }

        // Bound with its unit.
        switch metric {
        case .latency, .rawLatency, .ttfb, .ttft, .tpot, .itl, .e2el:
            if aggregate == .count {
                guard let v = Double(rhs) else { throw fail("\"\(rhs)\" is not a count") }
                bound = v
            } else {
                guard let d = DurationText.parse(rhs, defaultUnit: .milliseconds) else {
                    throw fail("\"\(rhs)\" is not a duration (e.g. 100ms, 1.5s, or a bare number of ms)")
                }
                bound = d.milliseconds
            }
        case .gpuMemory, .kvCache:
            if rhs.hasSuffix("%"), let v = Double(rhs.dropLast().trimmingCharacters(in: .whitespaces)) {
                bound = v / 100
            } else if let v = Double(rhs), v <= 1 {
                bound = v
            } else { throw fail("\"\(rhs)\" is not a fraction 0..1 or a percentage (e.g. 90%)") }
        case .queueWaiting:
            guard let v = Double(rhs) else { throw fail("\"\(rhs)\" is not a number of requests") }
            bound = v
        case .errorRate:
            if rhs.hasSuffix("%"), let v = Double(rhs.dropLast().trimmingCharacters(in: .whitespaces)) {
                bound = v / 100
            } else if let v = Double(rhs) {
                guard v <= 1 else { throw fail("an error rate is a fraction 0..1 or a percentage; did you mean \(rhs)%?") }
                bound = v
            } else { throw fail("\"\(rhs)\" is not a rate (e.g. 0.01 or 1%)") }
        case .qps, .goodput, .outputThroughput:
            guard let v = Double(rhs.hasSuffix("/s") ? String(rhs.dropLast(2)) : rhs) else { throw fail("\"\(rhs)\" is not a number per second") }
            bound = v
        case .requests, .failures:
            guard let v = Double(rhs) else { throw fail("\"\(rhs)\" is not a count") }
            bound = v
        }
    }

    /// The measured value for this threshold in `snapshot`, or nil when there is no data.
    public func measure(_ snapshot: Snapshot) -> Double? {
        let stats: RequestStats
        let seconds: Double
        if let w = windowSeconds {
            guard let win = snapshot.windows[w] else { return nil }
            seconds = win.span.seconds
            if let t = task { guard let i = snapshot.index(of: t) else { return nil }; stats = win.perStat[i] } else { stats = win.total }
        } else {
            seconds = snapshot.measuredSeconds
            if let t = task { guard let i = snapshot.index(of: t) else { return nil }; stats = snapshot.perStat[i] } else { stats = snapshot.total }
        }
        switch metric {
        case .qps: return seconds > 0 ? Double(stats.requests) / seconds : nil
        case .gpuMemory: return snapshot.telemetry?.gpuMemoryPeakFraction
        case .kvCache: return snapshot.telemetry?.kvCachePeak
        case .queueWaiting: return snapshot.telemetry?.queueWaitingPeak
        case .goodput:
            guard let l = stats.llm, seconds > 0 else { return nil }
            return Double(l.goodRequests) / seconds
        case .outputThroughput:
            guard let l = stats.llm, seconds > 0 else { return nil }
            return Double(l.outputTokens) / seconds
        case .errorRate: return stats.errorRate
        case .requests: return Double(stats.requests)
        case .failures: return Double(stats.failures)
        case .latency, .rawLatency, .ttfb, .ttft, .tpot, .itl, .e2el:
            let h: LatencyHistogram
            switch metric {
            case .latency: h = stats.corrected
            case .rawLatency: h = stats.raw
            case .ttfb: h = stats.ttfb
            case .ttft: guard let l = stats.llm else { return nil }; h = l.ttft
            case .tpot: guard let l = stats.llm else { return nil }; h = l.tpot
            case .itl: guard let l = stats.llm else { return nil }; h = l.itl
            default: guard let l = stats.llm else { return nil }; h = l.e2el
            }
            if aggregate == .count { return Double(h.count) }
            let micros: Double?
            switch aggregate {
            case .avg: micros = h.meanMicros
            case .min: micros = h.min.map { Double($0) }
            case .max: micros = h.max.map { Double($0) }
            case .med: micros = h.percentile(50).map { Double($0) }
            case .percentile(let p): micros = h.percentile(p).map { Double($0) }
            case .count, .value: micros = nil
            }
            return micros.map { $0 / 1000 }
        }
    }

    /// Judges the threshold against a snapshot.
    public func evaluate(_ snapshot: Snapshot) -> ThresholdResult {
        guard let v = measure(snapshot) else { return ThresholdResult(threshold: self, passed: false, measured: nil) }
        return ThresholdResult(threshold: self, passed: op.holds(v, bound), measured: v)
    }

    /// The measured value formatted in the threshold's unit.
    public func format(_ v: Double) -> String {
        switch metric {
        case .latency, .rawLatency, .ttfb, .ttft, .tpot, .itl, .e2el:
            return aggregate == .count ? String(Int(v)) : Format.millis(v)
        case .errorRate: return Format.number(v * 100, digits: 2) + "%"
        case .qps, .goodput: return Format.number(v, digits: 1) + "/s"
        case .outputThroughput: return Format.number(v, digits: 1) + " tok/s"
        case .gpuMemory, .kvCache: return Format.number(v * 100, digits: 1) + "%"
        case .queueWaiting: return Format.number(v, digits: 0)
        case .requests, .failures: return String(Int(v))
        }
    }
}

/// The verdict on one threshold.
public struct ThresholdResult: Sendable, Equatable {
    public var threshold: Threshold
    public var passed: Bool
    /// The measured value in the threshold's unit; nil when there was no data.
    public var measured: Double?
    /// Why no verdict is given, when one cannot be (`cicada dash --shards`: "partial: 2 of 3
    /// shards" when only some shards sent what the threshold reads); then `passed` is false and
    /// `measured` nil, and the dashboard shows neither a pass nor a fail. Nil for a verdict.
    public var noVerdict: String?
    /// The measured value as text, or why there is none ("no GPU telemetry" for GPU gauges).
    public var measuredText: String {
        noVerdict ?? measured.map(threshold.format) ?? (threshold.metric.isTelemetry ? "no GPU telemetry" : "no data")
    }
    public init(threshold: Threshold, passed: Bool, measured: Double?) {
        self.threshold = threshold; self.passed = passed; self.measured = measured
    }
}

/// Number formatting shared by printers, so every output rounds the same way.
public enum Format {
    /// `(value - base) / base`; nil when either is absent or not finite, or the base is zero.
    public static func relativeChange(_ value: Double?, from base: Double?) -> Double? {
        guard let v = value, let b = base, b != 0, v.isFinite, b.isFinite else { return nil }
        return (v - b) / b
    }

    /// A relative change as text: "+12.3%", "-4.0%", "-" when absent; from ten times the base
    /// on, a ratio ("197x", with `times` as the mark), which reads better and fits a column.
    public static func change(_ change: Double?, times: String = "x") -> String {
        guard let c = change else { return "-" }
        if c + 1 >= 10 { return number(c + 1, digits: 0) + times }
        let p = c * 100
        return (p >= 0 ? "+" : "") + number(p, digits: 1) + "%"
    }

    /// A number with up to `digits` decimals, trailing zeros kept (fixed width columns).
    public static func number(_ v: Double, digits: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "+Inf" : "-Inf") }
        // Past 2^53 there are no decimals to show, and the fixed-point path below would not fit
        // UInt64 (a damaged file's figures can be that large): Swift's own shortest form.
        guard abs(v) < 9.0e15 else { return "\(v)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (abs(v) * scale).rounded()
        let whole = UInt64(r / scale)
        let frac = UInt64(r - Double(whole) * scale)
        var s = (v < 0 && r != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
        }
        return s
    }

    /// Milliseconds with precision that suits the size: `0.052ms`, `12.3ms`, `1534ms`.
    public static func millis(_ ms: Double) -> String {
        if ms < 1 { return number(ms, digits: 3) + "ms" }
        if ms < 100 { return number(ms, digits: 2) + "ms" }
        return number(ms, digits: 1) + "ms"
    }

    /// Microseconds shown as milliseconds.
    public static func micros(_ us: UInt64?) -> String { us.map { millis(Double($0) / 1000) } ?? "-" }
}
