import CicadaCore

/// One reading of GPU and server telemetry from one source at one time.
///
/// A reading is immutable data: the poller that takes it, the threshold that judges it and the
/// dashboard that shows it all see the same values. It carries its ``source``, whether its
/// numbers are ``modelled`` rather than measured, the monotonic ``timeNanos`` at which Cicada
/// took it, and its freshness: how long ago that was, plus how stale the source's own data may
/// already have been (the DCGM exporter refreshes every 30 s by default, so a scrape can return
/// numbers up to 30 s old).
public struct TelemetryReading: Sendable, Equatable {
    /// Where the numbers came from.
    public var source: TelemetrySource
    /// True when the numbers come from a model (Cicada's engine), not a measurement.
    public var modelled: Bool
    /// When Cicada took the reading, from the injected ``CicadaCore/TimeSource`` (nanoseconds).
    public var timeNanos: UInt64
    /// The newest timestamp the source wrote on the samples used (Unix milliseconds), when it wrote any.
    public var sourceTimestampMillis: Int64?
    /// How often the source refreshes its own values, when that is not "on every read".
    ///
    /// The data may be up to this much older than ``timeNanos``; ``worstCaseAge(nowNanos:)`` adds it.
    public var sourceRefreshInterval: Duration?
    /// The GPUs (or MIG instances) in the reading, ordered by index where known.
    public var gpus: [GPUReading]
    /// Inference-server gauges; empty for NVML and nvidia-smi.
    public var server: ServerGauges
    /// Process and container memory with their limits (``KnownFamilies/memoryGauges(_:)``);
    /// empty for NVML and nvidia-smi, and for scrapes that export none.
    public var memory: [MemoryGauge] = []
    /// The whole parsed scrape for Prometheus sources, so families Cicada does not map stay available by name.
    public var exposition: PrometheusExposition?

    /// Creates a reading.
    public init(
        source: TelemetrySource, modelled: Bool = false, timeNanos: UInt64, sourceTimestampMillis: Int64? = nil,
        sourceRefreshInterval: Duration? = nil, gpus: [GPUReading] = [], server: ServerGauges = ServerGauges(),
        exposition: PrometheusExposition? = nil
    ) {
        self.source = source
        self.modelled = modelled
        self.timeNanos = timeNanos
        self.sourceTimestampMillis = sourceTimestampMillis
        self.sourceRefreshInterval = sourceRefreshInterval
        self.gpus = gpus
        self.server = server
        self.exposition = exposition
    }

    /// The scraped family called `name`, known to Cicada or not; nil for NVML and nvidia-smi readings.
    public func family(named name: String) -> PrometheusFamily? {
        exposition?.family(named: name)
    }

    /// The scraped families ``KnownFamilies`` does not map, in scrape order.
    public var unknownFamilies: [PrometheusFamily] {
        exposition?.families.filter { !KnownFamilies.names.contains($0.name) } ?? []
    }

    /// Time since Cicada took the reading (zero if `nowNanos` is earlier).
    public func age(nowNanos: UInt64) -> Duration {
        .nanos(nowNanos >= timeNanos ? nowNanos - timeNanos : 0)
    }

    /// ``age(nowNanos:)`` plus ``sourceRefreshInterval``: how old the data may be at most.
    public func worstCaseAge(nowNanos: UInt64) -> Duration {
        age(nowNanos: nowNanos) + (sourceRefreshInterval ?? .zero)
    }

    /// True when the data is at most `maxAge` old even in the worst case.
    ///
    /// A threshold should skip a stale reading rather than judge a run by it: a scrape that
    /// stopped answering must not keep passing "GPU memory < 90%" with its last good value.
    public func isFresh(nowNanos: UInt64, maxAge: Duration) -> Bool {
        worstCaseAge(nowNanos: nowNanos) <= maxAge
    }
}
