import CicadaCore

/// Maps the Prometheus families Cicada knows (DCGM, Triton, vLLM, TGI, SGLang, its own engine) onto a ``TelemetryReading``.
///
/// Each server names and scales the same facts differently: DCGM gives framebuffer MiB and
/// utilization in percent keyed by `gpu`/`UUID`, Triton gives bytes and a 0...1 ratio keyed by
/// `gpu_uuid`, vLLM renamed its KV-cache gauge in 0.9. This mapper is the one place that knows,
/// so thresholds and the dashboard read bytes, ratios and counts whatever the server. Families it
/// does not know stay in ``TelemetryReading/exposition``, reachable by name.
public enum KnownFamilies {
    /// DCGM framebuffer memory used, MiB (excludes reserved memory in current exporters).
    public static let dcgmFramebufferUsed = "DCGM_FI_DEV_FB_USED"
    /// DCGM framebuffer memory free, MiB.
    public static let dcgmFramebufferFree = "DCGM_FI_DEV_FB_FREE"
    /// DCGM framebuffer memory reserved by the driver, MiB.
    public static let dcgmFramebufferReserved = "DCGM_FI_DEV_FB_RESERVED"
    /// DCGM GPU utilization, percent.
    public static let dcgmGPUUtilization = "DCGM_FI_DEV_GPU_UTIL"
    /// DCGM power draw, watts.
    public static let dcgmPowerUsage = "DCGM_FI_DEV_POWER_USAGE"
    /// Triton GPU memory used, bytes.
    public static let tritonMemoryUsed = "nv_gpu_memory_used_bytes"
    /// Triton GPU memory total, bytes.
    public static let tritonMemoryTotal = "nv_gpu_memory_total_bytes"
    /// Triton GPU utilization, 0...1.
    public static let tritonUtilization = "nv_gpu_utilization"
    /// Triton GPU power draw, watts.
    public static let tritonPowerUsage = "nv_gpu_power_usage"
    /// vLLM KV-cache usage, 0...1 (vLLM 0.9 and later).
    public static let vllmKVCacheUsage = "vllm:kv_cache_usage_perc"
    /// vLLM KV-cache usage, 0...1, under its name before vLLM 0.9.
    public static let vllmKVCacheUsageLegacy = "vllm:gpu_cache_usage_perc"
    /// vLLM requests in model execution batches.
    public static let vllmRequestsRunning = "vllm:num_requests_running"
    /// vLLM requests waiting to be processed.
    public static let vllmRequestsWaiting = "vllm:num_requests_waiting"
    /// TGI requests in the queue.
    public static let tgiQueueSize = "tgi_queue_size"
    /// TGI requests in the current batch.
    public static let tgiBatchCurrentSize = "tgi_batch_current_size"
    /// SGLang KV / token pool usage, 0...1.
    public static let sglangTokenUsage = "sglang:token_usage"
    /// SGLang running requests.
    public static let sglangRunningRequests = "sglang:num_running_reqs"
    /// SGLang requests in the waiting queue.
    public static let sglangQueuedRequests = "sglang:num_queue_reqs"
    /// Cicada engine: modelled device memory in use, bytes.
    public static let engineMemoryUsed = "cicada_engine_device_memory_used_bytes"
    /// Cicada engine: modelled device memory capacity, bytes.
    public static let engineMemoryTotal = "cicada_engine_device_memory_total_bytes"
    /// Cicada engine: requests waiting in the dynamic batcher's queue.
    public static let engineQueueSize = "cicada_engine_queue_size"

    /// Every family name this mapper reads.
    public static let names: Set<String> = Set<String>([
        dcgmFramebufferUsed, dcgmFramebufferFree, dcgmFramebufferReserved, dcgmGPUUtilization, dcgmPowerUsage,
        tritonMemoryUsed, tritonMemoryTotal, tritonUtilization, tritonPowerUsage,
        vllmKVCacheUsage, vllmKVCacheUsageLegacy, vllmRequestsRunning, vllmRequestsWaiting,
        tgiQueueSize, tgiBatchCurrentSize,
        sglangTokenUsage, sglangRunningRequests, sglangQueuedRequests,
        engineMemoryUsed, engineMemoryTotal, engineQueueSize,
    ]).union(memoryNames)

    /// DCGM's int64 "blank" value (`DCGM_INT64_BLANK`, 0x7ffffffffffffff0 = 9223372036854775792); it
    /// and the values just above it (not found, not supported, no permission) mean "no data".
    ///
    /// As a Double it rounds to 2^63, as do the sentinels above it.
    public static let dcgmInt64Blank = Double(Int64(0x7fff_ffff_ffff_fff0))

    /// DCGM's double "blank" value (`DCGM_FP64_BLANK`, 2^47); it and larger values mean "no data" in double fields.
    public static let dcgmDoubleBlank: Double = 140_737_488_355_328

    /// The DCGM exporter's default collection interval: its values may be this old when scraped.
    public static let dcgmDefaultRefreshInterval: Duration = .seconds(30)

