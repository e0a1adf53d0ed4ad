import Foundation

/// What a run's measurements mean, in the symptom / likely cause / fix shape of a deployment
/// guide's troubleshooting table, with the figures that made the rule fire.
///
/// Produced by ``DiagnosisRules/evaluate(_:)`` from ``DiagnosisFacts`` (pure: the same rules run
/// on each live snapshot and on the finished run). docs/DIAGNOSES.md lists every rule.
public struct Diagnosis: Sendable, Equatable {
    /// How much it matters.
    public enum Severity: String, Sendable, Equatable, Comparable {
        /// The server is failing requests, or about to.
        case critical
        /// Worth acting on; the figures may also be the client's rather than the server's.
        case warning

        public static func < (a: Severity, b: Severity) -> Bool { a == .critical && b == .warning }
    }

    /// The rule's stable name (`gpu_out_of_memory`, `generator_behind`, ...), for reports and
    /// for turning a rule off.
    public var rule: String
    public var severity: Severity
    /// What was seen, in one sentence.
    public var symptom: String
    /// The likely cause.
    public var cause: String
    /// The measured figures behind it (each names its source; modelled values say so).
    public var evidence: [String]
    /// What to change, naming the setting or key where there is one.
    public var action: String
    /// Seconds into the run when the rule first fired (live); nil when only the finished run
    /// was judged.
    public var firedAtSeconds: Double?

    public init(rule: String, severity: Severity, symptom: String, cause: String, evidence: [String], action: String, firedAtSeconds: Double? = nil) {
        self.rule = rule; self.severity = severity; self.symptom = symptom; self.cause = cause
        self.evidence = evidence; self.action = action; self.firedAtSeconds = firedAtSeconds
    }
}

/// The embedded engine's batching, for the out-of-memory rule's advice: which batch size fits.
public struct BatchMemoryFacts: Sendable, Equatable {
    /// The engine's maximum batch size now.
    public var maxBatchSize: Int
    /// The largest batch of the run's typical request that fits in ``DiagnosisLimits/fitFraction``
    /// of the (modelled) device memory; nil when not even one fits.
    public var largestFitting: Int?
    /// The typical request the figure was computed for (mean input and output tokens).
    public var inputTokens: Int
    public var outputTokens: Int
    /// Whether the memory figures are the engine's device model (always, for the embedded engine).
    public var modelled: Bool

    public init(maxBatchSize: Int, largestFitting: Int?, inputTokens: Int, outputTokens: Int, modelled: Bool = true) {
        self.maxBatchSize = maxBatchSize; self.largestFitting = largestFitting
        self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.modelled = modelled
    }
}

/// Everything the rules read: a snapshot (live or final) and what only some runs have.
public struct DiagnosisFacts: Sendable {
    public var snapshot: Snapshot
    /// The process's CPU time over its wall time and workers (1 = every worker busy; an
    /// embedded engine or local target in the same process counts too); nil while live.
    public var generatorCPUFraction: Double?
    /// The embedded engine's batching and memory, when the run drove it.
    public var batchMemory: BatchMemoryFacts?
    /// The run's start on its time source (error first/last-seen times count from it); nil
    /// leaves out the rules that order errors against telemetry.
    public var startNanos: UInt64?
    /// The consistency probe's findings; nil when the scenario has none.
    public var consistency: ConsistencySummary?

    /// Facts from a snapshot; `consistency` defaults to the snapshot's own (a live run's probe
    /// findings so far), so the live panel and the finished run judge the probe with one rule.
    public init(snapshot: Snapshot, generatorCPUFraction: Double? = nil, batchMemory: BatchMemoryFacts? = nil, startNanos: UInt64? = nil,
                consistency: ConsistencySummary? = nil) {
        self.snapshot = snapshot; self.generatorCPUFraction = generatorCPUFraction; self.batchMemory = batchMemory
        self.startNanos = startNanos; self.consistency = consistency ?? snapshot.consistency
    }

    /// The facts of a finished run.
    public init(result: RunResult, batchMemory: BatchMemoryFacts? = nil) {
        let wall = result.snapshot.elapsed.seconds * Double(max(result.workers, 1))
        self.init(snapshot: result.snapshot, generatorCPUFraction: wall > 0 ? result.cpuSeconds / wall : nil, batchMemory: batchMemory,
                  startNanos: result.startNanos, consistency: result.consistency)
    }
}

