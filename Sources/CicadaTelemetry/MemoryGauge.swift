/// A process's or container's memory from one scrape, with its limit where the scrape has one.
///
/// What the `killed_after_memory_pressure` diagnosis reads beside GPU memory: a server killed by
/// the kernel's OOM killer or its container's limit was at the edge of *host* memory, which GPU
/// telemetry never shows. Read from the standard names (``KnownFamilies/processResidentMemory``,
/// cAdvisor's ``KnownFamilies/containerWorkingSet`` against
/// ``KnownFamilies/containerMemoryLimit``) and the embedded engine's own cgroup gauges. A
/// figure with no limit is kept (shown) but cannot be judged; absent gauges stay absent.
public struct MemoryGauge: Sendable, Equatable {
    /// The family the figure came from, e.g. `container_memory_working_set_bytes`.
    public var gauge: String
    /// The family the limit came from, e.g. `container_spec_memory_limit_bytes`; nil without a limit.
    public var limitGauge: String?
    /// Whose memory, from the series' labels ("container vllm in pod p"), when they say.
    public var what: String?
    /// The memory in use, bytes.
    public var usedBytes: UInt64
    /// nil when no limit is set (cAdvisor writes 0 for "no limit"; cgroup v2 writes `max`).
    public var limitBytes: UInt64?

    /// Creates a gauge reading.
    public init(gauge: String, limitGauge: String? = nil, what: String? = nil, usedBytes: UInt64, limitBytes: UInt64? = nil) {
        self.gauge = gauge; self.limitGauge = limitGauge; self.what = what; self.usedBytes = usedBytes; self.limitBytes = limitBytes
    }

    /// used / limit, when there is a limit.
    public var usedFraction: Double? {
        guard let l = limitBytes, l > 0 else { return nil }
        return Double(usedBytes) / Double(l)
    }
}