    /// True when an int64 DCGM field's value is a blank sentinel rather than data.
    ///
    /// Prometheus values are Doubles, in which 9223372036854775792 rounds up to 2^63, as do the
    /// sentinels above it; the largest Double below that is 2^63 - 1024, so no real int64 reading
    /// is caught by mistake.
    public static func isDCGMBlank(_ value: Double) -> Bool {
        value >= dcgmInt64Blank
    }

    /// True when a double DCGM field's value (such as power in watts) is a blank sentinel.
    public static func isDCGMBlankDouble(_ value: Double) -> Bool {
        value >= dcgmDoubleBlank
    }

    /// The source a scrape most likely came from, judged by its family names.
    ///
    /// Cicada's engine is checked first (its families are modelled and must be labelled so),
    /// then DCGM, then Triton before vLLM because Triton's vLLM backend serves `vllm:*` families
    /// on Triton's own endpoint; ``TelemetrySource/prometheus`` when none match.
    public static func detectSource(_ exposition: PrometheusExposition) -> TelemetrySource {
        let names = exposition.familyNames
        func has(_ prefix: String) -> Bool { names.contains { $0.hasPrefix(prefix) } }
        if has("cicada_engine_") { return .engineModelled }
        if has("DCGM_FI_") { return .dcgm }
        if has("nv_gpu_") || has("nv_inference_") { return .triton }
        if has("vllm:") { return .vllm }
        if has("sglang:") { return .sglang }
        if has("tgi_") { return .tgi }
        return .prometheus
    }

    /// Builds a reading from a parsed scrape.
    ///
    /// - Parameters:
    ///   - exposition: the parsed scrape; kept whole in the reading.
    ///   - source: where it came from; detected from the family names when nil.
    ///   - timeNanos: when the scrape was taken, from the caller's ``CicadaCore/TimeSource``.
    ///   - refreshInterval: how often the source refreshes its own values; when nil, 30 s for
    ///     DCGM (the exporter's default) and "every scrape" for the others.
    public static func reading(
        from exposition: PrometheusExposition, source: TelemetrySource? = nil, timeNanos: UInt64,
        refreshInterval: Duration? = nil
    ) -> TelemetryReading {
        let source = source ?? detectSource(exposition)
        var gpus = GPUTable()
        var newestStamp: Int64?
        var modelled = source == .engineModelled

        func each(_ name: String, _ body: (PrometheusSample) -> Void) {
            guard let family = exposition.family(named: name) else { return }
            for sample in family.samples where sample.name == name {
                if let stamp = sample.timestampMillis { newestStamp = max(newestStamp ?? stamp, stamp) }
                if sample.label("modelled") == "true" { modelled = true }
                body(sample)
            }
        }

        // DCGM: MiB and percent, one series per GPU or MIG instance.
        var dcgmMiB: [GPUTable.Key: (used: Double?, free: Double?, reserved: Double?)] = [:]
        func dcgm(_ name: String, _ store: @escaping (inout (used: Double?, free: Double?, reserved: Double?), Double) -> Void) {
            each(name) { sample in
                let key = gpus.dcgm(sample)
                guard !isDCGMBlank(sample.value) else { return }
                store(&dcgmMiB[key, default: (nil, nil, nil)], sample.value)
            }
        }
        dcgm(dcgmFramebufferUsed) { $0.used = $1 }
        dcgm(dcgmFramebufferFree) { $0.free = $1 }
        dcgm(dcgmFramebufferReserved) { $0.reserved = $1 }
        let reservedExported = exposition.family(named: dcgmFramebufferReserved) != nil
        for (key, mib) in dcgmMiB {
            gpus.update(key) { gpu in
                gpu.memoryUsedBytes = mib.used.flatMap(bytes(mebibytes:))
                gpu.memoryFreeBytes = mib.free.flatMap(bytes(mebibytes:))
                gpu.memoryReservedBytes = mib.reserved.flatMap(bytes(mebibytes:))
                // Total is only derived when every part is known. Exporters older than
                // FB_RESERVED count reserved memory inside FB_USED, so there used + free is whole.
                if let used = mib.used, let free = mib.free {
                    if let reserved = mib.reserved {
                        gpu.memoryTotalBytes = bytes(mebibytes: used + free + reserved)
                    } else if !reservedExported {
                        gpu.memoryTotalBytes = bytes(mebibytes: used + free)
                    }
                }
            }
        }
        each(dcgmGPUUtilization) { sample in
            let key = gpus.dcgm(sample)
            guard !isDCGMBlank(sample.value), let ratio = ratio(percent: sample.value) else { return }
            gpus.update(key) { $0.utilization = ratio }
        }
        each(dcgmPowerUsage) { sample in
            let key = gpus.dcgm(sample)
            guard !isDCGMBlankDouble(sample.value), let watts = nonNegative(sample.value) else { return }
            gpus.update(key) { $0.powerWatts = watts }
        }

        // Triton: bytes and a 0...1 ratio, keyed by gpu_uuid.
        each(tritonMemoryUsed) { sample in
            let key = gpus.triton(sample)
            gpus.update(key) { $0.memoryUsedBytes = bytes(sample.value) }
        }
        each(tritonMemoryTotal) { sample in
            let key = gpus.triton(sample)
            gpus.update(key) { $0.memoryTotalBytes = bytes(sample.value) }
        }
        each(tritonUtilization) { sample in
            let key = gpus.triton(sample)
            gpus.update(key) { $0.utilization = nonNegative(sample.value) }
        }
        each(tritonPowerUsage) { sample in
            let key = gpus.triton(sample)
            gpus.update(key) { $0.powerWatts = nonNegative(sample.value) }
        }

        // Cicada's engine: one modelled device, named by its profile.
        each(engineMemoryUsed) { sample in
            let key = gpus.engine(sample)
            gpus.update(key) { $0.memoryUsedBytes = bytes(sample.value) }
        }
        each(engineMemoryTotal) { sample in
            let key = gpus.engine(sample)
            gpus.update(key) { $0.memoryTotalBytes = bytes(sample.value) }
        }

        // Server gauges: counts summed over series, KV-cache fill the largest.
        func values(_ name: String) -> [Double] {
            var out: [Double] = []
            each(name) { if !$0.value.isNaN { out.append($0.value) } }
            return out
        }
        let vllmKV = values(vllmKVCacheUsage)
        let kv = (vllmKV.isEmpty ? values(vllmKVCacheUsageLegacy) : vllmKV) + values(sglangTokenUsage)
        var server = ServerGauges()
        server.kvCacheUsage = kv.max()
        server.requestsRunning = total(values(vllmRequestsRunning) + values(sglangRunningRequests))
        server.requestsWaiting = total(values(vllmRequestsWaiting) + values(sglangQueuedRequests))
        server.queueSize = total(values(tgiQueueSize) + values(engineQueueSize))
        server.batchSize = total(values(tgiBatchCurrentSize))

        var reading = TelemetryReading(
            source: source, modelled: modelled, timeNanos: timeNanos, sourceTimestampMillis: newestStamp,
            sourceRefreshInterval: refreshInterval ?? (source == .dcgm ? dcgmDefaultRefreshInterval : nil),
            gpus: gpus.sorted(), server: server, exposition: exposition)
        reading.memory = memoryGauges(exposition)
        return reading
    }