/// The thresholds the rules use. Each has a default a deployment guide would use; a scenario's
/// `diagnoses:` block changes them and turns rules off.
public struct DiagnosisLimits: Sendable, Equatable {
    /// GPU memory used over total at or above which memory is "near the edge".
    public var gpuMemoryFraction = 0.9
    /// The memory fraction a suggested batch size must fit in.
    public var fitFraction = 0.8
    /// Spread of memory use across GPUs (max - min, as fractions) that counts as uneven.
    public var gpuSpread = 0.2
    /// Corrected p99 over p50 at or above which latency "swings".
    public var p99OverP50 = 3.0
    /// Schedule lag p99 above which the generator is behind (milliseconds).
    public var lagP99Millis = 10.0
    /// Generator CPU fraction at or above which it is saturated.
    public var generatorCPU = 0.9
    /// Corrected p99 over raw p99 at or above which coordinated omission is at work.
    public var correctedOverRaw = 2.0
    /// Process or container memory over its limit at or above which memory is "near the edge"
    /// (`killed_after_memory_pressure`).
    public var memoryFraction = 0.9
    /// Share of consistency probes that may differ from the first answer before
    /// `inconsistent_outputs` fires (0: any difference).
    public var inconsistentFraction = 0.0
    /// Rules not to run.
    public var off: Set<String> = []

    public init() {}
}

/// The rules, run in a fixed order; critical findings first in the result.
public struct DiagnosisRules: Sendable {
    public var limits: DiagnosisLimits

    public init(limits: DiagnosisLimits = DiagnosisLimits()) { self.limits = limits }

    /// Every rule's name, in the order they run.
    public static let names = ["gpu_out_of_memory", "killed_after_memory_pressure", "uneven_gpus", "coordinated_omission",
                               "generator_behind", "generator_cpu", "requests_cut_off", "arrivals_dropped", "telemetry_missing",
                               "inconsistent_outputs"]

    /// The diagnoses the facts call for (none for a healthy run).
    public func evaluate(_ facts: DiagnosisFacts) -> [Diagnosis] {
        var found: [Diagnosis] = []
        func add(_ d: Diagnosis?) { if let d, !limits.off.contains(d.rule) { found.append(d) } }
        add(outOfMemory(facts))
        add(killedAfterMemoryPressure(facts))
        add(unevenGPUs(facts))
        add(coordinatedOmission(facts))
        add(generatorBehind(facts))
        add(generatorCPU(facts))
        add(cutOff(facts))
        add(dropped(facts))
        add(telemetryMissing(facts))
        add(inconsistentOutputs(facts))
        return found.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
    }

    // MARK: Server

    /// Answers that say the GPU ran out of memory, or GPU memory at the edge.
    func outOfMemory(_ f: DiagnosisFacts) -> Diagnosis? {
        let s = f.snapshot
        let oom = s.errors.entries.filter { Self.saysOutOfMemory($0.key.message) }
        let oomCount = oom.values.reduce(UInt64(0)) { $0 + $1.occurrences }
        let peak = s.telemetry?.gpuMemoryPeakFraction
        let nearEdge = peak.map { $0 >= limits.gpuMemoryFraction } ?? false
        guard oomCount > 0 || nearEdge else { return nil }
        var evidence: [String] = []
        if oomCount > 0 {
            let sample = oom.keys.map(\.message).sorted().first.map { ": \"\(Self.excerpt($0))\"" } ?? ""
            evidence.append("\(oomCount) answer\(oomCount == 1 ? "" : "s") said out of memory\(sample)")
        }
        if let peak, let t = s.telemetry {
            let modelled = t.gpuMemoryPeakModelled ? " (modelled)" : ""
            evidence.append("GPU memory peaked at \(Self.percent(peak))\(modelled)\(t.gpuMemoryPeakWhere.map { " on \($0)" } ?? "")")
        }
        var action: String
        if let b = f.batchMemory {
            let modelled = b.modelled ? " of the modelled device memory" : " of GPU memory"
            if let fit = b.largestFitting, fit < b.maxBatchSize {
                action = "lower the batch size: max_batch_size \(b.maxBatchSize) -> \(fit) fits in \(Self.percent(limits.fitFraction))\(modelled) for requests of ~\(b.inputTokens) input and \(b.outputTokens) output tokens (engine.batching.max_batch_size, or a smaller preset with `b` in the dashboard)"
            } else if let fit = b.largestFitting {
                action = "the batch size (\(b.maxBatchSize); up to \(fit) fits in \(Self.percent(limits.fitFraction))\(modelled)) is not the cause: look at request length (max_tokens, prompt size) or a smaller model / lower precision"
            } else {
                action = "not even one request of ~\(b.inputTokens)+\(b.outputTokens) tokens fits in \(Self.percent(limits.fitFraction))\(modelled): use a larger GPU, lower precision (int8) or a smaller model"
            }
        } else {
            action = "lower the server's batch size until GPU memory stays under \(Self.percent(limits.fitFraction)) (vLLM --max-num-seqs / --gpu-memory-utilization, Triton max_batch_size, TGI --max-batch-total-tokens)"
        }
        return Diagnosis(rule: "gpu_out_of_memory", severity: oomCount > 0 ? .critical : .warning,
                         symptom: oomCount > 0 ? "the server ran out of GPU memory" : "GPU memory is near its limit",
                         cause: "batches too large for the device memory (KV cache grows with batch size and sequence length)",
                         evidence: evidence, action: action)
    }

