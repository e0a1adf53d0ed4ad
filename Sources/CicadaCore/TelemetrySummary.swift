/// What the run knows about GPU memory and server gauges, for thresholds, summaries and reports.
///
/// Telemetry is read off the measurement path by a poller (the `CicadaTelemetry` module); the
/// runner only asks a ``TelemetryFeed`` for this summary when it builds a snapshot. Every figure
/// keeps its source and whether it is modelled; absent data stays absent.
public struct TelemetrySummary: Sendable, Equatable {
    /// One GPU as last read.
    public struct GPU: Sendable, Equatable {
        public var source: String
        public var modelled: Bool
        public var name: String
        public var usedBytes: UInt64?
        public var totalBytes: UInt64?
        /// Seconds since this reading was taken.
        public var ageSeconds: Double
        public var stale: Bool
        public init(source: String, modelled: Bool, name: String, usedBytes: UInt64?, totalBytes: UInt64?, ageSeconds: Double, stale: Bool) {
            self.source = source; self.modelled = modelled; self.name = name; self.usedBytes = usedBytes
            self.totalBytes = totalBytes; self.ageSeconds = ageSeconds; self.stale = stale
        }
        /// used / total, when both are known.
        public var usedFraction: Double? {
            guard let u = usedBytes, let t = totalBytes, t > 0 else { return nil }
            return Double(u) / Double(t)
        }
    }

    /// One point of the gauge time series (the JSON report's `telemetry.series`).
    public struct Point: Sendable, Equatable {
        public var t: Double
        public var source: String
        public var gpu: String?
        public var usedBytes: UInt64?
        public var totalBytes: UInt64?
        public var kvCacheUsage: Double?
        public var requestsWaiting: Double?
        public init(t: Double, source: String, gpu: String?, usedBytes: UInt64?, totalBytes: UInt64?, kvCacheUsage: Double?, requestsWaiting: Double?) {
            self.t = t; self.source = source; self.gpu = gpu; self.usedBytes = usedBytes; self.totalBytes = totalBytes
            self.kvCacheUsage = kvCacheUsage; self.requestsWaiting = requestsWaiting
        }
    }

    /// One reading of a process's or container's memory against its limit (the JSON report's
    /// `telemetry.memory`): what the `killed_after_memory_pressure` rule reads beside GPU memory.
    public struct MemoryPoint: Sendable, Equatable {
        /// Seconds into the run.
        public var t: Double
        /// The telemetry source (`prometheus`, `vllm`, `engine-modelled`, ...).
        public var source: String
        /// The gauge the figure came from, e.g. `container_memory_working_set_bytes` or
        /// `process_resident_memory_bytes`.
        public var gauge: String
        /// The gauge the limit came from, e.g. `container_spec_memory_limit_bytes`; nil without one.
        public var limitGauge: String?
        /// Whose memory: a container, pod or job label, when the series carries one.
        public var what: String?
        /// The memory in use, bytes.
        public var usedBytes: UInt64
        /// The memory limit; nil when none is set or exported (a figure with no limit cannot be
        /// judged against one).
        public var limitBytes: UInt64?
        /// A point as read.
        public init(t: Double, source: String, gauge: String, limitGauge: String?, what: String?, usedBytes: UInt64, limitBytes: UInt64?) {
            self.t = t; self.source = source; self.gauge = gauge; self.limitGauge = limitGauge; self.what = what
            self.usedBytes = usedBytes; self.limitBytes = limitBytes
        }
        /// used / limit, when there is a limit.
        public var usedFraction: Double? {
            guard let l = limitBytes, l > 0 else { return nil }
            return Double(usedBytes) / Double(l)
        }
    }

    /// A source's state: when last read, and its last error.
    public struct SourceState: Sendable, Equatable {
        public var name: String
        public var modelled: Bool
        public var lastReadSeconds: Double?
        public var stale: Bool
        public var error: String?
        public var reads: Int
        public var failures: Int
        public init(name: String, modelled: Bool, lastReadSeconds: Double?, stale: Bool, error: String?, reads: Int, failures: Int) {
            self.name = name; self.modelled = modelled; self.lastReadSeconds = lastReadSeconds; self.stale = stale
            self.error = error; self.reads = reads; self.failures = failures
        }
    }

    /// Latest reading of every GPU from every source.
    public var gpus: [GPU] = []
    /// The highest used/total of any GPU over the run (what `gpu_memory<90%` judges).
    public var gpuMemoryPeakFraction: Double?
    /// Which source and GPU the peak came from, e.g. "nvml GPU 0 NVIDIA H200".
    public var gpuMemoryPeakWhere: String?
    /// Whether the peak is a modelled figure.
    public var gpuMemoryPeakModelled = false
    /// Highest KV-cache fill (0..1) any server reported over the run.
    public var kvCachePeak: Double?
    /// Highest number of waiting (queued) requests any server reported over the run.
    public var queueWaitingPeak: Double?
    public var sources: [SourceState] = []
    /// Bounded time series of the gauges.
    public var series: [Point] = []
    /// Bounded time series of process and container memory (standard Prometheus and cAdvisor
    /// gauges, and the embedded engine's own process); empty when no source exports any.
    public var memorySeries: [MemoryPoint] = []
    /// Counters the server reported at its first and last scrape, with their difference
    /// (e.g. requests the server counted against requests Cicada sent).
    public var counterDiffs: [(name: String, first: Double, last: Double)] = []

    public init() {}

    public static func == (a: TelemetrySummary, b: TelemetrySummary) -> Bool {
        a.gpus == b.gpus && a.gpuMemoryPeakFraction == b.gpuMemoryPeakFraction && a.kvCachePeak == b.kvCachePeak
            && a.queueWaitingPeak == b.queueWaitingPeak && a.sources == b.sources && a.series == b.series
            && a.memorySeries == b.memorySeries
            && a.counterDiffs.map(\.name) == b.counterDiffs.map(\.name)
    }
}

/// Something the runner can ask for the telemetry so far (a poller, or a fake in tests).
public protocol TelemetryFeed: Sendable {
    /// The summary as of `nowNanos` on the run's clock.
    func summary(nowNanos: UInt64) -> TelemetrySummary
}

/// A scenario's `telemetry:` block: what to poll for GPU memory and server gauges.
public struct TelemetrySpec: Sendable, Equatable {
    /// Local GPUs: `auto` (NVML, else nvidia-smi) or `none`.
    public var gpu: String
    /// Prometheus URLs to scrape (DCGM exporter, Triton :8002, vLLM, TGI, SGLang).
    public var prometheus: [String]
    /// Scrape the target's own `/metrics` when no URL is named.
    public var scrapeTarget: Bool
    public var interval: Duration
    /// A reading older than this is shown as stale.
    public var staleAfter: Duration
    public init(gpu: String = "auto", prometheus: [String] = [], scrapeTarget: Bool = true, interval: Duration = .seconds(1), staleAfter: Duration = .seconds(5)) {
        self.gpu = gpu; self.prometheus = prometheus; self.scrapeTarget = scrapeTarget; self.interval = interval; self.staleAfter = staleAfter
    }
}