    private static func total(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +)
    }

    private static func nonNegative(_ value: Double) -> Double? {
        value.isFinite && value >= 0 ? value : nil
    }

    private static func ratio(percent: Double) -> Double? {
        nonNegative(percent).map { $0 / 100 }
    }

    /// Bytes from a Double, nil for NaN, infinities, negatives and values past UInt64.
    static func bytes(_ value: Double) -> UInt64? {
        guard value.isFinite, value >= 0, value < 18_446_744_073_709_551_616 else { return nil }
        return UInt64(value.rounded())
    }

    static func bytes(mebibytes: Double) -> UInt64? {
        bytes(mebibytes * 1_048_576)
    }
}

/// GPUs gathered while mapping, keyed by UUID (or index) and MIG instance, in first-seen order.
private struct GPUTable {
    struct Key: Hashable {
        var id: String
        var mig: String?
    }

    private var order: [Key] = []
    private var byKey: [Key: GPUReading] = [:]

    /// A DCGM series: `UUID`, `gpu` (index), `modelName`, `GPU_I_ID`.
    mutating func dcgm(_ sample: PrometheusSample) -> Key {
        let uuid = sample.label("UUID")
        let gpu = sample.label("gpu")
        let mig = sample.label("GPU_I_ID")
        let key = Key(id: uuid.map { "uuid:" + $0 } ?? gpu.map { "gpu:" + $0 } ?? "", mig: mig)
        update(key) { reading in
            reading.uuid = reading.uuid ?? uuid
            reading.index = reading.index ?? gpu.flatMap { Int($0) }
            reading.name = reading.name ?? sample.label("modelName")
            reading.migInstanceID = reading.migInstanceID ?? mig
        }
        return key
    }

    /// A Triton series: `gpu_uuid`.
    mutating func triton(_ sample: PrometheusSample) -> Key {
        let uuid = sample.label("gpu_uuid")
        let key = Key(id: uuid.map { "uuid:" + $0 } ?? "", mig: nil)
        update(key) { reading in reading.uuid = reading.uuid ?? uuid }
        return key
    }

    /// A Cicada engine series: `gpu` names the modelled device profile, not an index.
    mutating func engine(_ sample: PrometheusSample) -> Key {
        let name = sample.label("gpu")
        let key = Key(id: "engine:" + (name ?? ""), mig: nil)
        update(key) { reading in reading.name = reading.name ?? name }
        return key
    }

    mutating func update(_ key: Key, _ body: (inout GPUReading) -> Void) {
        if byKey[key] == nil {
            order.append(key)
            byKey[key] = GPUReading()
        }
        body(&byKey[key]!)
    }

    /// By index where known (GPUs without one after those with one), then first-seen order.
    func sorted() -> [GPUReading] {
        order.enumerated()
            .compactMap { position, key in byKey[key].map { (position, $0) } }
            .sorted { a, b in
                let ia = a.1.index ?? Int.max, ib = b.1.index ?? Int.max
                return ia != ib ? ia < ib : a.0 < b.0
            }
            .map(\.1)
    }
}