    /// Refused or reset connections, or 503s, that began after memory neared its limit: the
    /// server process was probably killed (OOM killer, container limit) and restarted.
    ///
    /// Memory is GPU memory from telemetry, or a process's or container's memory against its
    /// limit (``TelemetrySummary/memorySeries``: `process_resident_memory_bytes`, cAdvisor's
    /// working set against `container_spec_memory_limit_bytes`, the engine's own RSS against
    /// its cgroup limit). The earliest reading at the edge counts; absent gauges never fire.
    func killedAfterMemoryPressure(_ f: DiagnosisFacts) -> Diagnosis? {
        let s = f.snapshot
        guard let t = s.telemetry, let start = f.startNanos else { return nil }
        var pressure: (t: Double, what: String)?
        if let gpu = t.series.first(where: { p in
            guard let u = p.usedBytes, let tot = p.totalBytes, tot > 0 else { return false }
            return Double(u) / Double(tot) >= limits.gpuMemoryFraction
        }) {
            let frac = Double(gpu.usedBytes!) / Double(gpu.totalBytes!)
            pressure = (gpu.t, "GPU memory at \(Self.percent(frac)) at \(Self.seconds(gpu.t)) (\(gpu.source)\(gpu.gpu.map { ", \($0)" } ?? ""))")
        }
        if let m = t.memorySeries.first(where: { ($0.usedFraction ?? 0) >= limits.memoryFraction }), m.t < (pressure?.t ?? .infinity) {
            let limit = m.limitGauge.map { " of \($0)" } ?? " of its limit"
            pressure = (m.t, "\(m.gauge) at \(Self.percent(m.usedFraction!))\(limit) (\(Self.gibibytes(m.usedBytes)) of \(Self.gibibytes(m.limitBytes!))) at \(Self.seconds(m.t)) (\(m.source)\(m.what.map { ", \($0)" } ?? ""))")
        }
        guard let pressure else { return nil }
        let pressureNanos = start &+ UInt64(max(pressure.t, 0) * 1e9)
        let after = s.errors.entries.filter { key, stat in
            stat.firstSeenNanos >= pressureNanos && (key.message.contains("HTTP 503") || Self.isConnectionLoss(key.message))
        }
        let n = after.values.reduce(UInt64(0)) { $0 + $1.occurrences }
        guard n > 0, let first = after.values.map(\.firstSeenNanos).min() else { return nil }
        let firstAt = Double(first &- min(first, start)) / 1e9
        return Diagnosis(rule: "killed_after_memory_pressure", severity: .critical,
                         symptom: "the service became unavailable after memory pressure",
                         cause: "the server process was probably killed for memory (the kernel's OOM killer or a container limit) and is restarting",
                         evidence: [pressure.what,
                                    "then \(n) refused/reset connections or 503s, the first at \(Self.seconds(firstAt))"],
                         action: "raise the server's memory request/limit (Kubernetes resources.limits.memory), or lower the batch size / KV-cache share so it stays under \(Self.percent(min(limits.gpuMemoryFraction, limits.memoryFraction)))")
    }

