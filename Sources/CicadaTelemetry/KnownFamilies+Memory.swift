/// Process and container memory: the standard Prometheus and cAdvisor names, and the
/// embedded engine's cgroup gauges.
extension KnownFamilies {
    /// Resident memory of the exporting process, bytes (every Prometheus client library's
    /// process collector; the embedded engine's too).
    public static let processResidentMemory = "process_resident_memory_bytes"
    /// cAdvisor (kubelet `/metrics/cadvisor`): a container's working set, bytes: what the
    /// kubelet and the OOM killer judge against the limit.
    public static let containerWorkingSet = "container_memory_working_set_bytes"
    /// cAdvisor: a container's memory limit, bytes (0 when none is set).
    public static let containerMemoryLimit = "container_spec_memory_limit_bytes"
    /// Cicada engine: its cgroup's memory limit (v2 `memory.max`, v1 `memory.limit_in_bytes`),
    /// bytes; absent when unlimited or unreadable.
    public static let engineCgroupMemoryMax = "cicada_engine_cgroup_memory_max_bytes"
    /// Cicada engine: its cgroup's memory use (v2 `memory.current`, v1 `memory.usage_in_bytes`),
    /// bytes; absent when unreadable.
    public static let engineCgroupMemoryCurrent = "cicada_engine_cgroup_memory_current_bytes"
    /// Cicada engine: its cgroup's anonymous memory without page cache (v2 `memory.stat` `anon`,
    /// v1 `total_rss`), bytes; absent when unreadable.
    public static let engineCgroupMemoryRSS = "cicada_engine_cgroup_memory_rss_bytes"

    /// The memory family names this mapper reads.
    public static let memoryNames: Set<String> = [processResidentMemory, containerWorkingSet, containerMemoryLimit,
                                                  engineCgroupMemoryMax, engineCgroupMemoryCurrent, engineCgroupMemoryRSS]

    /// Process and container memory in a scrape, each with its limit where the scrape has one.
    ///
    /// cAdvisor series pair with the limit series of the same labels; the pause container
    /// (`container="POD"`) is left out. `process_resident_memory_bytes` and the engine's
    /// cgroup use pair with the engine's cgroup limit when the scrape has it (no standard
    /// gauge carries a process's memory limit: `process_virtual_memory_max_bytes` is the
    /// address-space rlimit, not a limit on resident memory, so it is not used).
    public static func memoryGauges(_ exposition: PrometheusExposition) -> [MemoryGauge] {
        func samples(_ name: String) -> [PrometheusSample] {
            exposition.family(named: name)?.samples.filter { $0.name == name && $0.value.isFinite && $0.value >= 0 } ?? []
        }
        var out: [MemoryGauge] = []
        // cAdvisor: working set against the limit of the same series (same labels).
        func identity(_ s: PrometheusSample) -> [String] {
            ["id", "container", "pod", "namespace", "name"].map { s.label($0) ?? "" }
        }
        var limits: [[String]: Double] = [:]
        for s in samples(containerMemoryLimit) { limits[identity(s)] = s.value }
        for s in samples(containerWorkingSet) where s.label("container") != "POD" {
            guard let used = bytes(s.value) else { continue }
            let limit = limits[identity(s)].flatMap { $0 > 0 ? bytes($0) : nil }
            out.append(MemoryGauge(gauge: containerWorkingSet, limitGauge: limit == nil ? nil : containerMemoryLimit,
                                   what: describe(s), usedBytes: used, limitBytes: limit))
        }
        // A process, and the embedded engine's cgroup.
        let cgroupMax = samples(engineCgroupMemoryMax).first.flatMap { $0.value > 0 ? bytes($0.value) : nil }
        for name in [processResidentMemory, engineCgroupMemoryCurrent, engineCgroupMemoryRSS] {
            for s in samples(name) {
                guard let used = bytes(s.value) else { continue }
                out.append(MemoryGauge(gauge: name, limitGauge: cgroupMax == nil ? nil : engineCgroupMemoryMax, what: describe(s),
                                       usedBytes: used, limitBytes: cgroupMax))
            }
        }
        return out
    }

    /// "container vllm in pod p (namespace n)", from whichever labels a series carries.
    static func describe(_ s: PrometheusSample) -> String? {
        var parts: [String] = []
        if let c = s.label("container"), !c.isEmpty { parts.append("container \(c)") }
        else if let n = s.label("name"), !n.isEmpty { parts.append("container \(n)") }
        if let p = s.label("pod"), !p.isEmpty { parts.append("pod \(p)") }
        if let ns = s.label("namespace"), !ns.isEmpty { parts.append("namespace \(ns)") }
        if parts.isEmpty, let id = s.label("id"), !id.isEmpty { parts.append("cgroup \(id)") }
        if parts.isEmpty, let job = s.label("job"), !job.isEmpty { parts.append("job \(job)") }
        return parts.isEmpty ? nil : parts.joined(separator: " in ")
    }
}