    /// Latency swings while the GPUs are used unevenly.
    func unevenGPUs(_ f: DiagnosisFacts) -> Diagnosis? {
        let s = f.snapshot
        let gpus = (s.telemetry?.gpus ?? []).compactMap { g in g.usedFraction.map { (g, $0) } }
        guard gpus.count >= 2, let lo = gpus.min(by: { $0.1 < $1.1 }), let hi = gpus.max(by: { $0.1 < $1.1 }),
              hi.1 - lo.1 >= limits.gpuSpread else { return nil }
        guard let p50 = s.total.corrected.percentile(50), let p99 = s.total.corrected.percentile(99), p50 > 0,
              Double(p99) / Double(p50) >= limits.p99OverP50 else { return nil }
        return Diagnosis(rule: "uneven_gpus", severity: .warning,
                         symptom: "latency swings while the GPUs are used unevenly",
                         cause: "requests are not spread evenly across GPUs (routing, one replica taking more, or a GPU shared with another job)",
                         evidence: ["p99 \(Self.millis(p99)) is \(String(format: "%.1f", Double(p99) / Double(p50)))x p50 \(Self.millis(p50))",
                                    "GPU memory \(Self.percent(hi.1)) on \(hi.0.name) vs \(Self.percent(lo.1)) on \(lo.0.name) (\(hi.0.source))"],
                         action: "balance the load across GPUs (replica routing, tensor parallelism) or partition the busy GPU (MIG) so one model gets dedicated slices")
    }

    // MARK: The measurement itself

    /// Corrected latency far above raw: requests waited before they could be sent.
    func coordinatedOmission(_ f: DiagnosisFacts) -> Diagnosis? {
        let t = f.snapshot.total
        guard let c = t.corrected.percentile(99), let r = t.raw.percentile(99), r > 0,
              Double(c) / Double(r) >= limits.correctedOverRaw, c - r >= 10_000 else { return nil }
        return Diagnosis(rule: "coordinated_omission", severity: .warning,
                         symptom: "corrected p99 is far above the raw p99",
                         cause: "requests waited for a free user or slot before they were sent (the server, or a stall, held the load back); a closed-loop tool that times from the send would report the raw figure",
                         evidence: ["p99 \(Self.millis(c)) from the intended start vs \(Self.millis(r)) from the send"],
                         action: "trust the corrected figures; to see the server's limit, run the open model (`arrival:`) at the rate you need, with enough max_in_flight")
    }

    func generatorBehind(_ f: DiagnosisFacts) -> Diagnosis? {
        guard let p99 = f.snapshot.scheduleLag.percentile(99), Double(p99) / 1000 > limits.lagP99Millis else { return nil }
        return Diagnosis(rule: "generator_behind", severity: .warning,
                         symptom: "the load generator fell behind its schedule (p99 lag \(Self.millis(p99))); results measure the client, not only the server",
                         cause: "Cicada could not start requests on time: its CPU, or too few workers for the load",
                         evidence: ["schedule lag p99 \(Self.millis(p99)) (limit \(String(format: "%g", limits.lagP99Millis))ms)"]
                            + (f.generatorCPUFraction.map { ["generator CPU \(Self.percent($0)) of its workers"] } ?? []),
                         action: "give Cicada more cores (--workers), run it on another machine than the server, or split the load across machines")
    }

    func generatorCPU(_ f: DiagnosisFacts) -> Diagnosis? {
        guard let cpu = f.generatorCPUFraction, cpu >= limits.generatorCPU else { return nil }
        return Diagnosis(rule: "generator_cpu", severity: .warning,
                         symptom: "Cicada's process used \(Self.percent(cpu)) of its workers' CPU",
                         cause: "Cicada itself was near saturation (its CPU includes an embedded engine or local target running in the same process): latency figures may include its own delays",
                         evidence: ["generator CPU \(Self.percent(cpu)) of its workers"],
                         action: "give Cicada more cores (--workers) or another machine; check the schedule lag")
    }

    func cutOff(_ f: DiagnosisFacts) -> Diagnosis? {
        let n = f.snapshot.cutOff
        guard n > 0 else { return nil }
        return Diagnosis(rule: "requests_cut_off", severity: .warning,
                         symptom: "\(n) request(s) were still in flight when the run stopped and were cut off: they are in no latency figure above, and each took at least as long as the run's stop timeout",
                         cause: "the server was slow or stalled at the end of the run",
                         evidence: ["\(n) requests cut off"],
                         action: "raise --stop-timeout to let them finish, or look at the server's tail latency")
    }

    func dropped(_ f: DiagnosisFacts) -> Diagnosis? {
        let n = f.snapshot.dropped
        guard n > 0 else { return nil }
        return Diagnosis(rule: "arrivals_dropped", severity: .warning,
                         symptom: "\(n) arrivals of the open model were never sent",
                         cause: "every max_in_flight slot was busy and the queue was full (or the run ended with them waiting): the server could not keep up with the offered rate",
                         evidence: ["\(n) arrivals dropped"],
                         action: "lower the rate to what the server sustains, or raise arrival.max_in_flight / max_queue if the server has room")
    }

    func telemetryMissing(_ f: DiagnosisFacts) -> Diagnosis? {
        guard let t = f.snapshot.telemetry else { return nil }
        // Sources that never read are reported only when they were asked for explicitly; a
        // failing source that did read before, or a stale one, always.
        let bad = t.sources.filter { ($0.stale && $0.reads > 0) || ($0.reads == 0 && $0.failures > 0 && !$0.name.hasPrefix("local")) }
        guard !bad.isEmpty else { return nil }
        return Diagnosis(rule: "telemetry_missing", severity: .warning,
                         symptom: "server or GPU telemetry is missing or stale",
                         cause: "an exporter did not answer: GPU memory and server gauges from it are absent, and rules that need them cannot fire",
                         evidence: bad.map { "\($0.name): \($0.reads) reads, \($0.failures) failed\($0.error.map { "; \(Self.excerpt($0))" } ?? "")" },
                         action: "check the exporter URLs in telemetry.prometheus (DCGM :9400, Triton :8002, vLLM /metrics), or set telemetry.scrape_target: false")
    }

    // MARK: Answers

    /// The same greedy request answered differently: the consistency probe's mismatches.
    func inconsistentOutputs(_ f: DiagnosisFacts) -> Diagnosis? {
        guard let c = f.consistency, c.differing > 0, c.compared > 0,
              Double(c.differing) / Double(c.compared) > limits.inconsistentFraction else { return nil }
        var evidence = ["\(c.differing) of \(c.compared) probe answers differed from the first (same request, temperature \(String(format: "%g", c.spec.temperature)), \(c.spec.kind.rawValue) \(c.spec.path))"]
        let first = c.samples.min(by: { $0.position < $1.position })
        if let m = first {
            evidence.append("first differing position: character \(m.position) (word \(m.word)): expected \"\(Self.excerpt(m.expected))\", got \"\(Self.excerpt(m.got))\"")
        }
        // The count and the first position lead the symptom: the live panel shows its first lines.
        let parting = first.map { ", from character \($0.position) (word \($0.word))" } ?? ""
        return Diagnosis(rule: "inconsistent_outputs", severity: .warning,
                         symptom: "\(c.differing) of \(c.compared) probe answers differed\(parting): the server answered the same temperature-0 request differently",
                         cause: "precision or quantization loss: low-precision kernels (int8, fp8) or batch-size-dependent reductions change the greedy choice, or replicas differ in hardware or weights",
                         evidence: evidence,
                         action: "compare FP16 against INT8: run the same probe against an fp16 deployment (engine.precision: fp16, or a compare: variant); if fp16 agrees with itself, the quantization is the cause; else look for batch-variant kernels or mixed replicas")
    }

    // MARK: Helpers

    static func saysOutOfMemory(_ message: String) -> Bool {
        let m = message.lowercased()
        // 507 is the embedded engine's out-of-memory answer (its body carries CUDA's message).
        return m.contains("out of memory") || m.contains("outofmemory") || m.hasPrefix("http 507")
    }

    static func isConnectionLoss(_ message: String) -> Bool {
        let m = message.lowercased()
        return m.contains("couldn't connect") || m.contains("connection refused") || m.contains("connection closed") || m.contains("reset")
    }

    static func percent(_ f: Double) -> String { String(format: "%.0f%%", f * 100) }
    static func millis(_ micros: UInt64) -> String { String(format: "%.2fms", Double(micros) / 1000) }
    static func seconds(_ s: Double) -> String { String(format: "%.0fs", s) }
    static func gibibytes(_ b: UInt64) -> String { String(format: "%.2f GiB", Double(b) / 1_073_741_824) }
    static func excerpt(_ s: String) -> String { s.count > 80 ? String(s.prefix(80)) + "…" : s }
}

/// When each rule first fired over a live run: the dashboard's diagnoses panel, newest first.
public struct DiagnosisLog: Sendable {
    private var firstFired: [String: Double] = [:]

    public init() {}

    /// Records `found` as seen at `seconds` into the run; returns them with the time each rule
    /// first fired, newest first. A rule that stops firing keeps its first time for when it
    /// fires again.
    public mutating func update(_ found: [Diagnosis], atSeconds seconds: Double) -> [Diagnosis] {
        found.map { d in
            var d = d
            let at = firstFired[d.rule] ?? seconds
            firstFired[d.rule] = at
            d.firedAtSeconds = at
            return d
        }.enumerated().sorted { a, b in
            (a.element.firedAtSeconds ?? 0, -a.offset) > (b.element.firedAtSeconds ?? 0, -b.offset)
        }.map(\.element)
    }
}
